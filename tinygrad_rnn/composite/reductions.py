"""Reductions: max/min (values, indices), amax/amin, argmax, logsumexp, prod, var, std, norm.

Numerical care lives in the composition: `logsumexp` = m + log sum e^{x - m} with m = max x
held constant; `std` and `norm` take a root that passes a zero gradient at 0 (as torch),
not 0 * inf = nan.
"""

import numbers
from collections import namedtuple

import numpy as np

from .. import ops
from .checks import (
    check_dim,
    constant_on,
    expect_tensor,
    floating,
    is_tensor,
    leaf,
    lift,
    pick,
    reduction_dims,
)

# `values, indices = x.max(dim=1)`: torch.return_types.max, with `.values` and `.indices`
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _extreme(x, dim, keepdim, axis, keepdims, op, arg):
    if is_tensor(dim):  # x.max(y) is torch.maximum(x, y)
        return ops.Maximum.apply(x, dim) if op == "Max" else ops.Minimum.apply(x, dim)
    dim, keepdim = reduction_dims(op.lower(), dim, keepdim, axis, keepdims)
    if dim is None:
        return getattr(ops, op).apply(x)
    if isinstance(dim, tuple):  # not in torch.max: the amax of those dims
        return getattr(ops, op).apply(x, axis=dim, keepdims=keepdim)
    d = check_dim(op.lower(), dim, x.ndim)
    if x.ndim and x.shape[d] == 0:  # torch: only an empty reduced axis has no max
        raise ValueError(f"{op.lower()}: reduction over dim {dim} of size 0 of a tensor {x.shape}")
    if x.ndim == 0:
        index = np.zeros((), dtype=np.int64)
    else:
        index = arg(x.data, axis=d, keepdims=True)
    values = getattr(ops, op).apply(x, axis=d, keepdims=keepdim, index=index)
    if not keepdim and x.ndim:
        index = np.squeeze(index, axis=d)
    return ValuesIndices(values, leaf(index.astype(np.int64)))


def max(x, dim=None, keepdim=False, axis=None, keepdims=None):  # noqa: A001
    """`x.max()` a 0-d tensor (ties share the gradient); `x.max(dim)` (values, indices), the
    gradient going to the returned index; `x.max(other)` the elementwise maximum."""
    return _extreme(x, dim, keepdim, axis, keepdims, "Max", np.argmax)


def min(x, dim=None, keepdim=False, axis=None, keepdims=None):  # noqa: A001
    """As `max`, for the minimum."""
    return _extreme(x, dim, keepdim, axis, keepdims, "Min", np.argmin)


def amax(x, dim=(), keepdim=False):
    """The max over `dim` (an int, a tuple; () for all), ties sharing the gradient evenly."""
    expect_tensor("amax", x)
    return ops.Max.apply(
        x, axis=reduction_dims("amax", dim, keepdim, None, None)[0], keepdims=keepdim
    )


def amin(x, dim=(), keepdim=False):
    """The min over `dim` (an int, a tuple; () for all), ties sharing the gradient evenly."""
    expect_tensor("amin", x)
    return ops.Min.apply(
        x, axis=reduction_dims("amin", dim, keepdim, None, None)[0], keepdims=keepdim
    )


def _arg(x, dim, keepdim, fn, name):
    if dim is None:
        if x.data.size == 0:
            raise ValueError(f"{name}: of an empty tensor {x.shape}")
        return leaf(np.asarray(fn(x.data), dtype=np.int64))
    d = check_dim(name, dim, x.ndim)
    if x.ndim and x.shape[d] == 0:
        raise ValueError(f"{name}: over dim {dim} of size 0 of a tensor {x.shape}")
    if x.ndim == 0:
        return leaf(np.zeros((), dtype=np.int64))
    return leaf(fn(x.data, axis=d, keepdims=bool(keepdim)).astype(np.int64))


def argmax(x, dim=None, keepdim=False):
    """Index of the (first) largest value: along `dim`, or into the flattened tensor."""
    expect_tensor("argmax", x)
    return _arg(x, dim, keepdim, np.argmax, "argmax")


def argmin(x, dim=None, keepdim=False):
    """Index of the (first) smallest value: along `dim`, or into the flattened tensor."""
    expect_tensor("argmin", x)
    return _arg(x, dim, keepdim, np.argmin, "argmin")


def maximum(a, b):
    """Elementwise max (a tie sends half the gradient each way, as torch)."""
    expect_tensor("maximum", a)
    return ops.Maximum.apply(a, lift(b, a))


def minimum(a, b):
    """Elementwise min (a tie sends half the gradient each way, as torch)."""
    expect_tensor("minimum", a)
    return ops.Minimum.apply(a, lift(b, a))


