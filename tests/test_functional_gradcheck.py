"""Every nn.functional addition against central finite differences in float64 (no torch).

Inputs stay away from kinks (0 for relu-like functions, |d| = beta for smooth_l1) and
saturation, where a finite difference straddles two formulas.
"""

import numpy as np
import pytest

from tinygrad_rnn import Tensor, gradcheck, nn
from tinygrad_rnn.opcases import away

F = nn.functional
TOL = {"eps": 1e-6, "atol": 1e-7, "rtol": 1e-5}
RNG = np.random.default_rng(0)


def leaf(array):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def smooth(*shape):
    return leaf(away(*shape, kinks=(0.0, 1.0, -1.0, 3.0, 0.5, -0.5), margin=0.05)(RNG))


ACTIVATIONS = [
    ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 1.0}),
    ("logsigmoid", {}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("leaky_relu", {"negative_slope": 0.1}),
    ("elu", {"alpha": 0.7}),
    ("silu", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), ACTIVATIONS, ids=[str(a) for a in ACTIVATIONS])
def test_activations_match_finite_differences(name, kwargs):
    x = smooth(3, 4)
    assert gradcheck(lambda x: getattr(F, name)(x, **kwargs), [x], **TOL)


def test_activations_are_stable_for_large_inputs():
    x = Tensor([-1000.0, -30.0, 30.0, 1000.0], requires_grad=True)
    for name in ("softplus", "logsigmoid", "gelu", "elu", "silu"):
        y = getattr(F, name)(x)
        y.sum().backward()
        assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(x.grad)), name
        x.grad = None
    # log(1 + e^-30) through log1p: exact to full relative precision
    expected = [0.0, np.log1p(np.exp(-30.0)), 30.0, 1000.0]
    np.testing.assert_allclose(F.softplus(x).data, expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("huber_loss", {"delta": 0.5}),
    ],
)
def test_regression_losses_match_finite_differences_with_broadcasting(name, kwargs, reduction):
    x, y = leaf([[0.3], [-1.2], [2.1]]), leaf([0.1, -0.45, 1.45, -2.0])
    d = np.abs(x.data - y.data)
    assert np.all(np.abs(d - 0.5) > 0.01) and np.all(d > 0.01)  # no kink inside a difference
    with pytest.warns(UserWarning, match="different to the input size"):
        assert gradcheck(
            lambda x, y: getattr(F, name)(x, y, reduction=reduction, **kwargs), [x, y], **TOL
        )


