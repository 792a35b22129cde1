"""Op cases for the PyTorch-named operations (composite/ and their primitives).

The second half of the op table (`opcases.CASES` includes these): the torch spellings
(`dim`, `keepdim`, `max(dim)` values, permutations with negative axes), the composites, and
the regression cases the differential test against torch found (named `regress_*`).
"""

import numpy as np

from .opcase_kit import OpCase, P, U, away, distinct, fixed

ROWS_IDX = np.array([[0, 2, 2], [1, 0, 1]])  # gather along dim 1 of a (2, 3) input
COLS = np.array([2, 0, 2])  # repeated: index_select must add their gradients
MASK23 = np.array([[True, False, True], [False, False, True]])


def _var(x, axis=None, ddof=1, keepdims=False):
    return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)


def _lse(x, axis, keepdims=False):
    m = x.max(axis=axis, keepdims=True)
    out = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


CASES = [
    # ----- dim / keepdim (torch) with numpy's axis / keepdims as aliases -------------------------
    OpCase(
        "sum_dim_keepdim",
        lambda x: x.sum(dim=1, keepdim=True),
        lambda x: x.sum(1, keepdims=True),
        (U(2, 3),),
    ),
    OpCase("sum_dim_list", lambda x: x.sum([0, -1]), lambda x: x.sum(axis=(0, 2)), (U(2, 3, 2),)),
    OpCase("sum_dim_empty_tuple_is_all", lambda x: x.sum(()), lambda x: x.sum(), (U(2, 3),)),
    OpCase(
        "mean_dim_keepdim_positional",
        lambda x: x.mean(0, True),
        lambda x: x.mean(0, keepdims=True),
        (U(2, 3),),
    ),
    # ----- max / min: full (ties share), dim (values, indices), tuple (amax), elementwise --------
    OpCase("max_dim_values", lambda x: x.max(dim=1).values, lambda x: x.max(1), (distinct(3, 4),)),
    OpCase(
        "max_dim_keepdim_[0]",
        lambda x: x.max(0, keepdim=True)[0],
        lambda x: x.max(0, keepdims=True),
        (distinct(3, 4),),
    ),
    OpCase("max_dim_0d", lambda x: x.max(0).values * 2.0, lambda x: x * 2.0, (U(),)),
    OpCase("min_all", lambda x: x.min(), None, (distinct(2, 3),)),
    OpCase("min_dim_-1_values", lambda x: x.min(-1).values, lambda x: x.min(-1), (distinct(3, 4),)),
    OpCase(
        "amax_tuple_keepdim",
        lambda x: x.amax((0, 2), keepdim=True),
        lambda x: x.max((0, 2), keepdims=True),
        (distinct(2, 3, 2),),
    ),
    OpCase("amin_dim", lambda x: x.amin(1), lambda x: x.min(1), (distinct(3, 4),)),
    OpCase(
        "max_other_tensor",
        lambda a, b: a.max(b),
        lambda a, b: np.maximum(a, b),
        (distinct(2, 3), distinct(2, 3)),
    ),
    OpCase(
        "maximum_broadcast",
        lambda a, b: a.maximum(b),
        lambda a, b: np.maximum(a, b),
        (distinct(2, 3), distinct(3)),
    ),
    OpCase(
        "minimum_broadcast_number",
        lambda x: x.minimum(0.25),
        lambda x: np.minimum(x, 0.25),
        (away(2, 3, kinks=(0.25,)),),
    ),
    # ----- transpose and friends: negative axes, torch's two-axis swap, 1-D and 0-d --------------
    OpCase(
        "transpose_negative_perm",
        lambda x: x.transpose((0, -1, -2)),
        lambda x: np.transpose(x, (0, 2, 1)),
        (U(1, 2, 3),),
    ),
    OpCase(
        "transpose_swap_negative",
        lambda x: x.transpose(-1, 0),
        lambda x: np.swapaxes(x, -1, 0),
        (U(2, 3, 4),),
    ),
    OpCase("transpose_1d_swap", lambda x: x.transpose(0, -1) * x, lambda x: x * x, (U(3),)),
    OpCase("transpose_0d_swap", lambda x: x.transpose(0, 0) * 3.0, lambda x: x * 3.0, (U(),)),
    OpCase("t_2d", lambda x: x.t(), lambda x: x.T, (U(2, 3),)),
    OpCase("t_1d", lambda x: x.t() * x, lambda x: x * x, (U(3),)),
    OpCase(
        "permute", lambda x: x.permute(2, 0, 1), lambda x: np.transpose(x, (2, 0, 1)), (U(2, 3, 4),)
    ),
    OpCase(
        "permute_negative",
        lambda x: x.permute((-1, 0, -2)),
        lambda x: np.transpose(x, (2, 0, 1)),
        (U(2, 3, 4),),
    ),
    OpCase("squeeze_all", lambda x: x.squeeze(), lambda x: x.reshape(2, 3), (U(1, 2, 1, 3),)),
    OpCase(
        "squeeze_dim_noop_and_one",
        lambda x: x.squeeze(1).squeeze(-2),
        lambda x: x.reshape(2, 3),
        (U(2, 1, 3),),
    ),
    OpCase("unsqueeze_-1", lambda x: x.unsqueeze(-1), lambda x: x[..., None], (U(2, 3),)),
    OpCase("unsqueeze_0_of_0d", lambda x: x.unsqueeze(0), lambda x: x.reshape(1), (U(),)),
    OpCase("flatten_from_1", lambda x: x.flatten(1), lambda x: x.reshape(2, 6), (U(2, 3, 2),)),
    OpCase("flatten_0d", lambda x: x.flatten(), lambda x: x.reshape(1), (U(),)),
    OpCase(
        "expand_new_and_kept",
        lambda x: x.expand(2, -1, 4),
        lambda x: np.broadcast_to(x, (2, 3, 4)) * 1.0,
        (U(3, 1),),
    ),
    OpCase("flip_two_dims", lambda x: x.flip((0, -1)), lambda x: x[::-1, ::-1], (U(2, 3),)),
    OpCase(
        "torch_order_getitem_int_slice_array",
        lambda x: x[0, :, [0, 1, 1]],
        lambda x: x[0][:, [0, 1, 1]],
        (U(2, 3, 4),),
    ),
    OpCase(
        "torch_order_getitem_ellipsis_int_array",
        lambda x: x[1, ..., [2, 0]],
        lambda x: x[1][..., [2, 0]],
        (U(2, 3, 4),),
    ),
    # ----- reductions built from primitives ----------
    OpCase("logsumexp_dim1", lambda x: x.logsumexp(1), lambda x: _lse(x, 1), (U(2, 4),)),
    OpCase(
        "logsumexp_large_keepdim",
        lambda x: x.logsumexp(-1, keepdim=True),
        lambda x: _lse(x, -1, True),
        (U(2, 3, low=995.0, high=1005.0),),
    ),
    OpCase("prod_all", lambda x: x.prod(), None, (U(2, 3),)),
    OpCase("prod_dim", lambda x: x.prod(dim=1), lambda x: x.prod(axis=1), (U(3, 4),)),
    OpCase(
        "prod_one_zero",
        lambda x: x.prod(0),
        lambda x: x.prod(0),
        (fixed([[0.0, 2.0], [1.5, -3.0], [-0.5, 0.0]]),),
    ),
    OpCase("prod_two_zeros", lambda x: x.prod(), None, (fixed([0.0, 2.0, 0.0]),)),
    OpCase("var_all_unbiased", lambda x: x.var(), lambda x: _var(x), (U(2, 3),)),
    OpCase(
        "var_dim_biased_keepdim",
        lambda x: x.var(1, unbiased=False, keepdim=True),
        lambda x: _var(x, 1, 0, True),
        (U(2, 4),),
    ),
    OpCase(
        "var_correction_2",
        lambda x: x.var(dim=0, correction=2),
        lambda x: _var(x, 0, 2),
        (U(4, 3),),
    ),
    OpCase("std_dim", lambda x: x.std(dim=-1), lambda x: np.sqrt(_var(x, -1)), (U(3, 4),)),
    OpCase("norm_all", lambda x: x.norm(), lambda x: np.sqrt((x * x).sum()), (U(2, 3),)),
    OpCase(
        "norm_dim_keepdim",
        lambda x: x.norm(dim=1, keepdim=True),
        lambda x: np.linalg.norm(x, axis=1, keepdims=True),
        (U(3, 4),),
    ),
    OpCase("norm_p1", lambda x: x.norm(1), lambda x: np.abs(x).sum(), (away(2, 3),)),
    OpCase(
        "norm_p3_dim",
        lambda x: x.norm(3, dim=0),
        lambda x: (np.abs(x) ** 3).sum(0) ** (1 / 3),
        (away(3, 2),),
    ),
    OpCase(
        "norm_inf", lambda x: x.norm(float("inf")), lambda x: np.abs(x).max(), (distinct(2, 3),)
    ),
    OpCase("cumsum_dim0", lambda x: x.cumsum(0), lambda x: x.cumsum(0), (U(3, 2),)),
    OpCase("cumsum_dim-1", lambda x: x.cumsum(dim=-1) * x, lambda x: x.cumsum(-1) * x, (U(2, 4),)),
    # ----- elementwise ----------
    OpCase("log1p", lambda x: x.log1p(), np.log1p, (U(2, 3, low=-0.5, high=2.0),)),
    OpCase("expm1", lambda x: x.expm1(), np.expm1, (U(2, 3),)),
    OpCase("sin", lambda x: x.sin(), np.sin, (U(2, 3, low=-4, high=4),)),
    OpCase("cos", lambda x: x.cos(), np.cos, (U(2, 3, low=-4, high=4),)),
    OpCase("sign_times_x", lambda x: x.sign() * x, lambda x: np.sign(x) * x, (away(2, 3),)),
    OpCase("reciprocal", lambda x: x.reciprocal(), lambda x: 1 / x, (P(2, 3),)),
    OpCase("rsqrt", lambda x: x.rsqrt(), lambda x: x**-0.5, (P(2, 3),)),
    OpCase("square", lambda x: x.square(), lambda x: x**2, (U(2, 3),)),
    OpCase("tensor_pow", lambda a, b: a**b, None, (P(2, 3), U(2, 3))),
    OpCase(
        "tensor_pow_broadcast_method", lambda a, b: a.pow(b), lambda a, b: a**b, (P(2, 3), U(3))
    ),
    OpCase(
        "masked_fill_number",
        lambda x: x.masked_fill(MASK23, -2.0),
        lambda x: np.where(MASK23, -2.0, x),
        (U(2, 3),),
    ),
    OpCase(
        "masked_fill_0d_tensor",
        lambda x, v: x.masked_fill(MASK23[0], v),
        lambda x, v: np.where(MASK23[0], v, x),
        (U(2, 3), U()),
    ),
    OpCase(
        "clamp_tensor_bounds",
        lambda x, lo, hi: x.clamp(lo, hi),
        lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
        (U(2, 3), U(3, low=-1.5, high=-0.2), U(2, 1, low=0.2, high=1.5)),
    ),
    # ----- products and selection ----------
    OpCase("mm", lambda a, b: a.mm(b), lambda a, b: a @ b, (U(2, 3), U(3, 4))),
    OpCase("bmm", lambda a, b: a.bmm(b), lambda a, b: a @ b, (U(2, 2, 3), U(2, 3, 2))),
    OpCase("dot", lambda a, b: a.dot(b), lambda a, b: a @ b, (U(3), U(3))),
    OpCase(
        "gather_dim1_repeated",
        lambda x: x.gather(1, ROWS_IDX),
        lambda x: np.take_along_axis(x, ROWS_IDX, 1),
        (U(2, 3),),
    ),
    OpCase(
        "gather_dim0",
        lambda x: x.gather(0, ROWS_IDX[:, :2] % 2),
        lambda x: np.take_along_axis(x, ROWS_IDX[:, :2] % 2, 0),
        (U(3, 2),),
    ),
    OpCase(
        "index_select_repeated", lambda x: x.index_select(1, COLS), lambda x: x[:, COLS], (U(2, 3),)
    ),
]
