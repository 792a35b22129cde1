"""The op cases: one table read by `tests/test_ops.py` and by `tinygrad-rnn gradcheck`.

An `OpCase` is one use of a primitive: `fn` builds it from Tensors (operators, methods,
library functions, exactly as a user writes them), `ref` is the same function in plain
numpy (None when `fn` is already plain numpy, as `a + b`, `x[1:3]` or `x.T` are), and
`inputs` holds one seeded value generator per input. Values stay where the derivative
exists: positive for log, sqrt and fractional powers, away from the kinks of relu, abs and
clip, and all distinct for max (a tie has no derivative).

`run_all()` checks every case: forward against numpy, backward against central differences.
"""

import math
from fnmatch import fnmatchcase
from typing import NamedTuple

import numpy as np

from .composite import chunk, split
from .gradcheck import format_table, gradient_errors
from .nn.functional import linear
from .opcase_kit import OpCase, P, U, away, distinct, fixed
from .opcases_torch import CASES as _TORCH_CASES
from .ops import BinaryCrossEntropy, Erf
from .tensor import Tensor, cat, concat, stack, where


def _np_erf(x):
    """erf by math.erf, element by element (numpy has none)."""
    return np.vectorize(math.erf, otypes=[np.float64])(x).astype(x.dtype)


def _np_log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _np_softmax(x, axis=-1):
    return np.exp(_np_log_softmax(x, axis))


def _np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def micrograd_example(a, b, relu=lambda t: t.relu()):
    """micrograd's README expression, the one copy the tests share: with a = -4, b = 2 it is
    24.7041 and its gradients are 138.8338 and 645.5773. `relu` defaults to the tensor's own
    method (ours or torch's); pass the numpy twin for arrays."""
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + relu(b + a)
    d += 3 * d + relu(b - a)
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return g


def _split_pair(x):
    a, b = x.split(2)
    return a * b.tanh()


def _gates(z):
    """chunk as an LSTM uses it: z (B, 4H) into gates i, f, g, o; then i*g + f*o."""
    i, f, g, o = chunk(z, 4, axis=-1)
    return i.sigmoid() * g.tanh() + f.sigmoid() * o


def _gates_np(z):
    i, f, g, o = np.split(z, 4, axis=-1)
    return _np_sigmoid(i) * np.tanh(g) + _np_sigmoid(f) * o


def _normalise(x, sqrt):
    """(x - mean) / sqrt(mean square + 1e-5) over the last axis."""
    c = x - x.mean(axis=-1, keepdims=True)
    return c / sqrt((c * c).mean(axis=-1, keepdims=True) + 1e-5)


C = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])  # a constant (2, 3) operand
W3 = np.array([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.6]])  # a constant (3, 2) operand
COND = np.array([[True, False, True], [False, False, True]])
MASK = np.array([[True, False, True], [False, True, True]])
ROWS = np.array([0, 2, 0, 0])  # repeated indices: their gradients add up (scatter-add)
relu_np = lambda x: np.maximum(x, 0.0)

