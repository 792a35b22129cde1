"""PyTorch's spellings and return types on Tensor: the rule families issue 10 found wrong.

Each test states torch's behaviour as numbers (so it runs without torch); the tests marked
`torch` also compare with torch directly.
"""

import numpy as np
import pytest

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor


def _leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_transpose_with_negative_axes_has_the_right_gradient():
    x = _leaf([[[0.3], [-0.5]]])
    y = x.transpose((0, -1, -2))
    assert y.shape == (1, 1, 2)
    (y * x.transpose(0, 2, 1)).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)
    assert x.grad.shape == (1, 2, 1)


@pytest.mark.parametrize("perm", [(0, 0, 1), (0, 1), (0, 1, 3), (0, 1, -4)])
def test_transpose_rejects_what_is_not_a_permutation(perm):
    with pytest.raises(ValueError, match=r"transpose: .*not a permutation.*\(1, 2, 3\)"):
        Tensor(np.zeros((1, 2, 3))).transpose(perm)


def test_transpose_two_axes_as_torch_on_every_rank():
    m = _leaf(np.arange(6.0).reshape(2, 3))
    assert m.transpose(0, 1).shape == m.transpose(1, 0).shape == m.t().shape == (3, 2)
    v = _leaf([1.0, 2.0])
    assert v.transpose(0, -1).shape == (2,) and v.t().shape == (2,)
    s = _leaf(3.0)
    assert s.transpose(0, 0).shape == s.transpose(-1, 0).shape == s.t().shape == ()
    with pytest.raises(IndexError, match="transpose: dim 1 is out of range for a 1-d"):
        v.transpose(0, 1)
    with pytest.raises(ValueError, match="t: expects a tensor with <= 2 dimensions"):
        Tensor(np.zeros((1, 2, 3))).t()


def test_keepdim_and_dim_on_every_reduction_with_numpy_aliases():
    x = _leaf(np.arange(6.0).reshape(2, 3))
    for name in ("sum", "mean", "amax", "amin", "prod", "var", "std", "logsumexp", "norm"):
        fn = getattr(x, name)
        assert fn(dim=1, keepdim=True).shape == (2, 1), name
        assert fn(dim=(0, 1), keepdim=True).shape == (1, 1), name
    for name in ("max", "min"):
        assert getattr(x, name)(dim=1, keepdim=True).values.shape == (2, 1)
        assert getattr(x, name)(1, True).indices.shape == (2, 1)
    assert x.sum(axis=1, keepdims=True).shape == x.mean(1, keepdims=True).shape == (2, 1)
    assert x.sum([0, 1]).shape == x.sum(()).shape == ()  # torch: dim=() reduces every axis
    with pytest.raises(TypeError, match="sum: give dim or axis, not both"):
        x.sum(dim=0, axis=1)
    with pytest.raises(ValueError, match="dim 0 appears more than once"):
        x.sum((0, -2))


def test_max_min_return_values_and_indices_as_torch():
    x = _leaf([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    out = x.max(dim=1)
    values, indices = out
    assert out.values is values and out.indices is indices and out[0] is values
    assert indices.dtype == np.int64 and not indices.requires_grad
    np.testing.assert_array_equal(indices.data, [1, 0])
    np.testing.assert_array_equal(x.min(0).indices.data, [0, 1, 1])
    full = x.max()
    assert isinstance(full, Tensor) and full.shape == () and full.item() == 3.0
    s = _leaf(2.0)
    assert s.max(0).values.shape == s.max(0).indices.shape == ()
    np.testing.assert_array_equal(
        x.max(_leaf([2.5, 2.5, 2.5])).data, [[2.5, 3, 3], [2.5, 2.5, 2.5]]
    )
    assert x.argmax().item() == 1 and x.argmin(dim=1, keepdim=True).shape == (2, 1)


def test_comparisons_return_bool_tensors_outside_the_graph():
    x = _leaf([-1.0, 0.5, 2.0])
    for mask in (x < 1, x <= 0.5, x > 0, x >= 0.5, x.eq(0.5), x.ne(0.5), 1 > x, x.lt(x * 2)):
        assert isinstance(mask, Tensor) and mask.dtype == bool
        assert not mask.requires_grad and mask.op is None
    np.testing.assert_array_equal((x > 0).data, [False, True, True])
    y = tg.where(x > 0, x, x * 0.1) + x[x > 0].sum() + x.masked_fill(x < 0, 0.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.1, 5.0, 5.0])  # where 1, sum 3, masked_fill 1


def test_size_is_numpys_count_and_torchs_method():
    x = Tensor(np.zeros((2, 3)))
    assert x.size == 6 and x.size() == (2, 3) and x.size(-1) == 3 and x.numel() == 6
    assert x.dim() == 2 and Tensor(1.0).size() == ()


def test_integer_and_array_split_by_a_slice_index_as_torch():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    y = x[0, :, [0, 1]]  # torch: the int applies first -> (3, 2); numpy would give (2, 3)
    assert y.shape == (3, 2)
    np.testing.assert_array_equal(y.data, x.data[0][:, [0, 1]])
    assert x[1, ..., [2, 0]].shape == (3, 2) and x[None, 0, :, [0, 1]].shape == (1, 3, 2)
    assert x[Tensor(np.array(1)), :, [0, 1]].shape == (3, 2)  # a 0-d index is an int
    assert x[[0, 1], 0, [0, 1]].shape == (2,)  # no slice between: numpy and torch agree
    (y * y).sum().backward()
    expected = np.zeros((2, 3, 4))
    expected[0, :, :2] = 2 * x.data[0, :, :2]
    np.testing.assert_array_equal(x.grad, expected)


def test_new_ops_check_their_arguments():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"mm: both operands must be 2-D"):
        x.mm(Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"bmm: needs \(B, n, k\)"):
        x.bmm(x)
    with pytest.raises(ValueError, match="dot: needs two 1-D"):
        x.dot(x)
    with pytest.raises(IndexError, match="gather: index 3 is out of range for dim 1"):
        x.gather(1, np.array([[0, 3], [1, 1]]))
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool tensor"):
        x.masked_fill(np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match="expand: axis 1 has size 3, cannot expand it to 4"):
        x.expand(2, 4)
    with pytest.raises(IndexError, match="unsqueeze: dim 4 is out of range"):
        x.unsqueeze(4)