def logsumexp(x, dim, keepdim=False):
    """log sum_i e^{x_i} over `dim`, computed as m + log sum_i e^{x_i - m} with m = max x held
    constant (it cancels from the value, so also from the gradient: softmax(x))."""
    expect_tensor("logsumexp", x)
    x = floating(x)
    dim, keepdim = reduction_dims("logsumexp", dim, keepdim, None, None)
    # m: the largest finite value (an infinite one would make x - m nan): then a slice
    # holding +inf gives its finite elements a zero gradient, as torch's e^(x - out)
    finite = np.where(np.isfinite(x.data), x.data, -np.inf)
    with np.errstate(invalid="ignore"):
        m = np.max(finite, axis=dim, keepdims=True) if x.data.size else np.zeros(())
    m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype)
    out = (x - m).exp().sum(dim, keepdim=True).log() + m
    return out if keepdim else ops.Reshape.apply(out, shape=_reduced(x, dim))


def _reduced(x, dim):
    axes = ops.normalise_axis(dim, x.ndim)
    return tuple(n for d, n in enumerate(x.shape) if d not in axes)


def prod(x, dim=None, keepdim=False, axis=None, keepdims=None):
    """Product over `dim` (or all): the primitive `prod` (exact gradients with zeros)."""
    expect_tensor("prod", x)
    dim, keepdim = reduction_dims("prod", dim, keepdim, axis, keepdims)
    return ops.Prod.apply(x, axis=dim, keepdims=keepdim)


def cumsum(x, dim):
    """Running sum along `dim` (torch.cumsum)."""
    expect_tensor("cumsum", x)
    return ops.CumSum.apply(x, axis=check_dim("cumsum", dim, x.ndim))


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """sum (x - mean)^2 / (N - correction) over `dim`; correction 1 (unbiased=True) by default,
    0 for `unbiased=False` (torch)."""
    expect_tensor("var", x)
    dim, keepdim = reduction_dims("var", dim, keepdim, axis, keepdims)
    if isinstance(dim, bool):  # x.var(False): torch's var(unbiased)
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise TypeError("var: give unbiased or correction, not both")
    elif isinstance(correction, bool) or not isinstance(correction, numbers.Real):
        raise TypeError(f"var: correction must be a number, got {correction!r:.40}")
    elif not correction == correction:
        raise ValueError("var: correction must be a number, got nan")
    return ops.Var.apply(x, axis=dim, keepdims=keepdim, correction=correction)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """sqrt(var): the gradient is 0 where std is 0 (torch), not nan."""
    expect_tensor("std", x)
    return _sqrt0(
        var(x, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    )


def _sqrt0(v, select=True):
    """sqrt with a zero gradient at 0 (torch's norm and std): where(v > 0, sqrt(v'), 0), the 0
    (nan where v is nan) a constant hung on v, so even an infinite gradient stops there."""
    positive = ~(v.data <= 0)  # nan too: its gradient is nan, as torch's
    safe = pick(positive, v, 1.0).sqrt()
    # torch's std selects 0 there; its 2-norm multiplies by 0 (an infinite gradient gives nan)
    return pick(positive, safe, constant_on(v, v.data * 0.0) if select else v * 0.0)


def _root0(v, p):
    """v ** (1/p) with a zero gradient at 0, as `_sqrt0`."""
    positive = ~(v.data <= 0)  # nan too (a nan gradient, as torch)
    return pick(positive, pick(positive, v, 1.0) ** (1.0 / p), constant_on(v, v.data * 0.0))


def norm(x, p="fro", dim=None, keepdim=False):
    """The p-norm over `dim` (all by default): 2 ('fro'), 1, inf, -inf, 0 or any number."""
    expect_tensor("norm", x)
    x = floating(x)  # every p a float (a bool's 0-norm counted in bool was 1)
    dim, keepdim = reduction_dims("norm", dim, keepdim, None, None)
    if not (p == "fro" if isinstance(p, str) else isinstance(p, numbers.Real)) or p != p:
        raise ValueError(f"norm: p must be a number, inf or 'fro', got {p!r:.40}")
    if isinstance(p, bool):
        raise ValueError(f"norm: p must be a number, inf or 'fro', got {p!r}")
    if p in ("fro", 2, 2.0):
        return _sqrt0((x * x).sum(dim, keepdim=keepdim), select=False)
    a = x.abs()
    if p in (np.inf, -np.inf):
        return _norm_inf(x, a, dim, keepdim, amax if p > 0 else amin)
    if p == 0:
        count = (x.data != 0).sum(axis=dim, keepdims=keepdim).astype(x.dtype)
        return constant_on(x.sum(dim, keepdim=keepdim), count)
    if p == 1:
        return a.sum(dim, keepdim=keepdim)
    return _root0((a**p).sum(dim, keepdim=keepdim), p)


def _norm_inf(x, a, dim, keepdim, extreme):
    """amax |x| (amin for -inf); a slice holding a nan is nan with a zero gradient (torch's
    norm treats a nan as the max and multiplies by sign(nan) = 0), where amax alone would
    make that slice's gradient nan."""
    dims = () if dim is None else dim
    nan = np.isnan(x.data)
    if not nan.any():
        return extreme(a, dims, keepdim)
    hit = nan.any(axis=None if dims == () else dims, keepdims=keepdim)
    return pick(hit, np.nan, extreme(pick(nan, 0.0, a), dims, keepdim))
