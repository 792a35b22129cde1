"""Bool and integer tensors given to floating ops come out float64, not numpy's float16.

numpy computes exp, tanh, sqrt, log... of bool, int8 and uint8 in float16 (three digits);
torch gives its default float dtype, which here is float64. Each op must agree exactly with
the same op on the input cast to float64 first.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn.nn.functional as F
from tinygrad_rnn import Tensor
from tinygrad_rnn.ops import Erf

FLOAT_OPS = {
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "log1p": lambda x: x.log1p(),
    "expm1": lambda x: x.expm1(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "sqrt": lambda x: x.sqrt(),
    "rsqrt": lambda x: x.rsqrt(),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "erf": lambda x: Erf.apply(x),
    "reciprocal": lambda x: x.reciprocal(),
    "div": lambda x: x / 3,
    "rdiv": lambda x: 3 / x,
    "div_self": lambda x: x / x,
    "pow_float": lambda x: x**0.5,
    "mean": lambda x: x.mean(),
    "var": lambda x: x.var(),
    "std": lambda x: x.std(),
    "norm": lambda x: x.norm(),
    "norm_1": lambda x: x.norm(1),
    "norm_0": lambda x: x.norm(0),
    "norm_3": lambda x: x.norm(3),
    "norm_inf": lambda x: x.norm(float("inf")),
    "norm_-inf": lambda x: x.norm(-float("inf")),
    "softmax": lambda x: x.softmax(0),
    "log_softmax": lambda x: x.log_softmax(0),
    "logsumexp": lambda x: x.logsumexp(0),
    "F.softmax": lambda x: F.softmax(x, 0),
    "F.softplus": F.softplus,
    "F.softplus_beta": lambda x: F.softplus(x, beta=2.0),
    "F.logsigmoid": F.logsigmoid,
    "F.gelu": F.gelu,
    "F.gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "F.silu": F.silu,
    "F.elu": F.elu,
    "F.leaky_relu": F.leaky_relu,
    "F.binary_cross_entropy": lambda x: F.binary_cross_entropy(x.sigmoid(), x.sigmoid()),
}
DTYPES = [np.bool_, np.int8, np.uint8, np.int16, np.int32, np.int64]


@st.composite
def non_float_arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    n = draw(st.integers(1, 5))
    if dtype.kind == "b":
        values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    else:
        low = 0 if dtype.kind == "u" else -6
        values = draw(st.lists(st.integers(low, 6), min_size=n, max_size=n))
    return np.array(values, dtype=dtype)


@settings(max_examples=40, deadline=None)
@given(data=non_float_arrays(), name=st.sampled_from(sorted(FLOAT_OPS)))
def test_float_promotion_bool_and_int_inputs_give_float64_equal_to_the_float64_op(data, name):
    op = FLOAT_OPS[name]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        got = op(Tensor(data)).data
        want = op(Tensor(data.astype(np.float64))).data
    assert got.dtype == np.float64, f"{name} of {data.dtype}: {got.dtype}"
    np.testing.assert_array_equal(got, want, err_msg=f"{name} of {data.dtype} {data}")


@pytest.mark.parametrize("name", sorted(FLOAT_OPS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_float_promotion_every_op_and_dtype_once(name, dtype):
    # values whose square or cube leaves the small integer types (6**3 wraps int8)
    kind = np.dtype(dtype).kind
    values = {"b": [1, 0, 1, 1], "u": [0, 1, 7, 200]}.get(kind, [-6, 0, 2, 6])
    data = np.array(values, dtype)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        got = FLOAT_OPS[name](Tensor(data)).data
        want = FLOAT_OPS[name](Tensor(data.astype(np.float64))).data
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)


def test_float_promotion_bool_exp_has_full_precision():
    assert Tensor([True, False]).exp().data[0] == np.e  # float16 gave 2.719


def test_float_promotion_norm_counts_and_abs_in_float():
    assert Tensor([True, False, True]).norm(0).item() == 2.0  # counted in bool: 1
    assert Tensor(np.array([-128, 1], np.int8)).norm(float("inf")).item() == 128.0  # int8 abs wraps


@pytest.mark.parametrize("dtype", DTYPES)
def test_float_promotion_bool_and_int_tensors_cannot_require_grad(dtype):
    """As torch (only floating point tensors can require gradients), with the dtype named."""
    with pytest.raises(TypeError, match=f"floating-point.*{np.dtype(dtype).name}"):
        Tensor(np.zeros(2, dtype), requires_grad=True)
    with pytest.raises(TypeError, match=np.dtype(dtype).name):
        Tensor(np.zeros(2, dtype)).requires_grad_()
    t = Tensor(np.zeros(2, dtype))
    name = np.dtype(dtype).name
    with pytest.raises(TypeError, match=f"requires_grad: only floating-point.*{name}"):
        t.requires_grad = True  # set directly, as torch refuses it too
    assert t.requires_grad is False
    t.requires_grad = False  # what it already is: allowed
    assert t.requires_grad is False


def test_requires_grad_flag_changes_on_leaves_only_as_in_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((Tensor, torch.tensor),):
        a, b = ours([1.0, 2.0]), theirs([1.0, 2.0], dtype=torch.float64)
        for x in (a, b):
            x.requires_grad = True
            y = x * 2
            y.requires_grad_()  # restating what it is: allowed
            assert y.requires_grad
            for flag in (True, False):  # a node an op made keeps its flag
                with pytest.raises(RuntimeError):
                    y.requires_grad = flag
            with pytest.raises(RuntimeError):
                y.requires_grad_(False)
            x.requires_grad = False  # a leaf may drop it
            assert not x.requires_grad and (x * 2).requires_grad is False
    with pytest.raises(RuntimeError, match="made by mul"):
        (Tensor([1.0], requires_grad=True) * 2).requires_grad = False


@settings(max_examples=15, deadline=None)
@given(data=non_float_arrays(), name=st.sampled_from(["exp", "tanh", "sigmoid", "sin", "log1p"]))
def test_float_promotion_gradients_through_a_promoted_input_are_float64(data, name):
    """w * op(int input): w's gradient is op(x) in float64, as with the float64 input."""
    op = FLOAT_OPS[name]
    grads = []
    for x in (data, data.astype(np.float64)):
        w = Tensor(np.full(data.shape, 0.5), requires_grad=True)
        with np.errstate(all="ignore"):
            (w * op(Tensor(x))).sum().backward()
        grads.append(w.grad)
    assert grads[0].dtype == np.float64
    np.testing.assert_array_equal(grads[0], grads[1])