def test_prod_std_norm_at_zero_follow_torch():
    x = _leaf([0.0, 2.0, 3.0])
    x.prod().backward()
    np.testing.assert_array_equal(x.grad, [6.0, 0.0, 0.0])
    z = _leaf([0.0, 0.0])
    (z.norm() + z.std() + z.norm(3) + z.sign().sum()).backward()
    np.testing.assert_array_equal(z.grad, [0.0, 0.0])  # torch: 0, not nan
    b, e = _leaf([0.0, 0.0, 4.0]), _leaf([2.0, 0.0, 0.5])
    (b**e).sum().backward()
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, 0.25])
    np.testing.assert_allclose(e.grad, [0.0, 0.0, 2 * np.log(4.0)])


@pytest.mark.torch
def test_the_examples_above_against_torch():
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).normal(size=(2, 3, 4))
    x, xt = Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    for f in (
        lambda a: a[0, :, [0, 1]] * 2,
        lambda a: a.transpose((0, -1, -2)) if isinstance(a, Tensor) else a.permute(0, -1, -2),
        lambda a: a.max(dim=-1).values + a.min(1, keepdim=True)[0].sum(),
        lambda a: a.std(1, keepdim=True) + a.var(-1, unbiased=False).sum() + a.norm(dim=0),
        lambda a: a.logsumexp(2) - a.prod(0).sum() + a.cumsum(-1).amax(0).sum(),
    ):
        x.grad, xt.grad = None, None
        ours, theirs = f(x), f(xt)
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-12)


# The shrunk failures of tests/test_differential_torch.py, kept as regressions: each is an
# expression and its leaf values; values and gradients must match torch (nan where torch).
REGRESSIONS = {
    "abs_of_nan_passes_0": (lambda x: x.log().abs(), [-1.0]),
    "relu_of_nan_passes_the_gradient": (lambda x: (x.log() * x).relu(), [-1.0]),
    "sign_of_nan_is_0": (lambda x: x.log().sign() * x, [-1.0, 2.0]),
    "relu_selects_an_inf_gradient": (lambda x: x.relu().log(), [0.0, 1.0]),
    "clamp_selects_an_inf_gradient": (
        lambda x: x.clamp(0.5, 1.0).log1p() * 0 + x.clamp(min=0.0).log(),
        [0.0, 0.7],
    ),
    "zero_base_pow_times_inf": (lambda x: (0.0**x).log(), [1.0, -1.0, 0.0]),
    "prod_of_inf_uses_z_over_x": (lambda x: x.log().prod(0), [0.0]),
    "pow_half_at_minus_inf": (lambda x: x.log() ** 0.5, [0.0, 4.0]),
    "var_of_minus_inf": (lambda x: x.abs().log().var(1, correction=0), [[[0.0, 0.0, 1.0]]]),
    "max_full_with_nan": (lambda x: x.log().max(), [-1.0, 2.0]),
    "max_dim_with_nan": (lambda x: x.log().max(0).values, [2.0, -1.0]),
    "max_all_selects_an_inf_gradient": (lambda x: x.max().abs().log() + x.sum(), [0.0, -1.0]),
    "std_at_0_stops_an_inf_gradient": (lambda x: x.std(0, correction=0).abs().log(), [0.5, 0.5]),
    "norm_at_0_stops_an_inf_gradient": (lambda x: x.norm().log() + x.norm(3).log(), [0.0, 0.0]),
    "split_of_an_empty_axis": (lambda x: x[x > 5].split(2)[0].sum() + x.sum(), [1.0, 2.0]),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_differential_regressions_match_torch(name):
    torch = pytest.importorskip("torch")
    fn, values = REGRESSIONS[name]
    x = Tensor(np.array(values), requires_grad=True)
    xt = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        ours, theirs = fn(x), fn(xt)
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
        ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-12)
