"""Every primitive, through the one table of op cases: forward against numpy, backward
against central finite differences in float64, dtypes kept in float32."""

import numpy as np
import pytest

from tinygrad_rnn import GradcheckError, Tensor, gradcheck, opcases, ops, topo_order
from tinygrad_rnn.ops import Op

CASES = opcases.CASES
ids = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_op_forward_matches_numpy(case):
    out = case.fn(*case.tensors())
    expected = case.reference(*case.arrays())
    assert isinstance(out.data, np.ndarray)
    assert out.shape == expected.shape
    assert out.dtype == expected.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_op_backward_matches_finite_differences(case):
    assert gradcheck(case.fn, case.tensors(), names=case.argnames)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_op_float32_stays_float32(case):
    inputs = case.tensors(dtype=np.float32)
    out = case.fn(*inputs)
    # numpy decides the output dtype (a float64 constant operand promotes, as in numpy)
    assert out.dtype == case.reference(*case.arrays(dtype=np.float32)).dtype
    out.backward(np.ones(out.shape, dtype=out.dtype))
    for x in inputs:
        assert x.grad.dtype == np.float32 and x.grad.shape == x.shape
    for node in topo_order([out]):
        assert node.grad.dtype == node.dtype, f"{node!r} has a {node.grad.dtype} gradient"


def test_opcases_cover_every_primitive():
    primitives = {
        cls.name
        for cls in vars(ops).values()
        if isinstance(cls, type) and issubclass(cls, Op) and cls is not Op
    }
    used = set()
    for case in CASES:
        used |= {n.op.name for n in topo_order([case.fn(*case.tensors())]) if n.op is not None}
    assert primitives - used == set()


def test_opcases_names_unique_and_inputs_seeded():
    assert len(set(ids)) == len(ids)
    case = opcases.select("matmul_2d@2d")[0]
    same = [np.array_equal(a, b) for a, b in zip(case.arrays(3), case.arrays(3))]
    other = [np.array_equal(a, b) for a, b in zip(case.arrays(3), case.arrays(4))]
    assert all(same) and not any(other)


@pytest.mark.parametrize("seed", [1, 2])
def test_run_all_passes_for_other_seeds(seed):
    failed = [r for r in opcases.run_all(seed=seed) if not r.ok]
    assert failed == []


def test_run_all_rows_have_name_ok_and_max_error():
    rows = opcases.run_all(pattern="MATMUL")
    assert [r.name for r in rows] == [c.name for c in CASES if "matmul" in c.name]
    for _, ok, max_error, detail in rows:
        assert ok and 0 <= max_error < 1e-5 and detail == ""
    assert [r.name for r in opcases.run_all(pattern="max_*keepdims")] == ["max_axis-1_keepdims"]
    assert opcases.run_all(pattern="no-such-case") == []


class _WrongSquare(Op):
    """z = x^2 with a backward rule missing its factor 2: what gradcheck must catch."""

    __slots__ = ("x",)
    name = "wrong_square"

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad_out):
        return (grad_out * self.x,)


def test_gradcheck_catches_a_wrong_rule_with_a_table():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True, label="x")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: _WrongSquare.apply(t), [x])
    message = str(info.value)
    assert "3 of 3 gradient elements differ" in message
    assert "x" in message and "FAIL" in message and "analytic" in message
    assert len(info.value.rows) == 3
    np.testing.assert_array_equal(x.data, [1.0, -2.0, 3.0])  # perturbations undone