CASES = [
    # ----- add sub mul div: operators, methods, broadcasting, Python numbers ------------------
    OpCase("add", lambda a, b: a + b, None, (U(2, 3), U(2, 3))),
    OpCase("add_method", lambda a, b: a.add(b), lambda a, b: a + b, (U(2, 3), U(2, 3))),
    OpCase("add_broadcast_(3,1)+(1,4)", lambda a, b: a + b, None, (U(3, 1), U(1, 4))),
    OpCase("add_bias_(4,)_over_batch_(2,4)", lambda x, b: x + b, None, (U(2, 4), U(4))),
    OpCase("add_scalar_0d_with_matrix", lambda s, x: s + x, None, (U(), U(2, 3))),
    OpCase("add_self_a+a", lambda a: a + a, None, (U(3),)),
    OpCase("radd_number_2.5+x", lambda x: 2.5 + x, None, (U(2, 3),)),
    OpCase("sub", lambda a, b: a - b, None, (U(2, 3), U(2, 3))),
    OpCase("sub_method", lambda a, b: a.sub(b), lambda a, b: a - b, (U(2, 3), U(2, 3))),
    OpCase("sub_broadcast_(2,3)-(3,)", lambda a, b: a - b, None, (U(2, 3), U(3))),
    OpCase("rsub_number_1-x", lambda x: 1 - x, None, (U(2, 3),)),
    OpCase("mul", lambda a, b: a * b, None, (U(2, 3), U(2, 3))),
    OpCase("mul_method", lambda a, b: a.mul(b), lambda a, b: a * b, (U(2, 3), U(2, 3))),
    OpCase("mul_broadcast_(3,1)*(1,4)", lambda a, b: a * b, None, (U(3, 1), U(1, 4))),
    OpCase("mul_scalar_0d_with_matrix", lambda x, s: x * s, None, (U(2, 3), U())),
    OpCase("mul_self_x*x", lambda x: x * x, None, (U(2, 3),)),
    OpCase("rmul_number_2*x", lambda x: 2 * x, None, (U(2, 3),)),
    OpCase("rmul_array_C*x", lambda x: C * x, None, (U(2, 3),)),
    OpCase("div", lambda a, b: a / b, None, (U(2, 3), P(2, 3))),
    OpCase("div_method", lambda a, b: a.div(b), lambda a, b: a / b, (U(2, 3), P(2, 3))),
    OpCase("div_broadcast_(2,3)/(3,)", lambda a, b: a / b, None, (U(2, 3), P(3))),
    OpCase("div_number_x/4", lambda x: x / 4.0, None, (U(2, 3),)),
    OpCase("rdiv_number_1/x", lambda x: 1 / x, None, (P(2, 3),)),
    OpCase("neg", lambda x: -x, None, (U(2, 3),)),
    OpCase("neg_method", lambda x: x.neg(), lambda x: -x, (U(2, 3),)),
    # ----- pow (a number exponent) and Python number ** tensor --------------------------------
    OpCase("pow_square", lambda x: x**2, None, (U(2, 3),)),
    OpCase("pow_cube_x**3", lambda x: x**3, None, (U(2, 3),)),
    OpCase("pow_negative_x**-2", lambda x: x**-2, None, (P(2, 3),)),
    OpCase("pow_negative_odd_x**-1", lambda x: x**-1, None, (away(2, 3, margin=0.3),)),
    OpCase("pow_fractional_x**0.5", lambda x: x**0.5, None, (P(2, 3),)),
    OpCase("pow_method_1.5", lambda x: x.pow(1.5), lambda x: x**1.5, (P(2, 3),)),
    OpCase("rpow_number_2**x", lambda x: 2**x, None, (U(2, 3),)),
    OpCase("rpow_number_0.5**x", lambda x: 0.5**x, None, (U(2, 3),)),
    # ----- matmul: 1-D, 2-D, batched with broadcasting; linear (x W^T + b) --------------------
    OpCase("matmul_2d@2d", lambda a, b: a @ b, None, (U(2, 3), U(3, 4))),
    OpCase("matmul_1d@2d", lambda a, b: a @ b, None, (U(3), U(3, 4))),
    OpCase("matmul_2d@1d", lambda a, b: a @ b, None, (U(2, 3), U(3))),
    OpCase("matmul_1d@1d", lambda a, b: a @ b, None, (U(3), U(3))),
    OpCase("matmul_3d@2d_batched", lambda a, b: a @ b, None, (U(2, 2, 3), U(3, 4))),
    OpCase("matmul_3d@3d_batched", lambda a, b: a @ b, None, (U(2, 2, 3), U(2, 3, 4))),
    OpCase("matmul_3d@3d_broadcast", lambda a, b: a @ b, None, (U(1, 2, 3), U(2, 3, 4))),
    OpCase("matmul_1d@3d", lambda a, b: a @ b, None, (U(3), U(2, 3, 2))),
    OpCase("matmul_method", lambda a, b: a.matmul(b), lambda a, b: a @ b, (U(2, 3), U(3, 2))),
    OpCase("matmul_array_x@W", lambda x: x @ W3, None, (U(2, 3),)),
    OpCase("rmatmul_array_W@x", lambda x: W3 @ x, None, (U(2, 4),)),
    OpCase(
        "linear_bias",
        lambda x, W, b: linear(x, W, b),
        lambda x, W, b: x @ W.T + b,
        (U(2, 3), U(4, 3), U(4)),
    ),
    OpCase("linear_no_bias", lambda x, W: linear(x, W), lambda x, W: x @ W.T, (U(2, 3), U(4, 3))),
    OpCase(
        "linear_1d_input",
        lambda x, W, b: linear(x, W, b),
        lambda x, W, b: x @ W.T + b,
        (U(3), U(2, 3), U(2)),
    ),
    OpCase(
        "linear_3d_input",
        lambda x, W, b: linear(x, W, b),
        lambda x, W, b: x @ W.T + b,
        (U(2, 2, 3), U(4, 3), U(4)),
    ),
    # ----- where ------------------------------------------------------------------------------
    OpCase(
        "where",
        lambda a, b: where(COND, a, b),
        lambda a, b: np.where(COND, a, b),
        (U(2, 3), U(2, 3)),
    ),
    OpCase(
        "where_broadcast_(3,)_0d",
        lambda a, b: where(COND, a, b),
        lambda a, b: np.where(COND, a, b),
        (U(3), U()),
    ),
    OpCase(
        "where_number", lambda x: where(COND, x, 0.0), lambda x: np.where(COND, x, 0.0), (U(2, 3),)
    ),
    # ----- elementwise unary ------------------------------------------------------------------
    OpCase("exp", lambda x: x.exp(), np.exp, (U(2, 3),)),
    OpCase("log", lambda x: x.log(), np.log, (P(2, 3),)),
    OpCase("tanh", lambda x: x.tanh(), np.tanh, (U(2, 3),)),
    OpCase("sigmoid", lambda x: x.sigmoid(), _np_sigmoid, (U(2, 3, low=-4, high=4),)),
    OpCase("relu", lambda x: x.relu(), relu_np, (away(2, 3),)),
    OpCase("abs", lambda x: x.abs(), np.abs, (away(2, 3),)),
    OpCase("sqrt", lambda x: x.sqrt(), np.sqrt, (P(2, 3),)),
    OpCase(
        "clip_both",
        lambda x: x.clip(-0.5, 0.5),
        lambda x: np.clip(x, -0.5, 0.5),
        (away(3, 4, kinks=(-0.5, 0.5)),),
    ),
    OpCase(
        "clip_min_only",
        lambda x: x.clip(min=0.2),
        lambda x: np.maximum(x, 0.2),
        (away(3, 4, kinks=(0.2,)),),
    ),
    OpCase(
        "clamp_max_only",
        lambda x: x.clamp(max=0.3),
        lambda x: np.minimum(x, 0.3),
        (away(3, 4, kinks=(0.3,)),),
    ),
    OpCase("erf", lambda x: Erf.apply(x), lambda x: _np_erf(x), (U(2, 3, low=-2.5, high=2.5),)),
    OpCase(
        "binary_cross_entropy",
        lambda x, y: BinaryCrossEntropy.apply(x, y),
        lambda x, y: -(y * np.log(x) + (1 - y) * np.log(1 - x)),
        (U(2, 3, low=0.05, high=0.95), U(2, 3, low=0.0, high=1.0)),
    ),
    # ----- reductions: axis None / int / tuple, keepdims, dim= alias --------------------------
    OpCase("sum_all", lambda x: x.sum(), None, (U(2, 3),)),
    OpCase("sum_axis0", lambda x: x.sum(axis=0), None, (U(2, 3),)),
    OpCase("sum_axis-1_keepdims", lambda x: x.sum(axis=-1, keepdims=True), None, (U(2, 3),)),
    OpCase("sum_axis_tuple", lambda x: x.sum(axis=(0, 2)), None, (U(2, 3, 2),)),
    OpCase("sum_dim_alias", lambda x: x.sum(dim=1), lambda x: x.sum(axis=1), (U(2, 3),)),
    OpCase("sum_0d", lambda x: x.sum(), None, (U(),)),
    OpCase("mean_all", lambda x: x.mean(), None, (U(2, 3),)),
    OpCase("mean_axis1", lambda x: x.mean(axis=1), None, (U(2, 3),)),
    OpCase("mean_axis0_keepdims", lambda x: x.mean(axis=0, keepdims=True), None, (U(2, 3),)),
    OpCase("mean_axis_tuple", lambda x: x.mean(axis=(1, 2)), None, (U(2, 3, 2),)),
    OpCase("mean_dim_alias", lambda x: x.mean(dim=0), lambda x: x.mean(axis=0), (U(2, 3),)),
    OpCase("max_all", lambda x: x.max(), None, (distinct(2, 3),)),
    OpCase("max_axis0", lambda x: x.max(axis=0).values, lambda x: x.max(axis=0), (distinct(3, 4),)),
    OpCase(
        "max_axis-1_keepdims",
        lambda x: x.max(axis=-1, keepdims=True).values,
        lambda x: x.max(axis=-1, keepdims=True),
        (distinct(3, 4),),
    ),
    OpCase("max_axis_tuple", lambda x: x.max(axis=(0, 2)), None, (distinct(2, 3, 2),)),
    OpCase("max_dim_alias", lambda x: x.max(dim=1)[0], lambda x: x.max(axis=1), (distinct(3, 4),)),
    # ----- softmax family ---------------------------------------------------------------------
    OpCase("log_softmax_last", lambda x: x.log_softmax(), _np_log_softmax, (U(2, 4),)),
    OpCase(
        "log_softmax_axis0",
        lambda x: x.log_softmax(axis=0),
        lambda x: _np_log_softmax(x, 0),
        (U(3, 2),),
    ),
    OpCase(
        "log_softmax_dim_alias",
        lambda x: x.log_softmax(dim=1),
        lambda x: _np_log_softmax(x, 1),
        (U(2, 3, 2),),
    ),
    OpCase(
        "log_softmax_large_logits",
        lambda x: x.log_softmax(),
        _np_log_softmax,
        (U(2, 4, low=995.0, high=1005.0),),
    ),
    OpCase("softmax_last", lambda x: x.softmax(), _np_softmax, (U(2, 4),)),
    OpCase("softmax_axis0", lambda x: x.softmax(axis=0), lambda x: _np_softmax(x, 0), (U(3, 2),)),
    OpCase(
        "softmax_dim_alias",
        lambda x: x.softmax(dim=-2),
        lambda x: _np_softmax(x, -2),
        (U(2, 3, 2),),
    ),
    # ----- reshape and transpose --------------------------------------------------------------
    OpCase("reshape", lambda x: x.reshape(3, 2), None, (U(2, 3),)),
    OpCase("reshape_tuple_-1", lambda x: x.reshape((-1, 4)), None, (U(2, 3, 4),)),
    OpCase("reshape_to_0d", lambda x: x.reshape(()), None, (U(1),)),
    OpCase("view_alias", lambda x: x.view(6), lambda x: x.reshape(6), (U(2, 3),)),
    OpCase("transpose_2d_.T", lambda x: x.T, None, (U(2, 3),)),
    OpCase("transpose_2d_method", lambda x: x.transpose(), None, (U(2, 3),)),
    OpCase(
        "transpose_2d_torch_style_(0,1)", lambda x: x.transpose(0, 1), lambda x: x.T, (U(2, 3),)
    ),
    OpCase("transpose_permutation", lambda x: x.transpose(2, 0, 1), None, (U(2, 3, 4),)),
    OpCase("transpose_permutation_tuple", lambda x: x.transpose((1, 0, 2)), None, (U(2, 3, 4),)),
    OpCase(
        "transpose_swap_two_torch_style",
        lambda x: x.transpose(0, 2),
        lambda x: np.swapaxes(x, 0, 2),
        (U(2, 3, 4),),
    ),
    # ----- getitem: ints, slices, negative, tuples, integer arrays, boolean masks -------------
    OpCase("getitem_int", lambda x: x[1], None, (U(3, 4),)),
    OpCase("getitem_negative_int", lambda x: x[-1], None, (U(3, 4),)),
    OpCase("getitem_slice", lambda x: x[1:3], None, (U(4, 2),)),
    OpCase("getitem_negative_slice_step", lambda x: x[::-2], None, (U(5, 2),)),
    OpCase("getitem_tuple_of_slices", lambda x: x[:, 1:3], None, (U(2, 4),)),
    OpCase("getitem_int_and_slice", lambda x: x[-1, 1:], None, (U(2, 4),)),
    OpCase("getitem_ellipsis", lambda x: x[..., 0], None, (U(2, 3, 2),)),
    OpCase("getitem_none_new_axis", lambda x: x[None, :, 1], None, (U(2, 3),)),
    OpCase("getitem_int_array_repeated", lambda x: x[ROWS], None, (U(3, 2),)),
    OpCase(
        "getitem_list_repeated",
        lambda x: x[[1, 1, 0]],
        lambda x: x[np.array([1, 1, 0])],
        (U(3, 2),),
    ),
    OpCase(
        "getitem_pairs_repeated",
        lambda x: x[[0, 1, 0], [2, 0, 2]],
        lambda x: x[np.array([0, 1, 0]), np.array([2, 0, 2])],
        (U(2, 3),),
    ),
    OpCase("getitem_boolean_mask", lambda x: x[MASK], None, (U(2, 3),)),
    OpCase(
        "getitem_boolean_rows",
        lambda x: x[np.array([True, False, True])],
        None,
        (U(3, 2),),
    ),
    OpCase("getitem_overlapping_slices", lambda x: x[:2] * x[1:], None, (U(3, 2),)),
    OpCase(
        "getitem_every_step",
        lambda x: stack([x[t] * (t + 1) for t in range(3)]),
        lambda x: np.stack([x[t] * (t + 1) for t in range(3)]),
        (U(3, 2),),
    ),
    OpCase("getitem_0d_element", lambda x: x[1, 2], None, (U(2, 3),)),
    # ----- concat, stack, split, chunk --------------------------------------------------------
    OpCase(
        "concat_axis0",
        lambda a, b: concat([a, b]),
        lambda a, b: np.concatenate([a, b]),
        (U(2, 3), U(1, 3)),
    ),
    OpCase(
        "concat_axis-1_three",
        lambda a, b, c: concat([a, b, c], axis=-1),
        lambda a, b, c: np.concatenate([a, b, c], axis=-1),
        (U(2, 1), U(2, 3), U(2, 2)),
    ),
    OpCase(
        "cat_dim_alias",
        lambda a, b: cat([a, b], dim=1),
        lambda a, b: np.concatenate([a, b], axis=1),
        (U(2, 2), U(2, 3)),
    ),
    OpCase(
        "stack_axis0",
        lambda a, b, c: stack([a, b, c]),
        lambda a, b, c: np.stack([a, b, c]),
        (U(2, 3), U(2, 3), U(2, 3)),
    ),
    OpCase(
        "stack_axis-1",
        lambda a, b: stack([a, b], axis=-1),
        lambda a, b: np.stack([a, b], axis=-1),
        (U(2, 3), U(2, 3)),
    ),
    OpCase(
        "stack_dim_alias",
        lambda a, b: stack([a, b], dim=1),
        lambda a, b: np.stack([a, b], axis=1),
        (U(2, 3), U(2, 3)),
    ),
    OpCase(
        "split_equal_size",
        _split_pair,
        lambda x: x[:2] * np.tanh(x[2:]),
        (U(4, 3),),
    ),
    OpCase(
        "split_uneven_last_piece",
        lambda x: concat(x.split(2)[::-1]),
        lambda x: np.concatenate([x[4:], x[2:4], x[:2]]),
        (U(5),),
    ),
    OpCase(
        "split_sizes_axis1_function",
        lambda x: concat(split(x, [1, 3], axis=1)[::-1], axis=1),
        lambda x: np.concatenate([x[:, 1:], x[:, :1]], axis=1),
        (U(2, 4),),
    ),
    OpCase(
        "chunk_three",
        lambda x: concat(x.chunk(3)[::-1]),
        lambda x: np.concatenate([x[4:], x[2:4], x[:2]]),
        (U(5, 2),),
    ),
    OpCase(
        "chunk_lstm_gates",
        _gates,
        _gates_np,
        (U(3, 8),),
    ),
    # ----- compositions: micrograd-style 0-d scalars, a normalisation, an RNN step ------------
    OpCase(
        "scalar_micrograd_example",
        lambda a, b: micrograd_example(a, b),
        lambda a, b: micrograd_example(a, b, relu_np),
        (fixed(-4.0), fixed(2.0)),
    ),
    OpCase(
        "scalar_relu_tanh_exp_log",
        lambda a, b: (a * b + b**3).relu() + (a / b).tanh() - (b.exp() + 1).log(),
        lambda a, b: relu_np(a * b + b**3) + np.tanh(a / b) - np.log(np.exp(b) + 1),
        (P(), P()),
    ),
    OpCase(
        "scalar_reverse_operators",
        lambda a, b: 2 * a - 1 / b + 3**a - (1 - a) * b + a**-2,
        None,
        (P(), P()),
    ),
    OpCase(
        "normalise_last_axis",
        lambda x: _normalise(x, lambda t: t.sqrt()),
        lambda x: _normalise(x, np.sqrt),
        (U(2, 4),),
    ),
    OpCase(
        "rnn_step_tanh",
        lambda x, h, W_ih, W_hh, b: (x @ W_ih.T + h @ W_hh.T + b).tanh(),
        lambda x, h, W_ih, W_hh, b: np.tanh(x @ W_ih.T + h @ W_hh.T + b),
        (U(2, 3), U(2, 4), U(4, 3), U(4, 4), U(4)),
    ),
]


