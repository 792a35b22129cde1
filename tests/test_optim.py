"""Optimizers and clipping: PyTorch parity, checkpoints of the state, clear errors."""

import itertools
import math

import numpy as np
import pytest

from tinygrad_rnn import Tensor, optim

SHAPES = [(3, 4), (4,)]


def _init_arrays(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5, 3))
    weights = [rng.normal(size=s) for s in SHAPES]
    return x, weights


def _loss_ours(x, params):
    W, b = params
    h = (Tensor(x) @ W + b).tanh()
    # a quartic term keeps gradients growing with the weights, so weight decay and momentum
    # have something to act against
    return (h * h).sum() + 0.1 * (W**4).sum() - 0.3 * h.sum()


def _loss_torch(torch, x, params):
    W, b = params
    h = torch.tanh(torch.as_tensor(x) @ W + b)
    return (h * h).sum() + 0.1 * (W**4).sum() - 0.3 * h.sum()


def _run_ours(cls, options, steps=10, seed=0):
    x, weights = _init_arrays(seed)
    params = [Tensor(w.copy(), requires_grad=True) for w in weights]
    opt = cls(params, **options)
    for _ in range(steps):
        opt.zero_grad()
        _loss_ours(x, params).backward()
        opt.step()
    return [p.data for p in params]


def _run_torch(torch, name, options, steps=10, seed=0):
    x, weights = _init_arrays(seed)
    params = [torch.tensor(w, requires_grad=True) for w in weights]
    opt = getattr(torch.optim, name)(params, **options, foreach=False)
    for _ in range(steps):
        opt.zero_grad()
        _loss_torch(torch, x, params).backward()
        opt.step()
    return [p.detach().numpy() for p in params]


def _grid(**choices):
    keys = list(choices)
    return [dict(zip(keys, values)) for values in itertools.product(*choices.values())]


SGD_CASES = [
    c
    for c in _grid(
        lr=[0.05],
        momentum=[0.0, 0.9],
        dampening=[0.0, 0.3],
        weight_decay=[0.0, 0.1],
        nesterov=[False, True],
    )
    if not c["nesterov"] or (c["momentum"] > 0 and c["dampening"] == 0)
] + [dict(lr=0.05, momentum=0.5, maximize=True)]
ADAM_CASES = _grid(
    lr=[0.05],
    betas=[(0.9, 0.999), (0.5, 0.8)],
    eps=[1e-8, 1e-2],
    weight_decay=[0.0, 0.1],
    amsgrad=[False, True],
) + [dict(lr=0.05, maximize=True)]
ADAGRAD_CASES = _grid(
    lr=[0.1],
    lr_decay=[0.0, 0.2],
    weight_decay=[0.0, 0.1],
    initial_accumulator_value=[0.0, 0.5],
    eps=[1e-10, 1e-3],
)
RMSPROP_CASES = _grid(
    lr=[0.01],
    alpha=[0.99, 0.6],
    eps=[1e-8, 1e-3],
    weight_decay=[0.0, 0.1],
    momentum=[0.0, 0.9],
    centered=[False, True],
)
CASES = (
    [("SGD", c) for c in SGD_CASES]
    + [("Adam", c) for c in ADAM_CASES]
    + [("Adagrad", c) for c in ADAGRAD_CASES]
    + [("RMSprop", c) for c in RMSPROP_CASES]
)


@pytest.mark.torch
@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_optimizer_matches_torch_for_ten_steps(name, options):
    torch = pytest.importorskip("torch")
    ours = _run_ours(getattr(optim, name), options)
    theirs = _run_torch(torch, name, options)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    # the run must actually move the parameters, or the comparison proves nothing
    assert not np.allclose(ours[0], _init_arrays()[1][0])