def test_weighted_regression_losses_match_finite_differences():
    x, y, w = leaf(RNG.normal(size=(2, 3))), leaf(RNG.normal(size=(2, 3))), leaf(RNG.random((2, 3)))
    for loss in (F.mse_loss, F.l1_loss, F.huber_loss):
        assert gradcheck(lambda x, y, w, loss=loss: loss(x, y, weight=w), [x, y, w], **TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_options_match_finite_differences(reduction):
    x = leaf(RNG.normal(size=(3, 4, 2)))
    target = np.array([[0, 3], [-100, 2], [1, -100]])
    w = RNG.uniform(0.5, 2.0, size=4)
    fn = lambda x: F.cross_entropy(  # noqa: E731
        x, target, weight=w, label_smoothing=0.2, reduction=reduction
    )
    assert gradcheck(fn, [x], **TOL)
    assert gradcheck(lambda x: F.nll_loss(x, target, weight=w, reduction=reduction), [x], **TOL)


def test_cross_entropy_probability_targets_match_finite_differences():
    x, q = leaf(RNG.normal(size=(2, 3))), leaf(RNG.random((2, 3)))
    assert gradcheck(lambda x, q: F.cross_entropy(x, q, label_smoothing=0.1), [x, q], **TOL)
    unbatched = leaf(RNG.normal(size=5))
    assert gradcheck(lambda x: F.cross_entropy(x, np.array(2)), [unbatched], **TOL)


def test_binary_losses_match_finite_differences():
    p, y = leaf(RNG.uniform(0.1, 0.9, size=(2, 3))), leaf(RNG.random((2, 3)))
    w = RNG.random((2, 3))
    assert gradcheck(lambda p, y: F.binary_cross_entropy(p, y, weight=w), [p, y], **TOL)
    z = leaf(RNG.normal(size=(2, 3)) * 3)
    fn = lambda z, y: F.binary_cross_entropy_with_logits(  # noqa: E731
        z, y, pos_weight=np.array([1.0, 2.0, 0.5]), weight=w
    )
    assert gradcheck(fn, [z, y], **TOL)


def test_binary_cross_entropy_is_finite_at_saturated_probabilities():
    p = Tensor([0.0, 1.0, 0.5], requires_grad=True)
    loss = F.binary_cross_entropy(p, Tensor([1.0, 0.0, 1.0]), reduction="sum")
    np.testing.assert_allclose(loss.data, 200.0 + np.log(2.0))  # each log clamped at -100
    loss.backward()
    np.testing.assert_allclose(p.grad, [-1e12, 1e12, -2.0])


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_finite_differences(mode):
    x = leaf(RNG.normal(size=(2, 3, 4)))
    pads = (2, 1, 1, 2) if mode != "constant" else (2, -1, 0, 1, 1, 0)
    assert gradcheck(lambda x: F.pad(x, pads, mode=mode), [x], **TOL)


X = Tensor(np.zeros((3, 4)))
TARGETS = np.array([0, 1, 2])


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: F.cross_entropy(X, TARGETS, weight="w"), TypeError, "weight must be numbers"),
        (lambda: F.cross_entropy(X, TARGETS, label_smoothing="a"), TypeError, "label_smoothing"),
        (lambda: F.nll_loss(X, TARGETS, ignore_index="a"), TypeError, "ignore_index must be an"),
        (lambda: F.cross_entropy(X, None), TypeError, "integer class indices"),
        (lambda: F.mse_loss(X, "abc"), TypeError, "mse_loss: target must be numbers"),
        (lambda: F.huber_loss(X, X, delta="a"), TypeError, "delta must be a number"),
        (lambda: F.huber_loss(X, X, delta=0.0), ValueError, "non-positive values for delta"),
        (lambda: F.smooth_l1_loss(X, X, beta=None), TypeError, "beta must be a number"),
        (lambda: F.smooth_l1_loss(X, X, beta=-1.0), ValueError, "negative values for beta"),
        (lambda: F.binary_cross_entropy(Tensor([np.nan]), Tensor([1.0])), ValueError, "between"),
        (lambda: F.binary_cross_entropy(X, np.zeros(4)), ValueError, "target size"),
        (lambda: F.softplus(X, beta="a"), TypeError, "beta must be a number"),
        (lambda: F.gelu(X, approximate="fast"), ValueError, "'none' or 'tanh'"),
        (lambda: F.leaky_relu(X, negative_slope=None), TypeError, "negative_slope"),
        (lambda: F.elu(X, alpha="1"), TypeError, "alpha must be a number"),
        (lambda: F.pad(X, "ab"), TypeError, "tuple of integers"),
        (lambda: F.pad(X, (1.5, 1)), TypeError, "tuple of integers"),
        (lambda: F.pad(X, (1, 1), value="a"), TypeError, "value must be a number"),
        (lambda: F.pad(X, (1, 1), mode="reflect", value=2.0), ValueError, "doesn't take in value"),
        (lambda: F.one_hot(np.array([1]), "3"), ValueError, "num_classes must be -1 or"),
        (lambda: F.one_hot(np.array([], dtype=int)), ValueError, "empty tensor"),
        (lambda: F.mse_loss(X, X, weight=np.ones(4)), ValueError, "Weights and input must"),
        (lambda: F.softmax(X, dim=5), IndexError, "softmax.*5"),
        (lambda: F.softmax(X, dim=1, dtype="abc"), TypeError, "softmax: dtype='abc'"),
        (lambda: F.relu(X, inplace=X), TypeError, "relu: inplace must be True or False"),
        (lambda: F.dropout(X, 0.5, training="yes"), TypeError, "training must be True or"),
        (lambda: F.mse_loss(X, X, reduction=np.zeros(2)), ValueError, "unknown reduction"),
        (lambda: F.l1_loss(X, X, size_average=X), TypeError, "size_average must be True"),
        (lambda: F.pad(X, Tensor(1.0)), TypeError, "tuple of integers"),
        (lambda: F.pad(X, (1, 1), mode=np.zeros(2)), ValueError, "unknown padding mode"),
        (lambda: F.one_hot(np.array([1]), np.zeros(2)), ValueError, "num_classes must be"),
        (lambda: F.binary_cross_entropy(X, X, weight=np.ones(5)), ValueError, r"weight of shape"),
        (
            lambda: F.binary_cross_entropy_with_logits(X, X, pos_weight=np.ones(3)),
            ValueError,
            "pos",
        ),
        (lambda: F.gelu(X, approximate=None), ValueError, "'none' or 'tanh'"),
    ],
)
def test_bad_arguments_are_named_in_the_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