TORCH_NAMES = {  # ours -> torch's, for the ops torch also runs on bool and integer tensors
    "exp": lambda t, x: t.exp(x),
    "log": lambda t, x: t.log(x),
    "log1p": lambda t, x: t.log1p(x),
    "expm1": lambda t, x: t.expm1(x),
    "tanh": lambda t, x: t.tanh(x),
    "sigmoid": lambda t, x: t.sigmoid(x),
    "sqrt": lambda t, x: t.sqrt(x),
    "rsqrt": lambda t, x: t.rsqrt(x),
    "sin": lambda t, x: t.sin(x),
    "cos": lambda t, x: t.cos(x),
    "erf": lambda t, x: t.erf(x),
    "reciprocal": lambda t, x: t.reciprocal(x),
    "div": lambda t, x: x / 3,
    "rdiv": lambda t, x: 3 / x,
    "div_self": lambda t, x: x / x,
    "pow_float": lambda t, x: x**0.5,
    "logsumexp": lambda t, x: t.logsumexp(x, 0),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(TORCH_NAMES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_float_promotion_matches_torchs_promotion_in_float64(name, dtype):
    """torch gives its default float dtype (float32) for these; ours is float64, and the
    values are torch's on the input cast to float64."""
    torch = pytest.importorskip("torch")
    data = np.array([1, 0, 1, 1] if np.dtype(dtype).kind in "bu" else [-3, 0, 2, 5], dtype)
    theirs = TORCH_NAMES[name](torch, torch.from_numpy(data))
    assert theirs.dtype == torch.get_default_dtype()
    want = TORCH_NAMES[name](torch, torch.from_numpy(data.astype(np.float64))).numpy()
    with np.errstate(all="ignore"):
        got = FLOAT_OPS[name](Tensor(data)).data
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.bool_, np.int8, np.int64, np.float64])
def test_sign_keeps_the_dtype_as_torch_and_a_bool_is_its_own_sign(dtype):
    data = np.array([True, False, True] if dtype is np.bool_ else [-3, 0, 2], dtype)
    got = Tensor(data).sign().data
    assert got.dtype == data.dtype
    np.testing.assert_array_equal(got, data if dtype is np.bool_ else np.sign(data))