@pytest.mark.parametrize(
    "name,options", [CASES[5], ("Adam", ADAM_CASES[7]), ("RMSprop", RMSPROP_CASES[-1])]
)
def test_optimizer_updates_arrays_in_place(name, options):
    x, weights = _init_arrays()
    params = [Tensor(w.copy(), requires_grad=True) for w in weights]
    arrays = [p.data for p in params]
    opt = getattr(optim, name)(params, **options)
    _loss_ours(x, params).backward()
    opt.step()
    assert all(p.data is a for p, a in zip(params, arrays))
    assert not np.array_equal(arrays[0], weights[0])


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.Adagrad, optim.RMSprop])
def test_optimizer_skips_params_without_grad(cls):
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    opt = cls([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    assert b.grad is None
    np.testing.assert_array_equal(b.data, np.ones(2))
    assert not np.array_equal(a.data, np.ones(3))


@pytest.mark.parametrize("name,options", [c for c in CASES if c[1].get("weight_decay")][::3])
def test_optimizer_state_dict_resume_is_exact(name, options):
    cls = getattr(optim, name)
    straight = _run_ours(cls, options, steps=8)

    x, weights = _init_arrays()
    params = [Tensor(w.copy(), requires_grad=True) for w in weights]
    opt = cls(params, **options)
    for _ in range(4):
        opt.zero_grad()
        _loss_ours(x, params).backward()
        opt.step()
    saved = opt.state_dict()
    for st in saved["state"].values():
        assert all(isinstance(v, (np.ndarray, int, float)) for v in st.values())

    # a fresh optimizer over copies of the parameters continues the same run bit for bit
    copies = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    resumed = cls(copies, lr=123.0)
    resumed.load_state_dict(saved)
    assert resumed.param_groups[0]["lr"] == options["lr"]
    for _ in range(4):
        resumed.zero_grad()
        _loss_ours(x, copies).backward()
        resumed.step()
    for a, b in zip(straight, copies):
        np.testing.assert_array_equal(a, b.data)


def test_optimizer_state_dict_is_a_copy():
    p = Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    saved = opt.state_dict()
    before = saved["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], before)


def test_optimizer_load_state_dict_rejects_mismatch():
    p = Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    saved = opt.state_dict()
    other = optim.Adam([Tensor(np.ones(4), requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=r"exp_avg.*\(3,\).*\(4,\)"):
        other.load_state_dict(saved)
    two = optim.Adam([Tensor(np.ones(3), requires_grad=True)] * 1 + [p], lr=0.1)
    with pytest.raises(ValueError, match="1 parameters saved, 2 here"):
        two.load_state_dict(saved)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: optim.SGD(p, lr=-0.1), "Invalid learning rate"),
        (
            lambda p: optim.SGD(p, lr=0.1, nesterov=True),
            "Nesterov momentum requires a momentum and zero dampening",
        ),
        (
            lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
            "dampening = 0",
        ),
        (lambda p: optim.SGD(p, lr=0.1, momentum=-1), "Invalid momentum"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "beta parameter at index 0"),
        (lambda p: optim.Adam(p, eps=-1), "Invalid epsilon"),
        (lambda p: optim.Adam(p, weight_decay=-1), "Invalid weight_decay"),
        (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay"),
        (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "initial_accumulator"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), "Invalid alpha"),
        (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda p: optim.SGD(p + p, lr=0.1), "more than once"),
        (lambda p: optim.SGD([{"params": p, "lr": 0.1, "betas": 1}]), "unknown options"),
    ],
)
def test_optimizer_rejects_bad_options(make, message):
    params = [Tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(ValueError, match=message):
        make(params)


def test_optimizer_rejects_non_tensors():
    with pytest.raises(TypeError, match="not a Tensor"):
        optim.SGD([np.ones(2)], lr=0.1)


def test_optimizer_param_groups_override_defaults():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    (a.sum() + b.sum()).backward()
    opt.step()
    np.testing.assert_allclose(a.data, 0.9)
    np.testing.assert_allclose(b.data, 0.0)


# ----- clipping ------------------------------------------------------------------------------


def _grad_params(seed=1, scale=1.0):
    rng = np.random.default_rng(seed)
    params = []
    for shape in [(3, 4), (4,), (2, 2, 2)]:
        p = Tensor(rng.normal(size=shape), requires_grad=True)
        p.grad = scale * rng.normal(size=shape)
        params.append(p)
    return params


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ours = _grad_params()
    theirs = [torch.tensor(p.data, requires_grad=True) for p in ours]
    for t, p in zip(theirs, ours):
        t.grad = torch.tensor(p.grad.copy())
    total = optim.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type, foreach=False)
    assert abs(total - expected.item()) <= 1e-12 * max(1.0, total)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=0, atol=1e-12)


def test_clip_grad_norm_returns_norm_before_clipping_and_caps_coefficient():
    params = _grad_params(scale=10.0)
    flat = np.concatenate([p.grad.ravel() for p in params])
    total = optim.clip_grad_norm_(params, 1.0)
    assert total == pytest.approx(np.linalg.norm(flat), rel=1e-14)
    after = np.concatenate([p.grad.ravel() for p in params])
    assert np.linalg.norm(after) == pytest.approx(1.0 * total / (total + 1e-6), rel=1e-12)
    # below the threshold nothing changes (the coefficient is capped at 1)
    small = _grad_params(scale=1e-3)
    before = [p.grad.copy() for p in small]
    optim.clip_grad_norm_(small, 1.0)
    for p, b in zip(small, before):
        np.testing.assert_array_equal(p.grad, b)


def test_clip_grad_norm_skips_missing_grads():
    params = _grad_params()
    params[1].grad = None
    expected = np.sqrt(sum(np.sum(p.grad**2) for p in params if p.grad is not None))
    total = optim.clip_grad_norm_(params, 0.1)
    assert total == pytest.approx(expected, rel=1e-14)
    assert params[1].grad is None
    assert optim.clip_grad_norm_([Tensor(np.ones(2), requires_grad=True)], 1.0) == 0.0


def test_clip_grad_norm_nonfinite_error_names_the_parameter():
    params = _grad_params()
    params[2].named("W_hh")
    params[2].grad[0, 1, 1] = np.nan
    before = [p.grad.copy() for p in params]
    with pytest.raises(RuntimeError, match="non-finite gradient in 'W_hh'"):
        optim.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    for p, b in zip(params, before):  # nothing was scaled before the error
        np.testing.assert_array_equal(p.grad, b)
    named = [("rnn.weight_hh_l0", params[2]), ("fc.bias", params[1])]
    with pytest.raises(RuntimeError, match=r"rnn\.weight_hh_l0") as info:
        optim.clip_grad_norm_(named, 1.0, error_if_nonfinite=True)
    assert "fc.bias" not in str(info.value)
    # without the flag the non-finite norm is returned and propagates, as in PyTorch
    assert math.isnan(optim.clip_grad_norm_(params, 1.0))


@pytest.mark.torch
def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    ours = _grad_params(scale=2.0)
    theirs = [torch.tensor(p.data, requires_grad=True) for p in ours]
    for t, p in zip(theirs, ours):
        t.grad = torch.tensor(p.grad.copy())
    optim.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())
    assert max(np.abs(p.grad).max() for p in ours) == 0.7


def test_clip_rejects_bad_arguments():
    with pytest.raises(ValueError, match="clip_value"):
        optim.clip_grad_value_(_grad_params(), -1.0)
    with pytest.raises(ValueError, match="norm_type"):
        optim.clip_grad_norm_(_grad_params(), 1.0, norm_type=0)


def test_a_torch_style_subclass_can_keep_its_own_state():
    """torch's optimizers keep `state` as a defaultdict(dict): a subclass's own step() may
    write self.state[p][...] for a parameter it has not seen, and state_dict() saves it."""

    class Momentum(optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    st = self.state[p]
                    st["buf"] = st.get("buf", 0.0) * 0.5 + p.grad
                    p.data -= group["lr"] * st["buf"]

    p = Tensor(np.ones(3), requires_grad=True)
    opt = Momentum([p])
    for _ in range(2):
        p.grad = np.full(3, 2.0)
        opt.step()
    np.testing.assert_allclose(p.data, 1 - 0.1 * 2.0 - 0.1 * 3.0)
    np.testing.assert_allclose(opt.state_dict()["state"][0]["buf"], np.full(3, 3.0))