CASES += _TORCH_CASES

# ----- running the table ----------------------------------------------------------------------


class CaseResult(NamedTuple):
    """One row of `run_all`: the case, whether it passed, the largest gradient error, why not."""

    name: str
    ok: bool
    max_error: float
    detail: str = ""


def select(pattern=None, cases=None):
    """The cases whose name contains `pattern` (case-insensitive), or matches it as a glob."""
    cases = CASES if cases is None else cases
    if not pattern:
        return list(cases)
    pattern = pattern.lower()
    if any(ch in pattern for ch in "*?["):
        return [c for c in cases if fnmatchcase(c.name.lower(), pattern)]
    return [c for c in cases if pattern in c.name.lower()]


def run_case(case, seed=0, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Forward against the numpy reference, backward against central differences (float64)."""
    try:
        arrays = case.arrays(seed)
        tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        out = case.fn(*tensors)
        expected = case.reference(*arrays)
        problems = []
        if out.shape != expected.shape or out.dtype != expected.dtype:
            problems.append(
                f"forward gives {out.shape} {out.dtype}, numpy {expected.shape} {expected.dtype}"
            )
        elif not np.allclose(out.data, expected, rtol=1e-10, atol=1e-12):
            worst = float(np.max(np.abs(out.data - expected)))
            problems.append(f"forward differs from numpy by up to {worst:.2e}")
        rows = gradient_errors(
            case.fn, tensors, eps=eps, atol=atol, rtol=rtol, seed=seed, names=case.argnames
        )
        max_error = float(np.max([r[4] for r in rows]))
        bad = sorted((r for r in rows if r[5]), key=lambda r: -r[4])
        if bad:
            problems.append(
                f"{len(bad)} of {len(rows)} gradient elements differ from central differences "
                f"(eps={eps}, atol={atol}, rtol={rtol})\n" + format_table(bad[:8])
            )
        return CaseResult(case.name, not problems, max_error, "\n".join(problems))
    except Exception as exc:  # a case that raises is a failed row, not a crashed table
        return CaseResult(case.name, False, float("nan"), f"{type(exc).__name__}: {exc}")


def run_all(seed=0, pattern=None, eps=1e-6, atol=1e-5, rtol=1e-3, cases=None):
    """Check every case (or those matching `pattern`); one `CaseResult` per case, in table order."""
    return [run_case(c, seed, eps, atol, rtol) for c in select(pattern, cases)]


def format_results(results):
    """An aligned text table: op case, max error, PASS/FAIL."""
    header = ("op case", "max error", "result")
    lines = [header] + [(r.name, f"{r.max_error:.1e}", "PASS" if r.ok else "FAIL") for r in results]
    widths = [max(len(line[c]) for line in lines) for c in range(2)]
    return "\n".join(
        f"{name.ljust(widths[0])}  {err.rjust(widths[1])}  {result}" for name, err, result in lines
    )
