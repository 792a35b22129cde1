"""Composite expressions against PyTorch in float64: values and gradients to 1e-10.

Each expression is written once and run twice, with `lib` = tinygrad_rnn or torch: our
Tensor takes PyTorch's habits (`dim=`, `clamp`, `chunk`, `cat`), so the text is the same.
"""

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn.opcases import micrograd_example

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _max(x, dim):
    out = x.max(dim=dim)
    return getattr(out, "values", out)  # torch returns (values, indices)


def classifier_loss(lib, x, W, b):
    logits = (x @ W + b).tanh() * 3.0
    picked = logits.log_softmax(dim=-1)[[0, 1, 2, 3], [1, 0, 4, 1]]
    return -picked.mean()


def unrolled_rnn(lib, x, W_ih, W_hh, b):
    h = x[0] @ W_ih * 0.0
    states = []
    for t in range(x.shape[0]):
        h = (x[t] @ W_ih + h @ W_hh + b).tanh()
        states.append(h)
    return (h * h).sum() + lib.stack(states).mean() - lib.stack(states, dim=1)[:, -1].sum()


def lstm_step(lib, x, h, c, W, U, b):
    i, f, g, o = (x @ W + h @ U + b).chunk(4, dim=-1)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h_next = o.sigmoid() * c_next.tanh()
    return (h_next * h_next).sum() + (c_next**2).mean()


def mixed_bag(lib, x, y):
    joined = lib.cat([x.abs().sqrt(), (y * y + 1.0) ** 1.5], dim=0)  # x, y away from 0
    rows = joined[[0, 2, 0, 3]] / (1.0 + y.exp().sum(dim=0, keepdims=True))
    picked = lib.where(lib.tensor(COND), rows, rows.clamp(min=-0.3, max=0.4))
    return _max(picked, dim=1).sum() + (2**x).mean() - (1 - y).softmax(dim=0)[1].sum()


def micrograd(lib, a, b):
    return micrograd_example(a, b)


COND = np.array([[True, False, True], [False, True, True], [True, True, False], [False] * 3])
rng = np.random.default_rng(7)


def _away(shape):
    x = rng.uniform(0.2, 1.5, size=shape)
    return x * rng.choice([-1.0, 1.0], size=shape)


EXPRESSIONS = {
    "classifier_loss": (
        classifier_loss,
        [rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)],
    ),
    "unrolled_rnn": (
        unrolled_rnn,
        [rng.normal(size=s) for s in [(5, 2, 3), (3, 4), (4, 4), (4,)]],
    ),
    "lstm_step": (
        lstm_step,
        [rng.normal(size=s) for s in [(2, 3), (2, 4), (2, 4), (3, 16), (4, 16), (16,)]],
    ),
    "mixed_bag": (mixed_bag, [_away((2, 3)), _away((2, 3))]),
    "micrograd": (micrograd, [np.array(-4.0), np.array(2.0)]),
}


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_composite_matches_torch_forward_and_gradients(name):
    fn, arrays = EXPRESSIONS[name]
    ours = [tg.Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(tg, *ours)
    expected = fn(torch, *theirs)
    out.backward()
    expected.backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    for k, (x, t) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"{name}: input {k}"
        )