def test_gradcheck_fails_on_a_nan_gradient():
    x = Tensor(np.array([1.0, 4.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match="1 of 2"), np.errstate(invalid="ignore"):
        gradcheck(lambda t: t[0] * 1.0 + (t[1] * 0.0).sqrt(), [x])  # d/dt sqrt(0): inf * 0


def test_gradcheck_handles_non_contiguous_input():
    x = Tensor(np.arange(6.0).reshape(2, 3).T, requires_grad=True)
    assert not x.data.flags["C_CONTIGUOUS"]
    assert gradcheck(lambda t: t.tanh() * t, [x])


def test_run_case_reports_wrong_forward_and_wrong_backward():
    wrong_forward = opcases.OpCase("bad_fwd", lambda x: x.tanh(), np.sin, (opcases.U(2),))
    wrong_backward = opcases.OpCase(
        "bad_bwd", lambda x: _WrongSquare.apply(x), lambda x: x * x, (opcases.P(2),)
    )
    raises = opcases.OpCase("raises", lambda x: x @ x.T.reshape(1, 4), None, (opcases.U(2, 2),))
    rows = opcases.run_all(cases=[wrong_forward, wrong_backward, raises])
    assert [r.ok for r in rows] == [False, False, False]
    assert "forward differs from numpy" in rows[0].detail
    assert "2 of 2 gradient elements differ" in rows[1].detail and rows[1].max_error > 0.5
    assert rows[2].detail.startswith("ValueError: matmul")


def test_max_ties_as_torch_amax_and_full_share_max_dim_picks_the_index():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]]), requires_grad=True)
    x.amax(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    x.grad = None
    x.max().backward()  # a full reduction: the tied maxima share
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0, 0, 0]])
    x.grad = None
    values, indices = x.max(dim=1)  # the gradient goes to the returned (first) index only
    values.sum().backward()
    np.testing.assert_array_equal(indices.data, [1, 0])
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])
    x.grad = None
    x.min(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 0, 0], [0, 1, 0]])


def test_relu_abs_clip_gradient_at_the_kink_is_pytorchs():
    x = Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    (x.relu() + x.abs() + x.clip(0.0, 1.0)).sum().backward()
    # relu' = 0, |x|' = 0 at 0; clamp passes the gradient on its bounds
    np.testing.assert_array_equal(x.grad, [-1 + 0, 0 + 0 + 1, 1 + 1 + 1])


def test_getitem_repeated_indices_and_masks_scatter_add():
    x = Tensor(np.zeros((3, 2)), requires_grad=True)
    (x[np.array([0, 2, 0, 0])].sum() + x[x.data == 0].sum() * 10).backward()
    np.testing.assert_array_equal(x.grad, [[13, 13], [10, 10], [11, 11]])


def test_sum_mean_max_accept_axis_0_of_a_0d_tensor():
    x = Tensor(2.0, requires_grad=True)
    y = x.sum(axis=0) + x.mean(dim=-1) + x.max(axis=0).values
    y.backward()
    assert y.item() == 6.0 and x.grad == 3.0


@pytest.mark.parametrize(
    "shapes, dtypes",
    [
        ([(), (), ()], ["f8", "f8", "f8"]),
        ([(1, 3)] * 5, ["f4", "f8", "f4", "f4", "f4"]),
        ([(2, 0)] * 2, ["f8", "f8"]),
        ([(2, 3, 1)], ["i8"]),
        ([(4,), (4,)], ["f4", "i4"]),
    ],
)
def test_stack_on_axis_0_is_numpys_stack(shapes, dtypes):
    # axis 0 takes a faster path than np.stack: same values, shape and dtype promotion
    rng = np.random.default_rng(0)
    arrays = [(10 * rng.normal(size=s)).astype(d) for s, d in zip(shapes, dtypes)]
    got = ops.Stack.apply(*[Tensor(a) for a in arrays]).data
    want = np.stack(arrays)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shapes", [[(2, 3), (2, 4)], [(2, 3), (3, 3)], [(3,), ()], [(1, 3), (3,)]])
def test_stack_of_different_shapes_names_the_op_and_shapes(shapes):
    tensors = [Tensor(np.zeros(s)) for s in shapes]
    with pytest.raises(ValueError, match=r"stack: all input arrays must have the same shape"):
        ops.Stack.apply(*tensors)
