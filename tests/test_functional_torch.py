"""nn.functional against PyTorch in float64: values and every gradient, over random shapes,
options and awkward values (exact zeros, kinks, saturated probabilities, ignored targets).

Each function also has a finite-difference check in test_functional_gradcheck.py, which
needs no torch.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_rnn import Tensor, nn

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
F = nn.functional
TF = torch.nn.functional
TOL = 1e-9
REDUCTIONS = st.sampled_from(["mean", "sum", "none"])
SHAPES = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


def values(rng, shape, scale=2.0):
    """Normal values with some exact zeros, integers and large magnitudes mixed in."""
    x = rng.normal(size=shape) * scale
    special = rng.random(size=shape)
    x = np.where(special < 0.1, 0.0, x)
    x = np.where((special >= 0.1) & (special < 0.15), np.round(x), x)
    x = np.where((special >= 0.15) & (special < 0.2), x * 30, x)
    return np.asarray(x, dtype=np.float64)


def run_both(ours_fn, torch_fn, arrays, grad_mask=None, seed=0):
    """Call both with the same arrays (float arrays become leaves needing grad); compare."""
    grad_mask = grad_mask or [a.dtype.kind == "f" for a in arrays]
    ours = [Tensor(a.copy(), requires_grad=g) for a, g in zip(arrays, grad_mask)]
    theirs = [torch.from_numpy(a.copy()).requires_grad_(g) for a, g in zip(arrays, grad_mask)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = ours_fn(*ours)
        out_t = torch_fn(*theirs)
    assert out.shape == tuple(out_t.shape), (out.shape, tuple(out_t.shape))
    expected = out_t.detach().numpy()
    np.testing.assert_allclose(out.data, expected, rtol=TOL, atol=TOL, equal_nan=True)
    if not out_t.requires_grad or np.isnan(expected).any():
        return out
    g = np.random.default_rng(seed).uniform(0.5, 1.5, size=out.shape)
    out.backward(g)
    out_t.backward(torch.from_numpy(g))
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if not grad_mask[k]:
            continue
        want = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=TOL, err_msg=f"gradient {k}")
    return out


# ----- activations -----------------------------------------------------------------------

ACTIVATIONS = {
    "relu": ({},),
    "tanh": ({},),
    "sigmoid": ({},),
    "silu": ({},),
    "logsigmoid": ({},),
    "softplus": ({}, {"beta": 2.0}, {"beta": 0.5, "threshold": 3.0}, {"threshold": 1}),
    "gelu": ({}, {"approximate": "tanh"}, {"approximate": "none"}),
    "leaky_relu": ({}, {"negative_slope": 0.2}, {"negative_slope": -0.5}),
    "elu": ({}, {"alpha": 0.5}, {"alpha": 2.0}),
}
ACTIVATION_CASES = [(name, kw) for name, options in ACTIVATIONS.items() for kw in options]


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(ACTIVATION_CASES), SHAPES, st.integers(0, 2**16))
def test_activations_match_torch(case, shape, seed):
    name, kwargs = case
    x = values(np.random.default_rng(seed), shape)
    run_both(
        lambda x: getattr(F, name)(x, **kwargs),
        lambda x: getattr(TF, name)(x, **kwargs),
        [x],
    )


@settings(max_examples=15, deadline=None)
@given(SHAPES.filter(len), st.integers(0, 2**16), st.booleans())
def test_softmax_family_matches_torch_including_the_implicit_dim(shape, seed, explicit):
    x = values(np.random.default_rng(seed), shape)
    kwargs = {"dim": -1} if explicit else {}
    for name in ("softmax", "log_softmax"):
        ours, theirs = getattr(F, name), getattr(TF, name)
        run_both(lambda x, f=ours: f(x, **kwargs), lambda x, f=theirs: f(x, **kwargs), [x])


# ----- regression losses -----------------------------------------------------------------


@st.composite
def broadcast_pair(draw):
    shape = draw(SHAPES)
    target = tuple(draw(st.sampled_from([n, 1])) for n in shape)
    target = target[draw(st.integers(0, len(target))) :]  # drop some leading axes
    if draw(st.booleans()):
        return target, shape
    return shape, target


REGRESSION = {
    "mse_loss": ({}, "weight"),
    "l1_loss": ({}, "weight"),
    "huber_loss": ({}, {"delta": 0.5}, {"delta": 3.0}, "weight"),
    "smooth_l1_loss": ({}, {"beta": 0.5}, {"beta": 0.0}, {"beta": 2.0}),
}
REGRESSION_CASES = [(n, o) for n, options in REGRESSION.items() for o in options]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(REGRESSION_CASES), broadcast_pair(), REDUCTIONS, st.integers(0, 2**16))
def test_regression_losses_match_torch_with_broadcasting_and_weights(case, shapes, red, seed):
    name, option = case
    rng = np.random.default_rng(seed)
    x, y = values(rng, shapes[0]), values(rng, shapes[1])
    if rng.random() < 0.3:
        y = x.copy() if x.shape == y.shape else y  # d = 0 exactly: the kinks
    arrays = [x, y]
    if option == "weight":
        arrays.append(rng.uniform(0.0, 2.0, size=x.shape))

        def ours(x, y, w):
            return getattr(F, name)(x, y, reduction=red, weight=w)

        def theirs(x, y, w):
            return getattr(TF, name)(x, y, reduction=red, weight=w)
    else:

        def ours(x, y):
            return getattr(F, name)(x, y, reduction=red, **option)

        def theirs(x, y):
            return getattr(TF, name)(x, y, reduction=red, **option)

    run_both(ours, theirs, arrays)


def test_broadcast_target_warns_as_torch():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(Tensor(np.zeros((3, 1))), Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"input shape \(3,\) and target shape \(4,\)"):
        F.l1_loss(Tensor(np.zeros(3)), Tensor(np.zeros(4)))


# ----- classification --------------------------------------------------------------------


@st.composite
def class_problem(draw):
    layout = draw(st.sampled_from(["C", "NC", "NCd", "NCdd"]))
    c = draw(st.integers(1, 4))
    n = draw(st.integers(0 if layout == "NC" else 1, 3))
    extra = [draw(st.integers(1, 3)) for _ in range(layout.count("d"))]
    shape = (c,) if layout == "C" else (n, c, *extra)
    target_shape = () if layout == "C" else (n, *extra)
    return shape, target_shape, c


@settings(max_examples=50, deadline=None)
@given(
    class_problem(),
    REDUCTIONS,
    st.booleans(),  # weight
    st.sampled_from([-100, 0, 2]),  # ignore_index
    st.floats(0.0, 1.0) | st.just(0.0),  # label_smoothing
    st.floats(0.0, 1.0),  # fraction of targets ignored
    st.integers(0, 2**16),
)
def test_cross_entropy_and_nll_match_torch(problem, red, weighted, ignore, smooth, frac, seed):
    shape, target_shape, c = problem
    rng = np.random.default_rng(seed)
    x = values(rng, shape)
    t = rng.integers(0, c, size=target_shape)
    t = np.where(rng.random(size=target_shape) < frac, ignore, t).astype(np.int64)
    w = rng.uniform(0.1, 2.0, size=c) if weighted else None
    wt = None if w is None else torch.from_numpy(w)
    options = {"reduction": red, "ignore_index": ignore}
    run_both(
        lambda x: F.cross_entropy(x, t, weight=w, label_smoothing=smooth, **options),
        lambda x: TF.cross_entropy(
            x, torch.from_numpy(t), weight=wt, label_smoothing=smooth, **options
        ),
        [x],
    )
    logp = np.asarray(torch.log_softmax(torch.from_numpy(x), 0 if len(shape) == 1 else 1))
    run_both(
        lambda x: F.nll_loss(x, t, weight=w, **options),
        lambda x: TF.nll_loss(x, torch.from_numpy(t), weight=wt, **options),
        [logp],
    )


@settings(max_examples=20, deadline=None)
@given(class_problem(), REDUCTIONS, st.booleans(), st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_cross_entropy_with_class_probabilities_matches_torch(problem, red, weighted, eps, seed):
    shape, _, c = problem
    rng = np.random.default_rng(seed)
    x = values(rng, shape)
    q = rng.uniform(0, 1, size=shape)
    w = rng.uniform(0.1, 2.0, size=c) if weighted else None
    wt = None if w is None else torch.from_numpy(w)
    run_both(
        lambda x, q: F.cross_entropy(x, q, weight=w, reduction=red, label_smoothing=eps),
        lambda x, q: TF.cross_entropy(x, q, weight=wt, reduction=red, label_smoothing=eps),
        [x, q],
    )


def test_all_targets_ignored_gives_nan_mean_and_zero_gradient_as_torch():
    x = Tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
    loss = F.cross_entropy(x, np.array([-100, -100, -100]))
    assert np.isnan(loss.data)
    loss.backward()
    np.testing.assert_array_equal(x.grad, 0.0)
    assert F.nll_loss(x, np.array([1, 1, 1]), ignore_index=1, reduction="sum").data == 0.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda x: F.nll_loss(x, np.array([0, 1, 4])), IndexError, "Target 4 is out of bounds"),
        (lambda x: F.nll_loss(x, np.array([0, -1, 1])), IndexError, "Target -1"),
        (lambda x: F.cross_entropy(x, np.array([0, 1])), ValueError, "batch_size"),
        (lambda x: F.cross_entropy(x, np.array([0.0, 1.0, 1.0])), ValueError, "shape"),
        (lambda x: F.cross_entropy(x, np.array([0, 1, 1]), weight=np.ones(3)), ValueError, "all 4"),
        (lambda x: F.cross_entropy(x, np.zeros(3, int), label_smoothing=1.5), ValueError, "label"),
        (lambda x: F.cross_entropy(x, np.ones((3, 4)), ignore_index=0), ValueError, "ignore_index"),
        (lambda x: F.cross_entropy(x, np.zeros(3, int), reduction="avg"), ValueError, "'avg'"),
    ],
)
def test_classification_losses_refuse_bad_input_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call(Tensor(np.zeros((3, 4))))


# ----- binary ----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(SHAPES, REDUCTIONS, st.booleans(), st.integers(0, 2**16))
def test_binary_cross_entropy_matches_torch_including_saturated_inputs(shape, red, weighted, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=shape)
    x = np.where(rng.random(size=shape) < 0.15, rng.integers(0, 2, size=shape), x)  # 0 or 1
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(rng.uniform(0, 1, size=shape))
    arrays = [x, y] + ([rng.uniform(0, 2, size=shape)] if weighted else [])

    def ours(x, y, w=None):
        return F.binary_cross_entropy(x, y, weight=w, reduction=red)

    def theirs(x, y, w=None):
        return TF.binary_cross_entropy(x, y, weight=w, reduction=red)

    run_both(ours, theirs, arrays, grad_mask=[True, True, False])


@settings(max_examples=20, deadline=None)
@given(SHAPES, REDUCTIONS, st.booleans(), st.booleans(), st.integers(0, 2**16))
def test_bce_with_logits_matches_torch(shape, red, weighted, pos, seed):
    rng = np.random.default_rng(seed)
    x, y = values(rng, shape, scale=5.0), np.asarray(rng.uniform(0, 1, size=shape))
    w = rng.uniform(0, 2, size=shape) if weighted else None
    p = rng.uniform(0.5, 3, size=shape[-1:]) if pos else None
    as_t = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
    run_both(
        lambda x, y: F.binary_cross_entropy_with_logits(
            x, y, weight=w, reduction=red, pos_weight=p
        ),
        lambda x, y: TF.binary_cross_entropy_with_logits(
            x, y, weight=as_t(w), reduction=red, pos_weight=as_t(p)
        ),
        [x, y],
    )


def test_binary_cross_entropy_refuses_values_outside_zero_one():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(Tensor([0.5, 1.2]), Tensor([0.0, 1.0]))


# ----- pad, one_hot, legacy reductions ---------------------------------------------------


@st.composite
def pad_case(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    if mode == "constant":
        ndim = draw(st.integers(1, 3))
        n_axes = draw(st.integers(1, ndim))
    else:
        n_axes = draw(st.integers(1, 2))
        ndim = n_axes + draw(st.integers(1, 2))
    shape = tuple(draw(st.integers(2, 4)) for _ in range(ndim))
    pads = []
    for k in range(n_axes):
        size = shape[ndim - 1 - k]
        low = -1 if mode in ("constant", "replicate") else 0
        high = size - 1 if mode == "reflect" else size
        pads += [draw(st.integers(low, high)), draw(st.integers(low, high))]
    value = draw(st.sampled_from([None, 0.0, 2.5])) if mode == "constant" else None
    return shape, tuple(pads), mode, value


@settings(max_examples=25, deadline=None)
@given(pad_case(), st.integers(0, 2**16))
def test_pad_matches_torch(case, seed):
    shape, pads, mode, value = case
    x = values(np.random.default_rng(seed), shape)
    try:
        TF.pad(torch.from_numpy(x), pads, mode=mode, value=value)
    except (RuntimeError, NotImplementedError):  # torch refuses it: so must we, clearly
        with pytest.raises(ValueError, match="pad: "):
            F.pad(Tensor(x), pads, mode=mode, value=value)
        return
    run_both(
        lambda x: F.pad(x, pads, mode=mode, value=value),
        lambda x: TF.pad(x, pads, mode=mode, value=value),
        [x],
    )


@pytest.mark.parametrize(
    ("shape", "pads", "mode"),
    [
        ((2, 2, 2), (0, 0, -1, -1), "replicate"),  # H empty, W kept: torch returns (2, 0, 2)
        ((2, 2, 2), (-1, -1, 0, 0), "reflect"),
        ((1, 2, 2, 2), (0, 0, 0, 0, -1, -1), "replicate"),
    ],
)
def test_pad_empties_one_axis_among_several_as_torch(shape, pads, mode):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    expected = TF.pad(torch.from_numpy(x), pads, mode=mode).numpy()
    got = F.pad(Tensor(x), pads, mode=mode).data
    assert got.shape == expected.shape


def test_pad_refuses_when_every_padded_axis_would_be_empty():
    with pytest.raises(ValueError, match="too small"):
        F.pad(Tensor(np.zeros((2, 2, 2))), (-1, -1, -1, -1), mode="replicate")


@pytest.mark.parametrize(
    ("shape", "pads", "mode", "match"),
    [
        ((2, 5), (1, 2, 3), "constant", "divisible by 2"),
        ((2, 5), (1, 1, 1, 1, 1, 1), "constant", "less than or equal to two times"),
        ((2, 5), (1, 1), "wrap", "unknown padding mode 'wrap'"),
        ((5,), (1, 1), "reflect", "not supported for 1D input"),
        ((2, 5), (5, 0), "reflect", "less than the corresponding input dimension"),
        ((2, 5), (6, 0), "circular", "wrapping around more than once"),
        ((2, 5), (1, -6), "constant", "negative size"),
    ],
)
def test_pad_refuses_what_torch_refuses(shape, pads, mode, match):
    with pytest.raises(ValueError, match=match):
        F.pad(Tensor(np.zeros(shape)), pads, mode=mode)


@settings(max_examples=15, deadline=None)
@given(SHAPES, st.integers(1, 5), st.booleans(), st.integers(0, 2**16))
def test_one_hot_matches_torch(shape, classes, infer, seed):
    t = np.random.default_rng(seed).integers(0, classes, size=shape)
    n = -1 if infer else classes
    if infer and not t.size:
        return
    ours = F.one_hot(t, n)
    theirs = TF.one_hot(torch.from_numpy(t), n).numpy()
    assert ours.dtype == np.int64 and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.data, theirs)


def test_one_hot_refuses_bad_classes():
    with pytest.raises(ValueError, match="smaller than num_classes"):
        F.one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(np.array([-1]))
    with pytest.raises(TypeError, match="index tensor"):
        F.one_hot(np.array([1.0]))


@pytest.mark.parametrize("legacy", [{"size_average": False}, {"reduce": False}])
def test_legacy_size_average_and_reduce_map_to_reduction_as_torch(legacy):
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    with pytest.warns(DeprecationWarning, match="size_average and reduce are deprecated"):
        F.mse_loss(x, y, **legacy)
    run_both(
        lambda x, y: F.mse_loss(x, y, **legacy),
        lambda x, y: TF.mse_loss(x, y, **legacy),
        [x, y],
    )


def test_inplace_activations_are_refused():
    for name in ("relu", "leaky_relu", "elu", "silu"):
        with pytest.raises(ValueError, match="inplace=True is not supported"):
            getattr(F, name)(Tensor(np.ones(2)), inplace=True)
