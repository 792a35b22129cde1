"""The benchmark's hand-derived numpy BPTT computes what the engine computes, to 1e-10.

benchmarks/rnn.py times nn.RNN + nn.Linear + summed cross_entropy against
benchmarks/numpy_char_rnn.py; the comparison only means something if both compute the
same loss and the same gradients, which this checks (and the numpy derivation itself
against central differences).
"""

import importlib.util
import pathlib

import numpy as np
import pytest

from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import functional as F

RNN_PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
PATH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "numpy_char_rnn.py"


@pytest.fixture(scope="module")
def by_hand():
    spec = importlib.util.spec_from_file_location("numpy_char_rnn", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ours(params, inputs, targets, h_init, vocab, hidden):
    rnn, head = nn.RNN(vocab, hidden), nn.Linear(hidden, vocab)
    rnn.load_state_dict({f"{k}_l0": params[k] for k in RNN_PARAMETERS})
    head.load_state_dict({"weight": params["weight_hy"], "bias": params["bias_hy"]})
    x = Tensor(np.eye(vocab)[inputs][:, None, :])  # (T, 1, V) one-hot
    h0 = Tensor(h_init.reshape(1, 1, hidden), requires_grad=True)
    out, h_n = rnn(x, h0)
    loss = F.cross_entropy(head(out.reshape(len(inputs), hidden)), targets, reduction="sum")
    loss.backward()
    grads = {
        "weight_ih": rnn.weight_ih_l0.grad,
        "weight_hh": rnn.weight_hh_l0.grad,
        "bias_ih": rnn.bias_ih_l0.grad,
        "bias_hh": rnn.bias_hh_l0.grad,
        "weight_hy": head.weight.grad,
        "bias_hy": head.bias.grad,
    }
    return float(loss.data), grads, h0.grad.reshape(hidden), h_n.data.reshape(hidden)


@pytest.mark.parametrize("style", ["loss_and_grads", "loss_and_grads_loop"])
@pytest.mark.parametrize("vocab,hidden,steps", [(65, 100, 25), (7, 5, 3)])
def test_numpy_char_rnn_matches_the_engine_to_1e10(by_hand, style, vocab, hidden, steps):
    params = by_hand.init_params(vocab, hidden, seed=1)
    rng = np.random.default_rng(2)
    inputs, targets = rng.integers(0, vocab, size=(2, steps))
    h_init = rng.uniform(-0.5, 0.5, size=hidden)
    by_hand_fn = getattr(by_hand, style)
    loss, grads, dh_init, h_last = by_hand_fn(params, inputs, targets, h_init)
    ours = _ours(params, inputs, targets, h_init, vocab, hidden)
    assert abs(loss - ours[0]) < 1e-10 * max(1.0, abs(loss))
    for name in by_hand.PARAMETERS:
        np.testing.assert_allclose(grads[name], ours[1][name], rtol=0, atol=1e-10, err_msg=name)
    np.testing.assert_allclose(dh_init, ours[2], rtol=0, atol=1e-10)
    np.testing.assert_allclose(h_last, ours[3], rtol=0, atol=1e-12)


def test_numpy_char_rnn_gradients_match_finite_differences(by_hand):
    params = by_hand.init_params(5, 4, seed=3)
    inputs, targets = np.array([0, 3, 3, 1]), np.array([3, 3, 1, 4])
    h_init = np.linspace(-0.5, 0.5, 4)
    _, grads, dh_init, _ = by_hand.loss_and_grads(params, inputs, targets, h_init)
    eps = 1e-6
    for name, value in [*params.items(), ("h_init", h_init)]:
        analytic = dh_init if name == "h_init" else grads[name]
        for index in np.ndindex(value.shape):
            original = value[index]
            value[index] = original + eps
            plus = by_hand.loss_and_grads(params, inputs, targets, h_init)[0]
            value[index] = original - eps
            minus = by_hand.loss_and_grads(params, inputs, targets, h_init)[0]
            value[index] = original
            numeric = (plus - minus) / (2 * eps)
            assert abs(analytic[index] - numeric) < 1e-7, (name, index)
