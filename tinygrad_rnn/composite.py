"""The PyTorch operations built from primitives: no backward rule of their own to trust.

Each function takes tensors and returns a tensor made by the ops in `ops.py`, so its
gradient is whatever the chain rule makes of theirs, and its graph shows the pieces
(`std` is a `var`, then a square root). `Tensor` forwards its torch-named methods here
(`x.permute(1, 0)` is `permute(x, 1, 0)`). Numerical care lives in the composition:
`logsumexp` shifts by a constant max, `std` and `norm` take a square root that passes a zero
gradient at 0 (as torch does) instead of 0 * inf = nan.
"""

import numbers
from collections import namedtuple

import numpy as np

from . import ops

# `values, indices = x.max(dim=1)`: torch.return_types.max, with `.values` and `.indices`
ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _is_tensor(x):
    # the Tensor class, reached through the node constructor tensor.py hands to ops.py: this
    # module needs no import of tensor.py (which binds these functions as its methods)
    return isinstance(x, ops.Op.make_node.__self__)


def _leaf(array):
    """A constant leaf (no grad) holding `array`."""
    return ops.Op.make_node(np.asarray(array), (), None, False)


def _lift(value, like):
    """A number or array as a constant leaf of `like`'s float dtype; a tensor as it is."""
    if _is_tensor(value):
        return value
    if isinstance(value, (int, float, np.number)) and like.data.dtype.kind == "f":
        return _leaf(np.asarray(value, dtype=like.data.dtype))
    return _leaf(value)


def _where(condition, a, b):
    like = a if _is_tensor(a) else b
    return ops.Where.apply(_lift(a, like), _lift(b, like), condition=condition)


def reduction_dims(name, dim, keepdim, axis, keepdims):
    """(dim, keepdim) from torch's names or numpy's aliases `axis`/`keepdims`."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{name}: give dim or axis, not both")
        dim = axis
    if isinstance(dim, list):
        dim = tuple(dim)
    if not (dim is None or _whole(dim) or (isinstance(dim, tuple) and all(map(_whole, dim)))):
        raise TypeError(f"{name}: dim must be an integer or a tuple of integers, got {dim!r:.40}")
    return dim, bool(keepdim if keepdims is None else keepdims)


def _const(x, value):
    """`value` (not differentiated) as a node depending on `x`: its gradient into x is 0.

    A plain constant would leave `x.grad` None where torch gives zeros (sign, argmax-like
    results still hang on the graph), so the value goes through `where` with an all-false
    condition.
    """
    value = np.asarray(value, dtype=np.result_type(x.data.dtype, np.float16))
    never = np.zeros(np.broadcast_shapes(x.shape, value.shape), dtype=bool)
    return ops.Where.apply(x, _lift(value, x), condition=never)


def check_dim(where, dim, ndim):
    """`dim` as a non-negative axis of an `ndim`-d tensor, or IndexError naming both (as
    torch: dims -ndim..ndim-1 are valid; a 0-d tensor takes 0 and -1)."""
    if not _whole(dim):
        raise TypeError(f"{where}: dim must be an integer, got {dim!r}")
    dim, top = int(dim), (ndim if ndim > 0 else 1)
    if not -top <= dim < top:
        raise IndexError(
            f"{where}: dim {dim} is out of range for a {ndim}-d tensor (expected {-top}..{top - 1})"
        )
    return dim % top


_dim = check_dim


def _input(fn, x):
    """`x` when it is a Tensor; else a TypeError naming the function (as torch.amax(ndarray))."""
    if not _is_tensor(x):
        raise TypeError(f"{fn}: expected a Tensor, got {type(x).__name__} {x!r:.40}")
    return x


def _whole(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def sizes(args):
    """`f(2, 3)` or `f((2, 3))`: the sizes as one tuple."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


# ----- comparisons: bool tensors outside the graph ----------------------------------------------
def _raw(x):
    return x._data if _is_tensor(x) else x


def lt(x, other):
    return _leaf(x._data < _raw(other))


def le(x, other):
    return _leaf(x._data <= _raw(other))


def gt(x, other):
    return _leaf(x._data > _raw(other))


def ge(x, other):
    return _leaf(x._data >= _raw(other))


def eq(x, other):
    """Elementwise `==` as a bool tensor (the `==` operator compares identity)."""
    return _leaf(x._data == _raw(other))


def ne(x, other):
    return _leaf(x._data != _raw(other))


# ----- shape -------------------------------------------------------------------------------------
def reshape(x, *shape):
    """x with a new shape of the same size: `x.reshape(2, 3)` or `((2, 3))`; one -1 infers."""
    shape = sizes(shape)
    if not all(map(_whole, shape)):
        raise TypeError(f"reshape: sizes must be integers, got {shape!r:.60}")
    bad = [n for n in shape if n < -1]  # (this module's min is the tensor reduction)
    if bad:
        raise ValueError(f"reshape: invalid size {bad[0]} in {shape} (sizes are >= 0, or -1)")
    return ops.Reshape.apply(x, shape=shape)


def permute(x, *dims):
    """Reorder the axes: `x.permute(2, 0, 1)` (negative dims count from the end)."""
    _input("permute", x)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return ops.Transpose.apply(x, axes=tuple(dims))


def t(x):
    """Transpose of a matrix; a 0-d or 1-D tensor comes back as it is (torch.t)."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with <= 2 dimensions, got shape {x.shape}")
    return ops.Transpose.apply(x, axes=tuple(range(x.ndim))[::-1])


def squeeze(x, dim=None):
    """Drop axes of size 1 (all of them, or those in `dim` that have size 1, as torch)."""
    _input("squeeze", x)
    if dim is None:
        dims = [d for d, n in enumerate(x.shape) if n == 1]
    else:
        dims = [_dim("squeeze", d, x.ndim) for d in (dim if isinstance(dim, tuple) else (dim,))]
    shape = tuple(n for d, n in enumerate(x.shape) if not (d in dims and n == 1))
    return ops.Reshape.apply(x, shape=shape)


def unsqueeze(x, dim):
    """Insert an axis of size 1 at `dim` (-1 appends one at the end)."""
    _input("unsqueeze", x)
    d = _dim("unsqueeze", dim, x.ndim + 1)
    return ops.Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def flatten(x, start_dim=0, end_dim=-1):
    """Merge the axes start_dim..end_dim into one (a 0-d tensor becomes shape (1,))."""
    _input("flatten", x)
    if x.ndim == 0:
        return ops.Reshape.apply(x, shape=(1,))
    s, e = _dim("flatten", start_dim, x.ndim), _dim("flatten", end_dim, x.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:s] + (int(np.prod(x.shape[s : e + 1])),) + x.shape[e + 1 :]
    return ops.Reshape.apply(x, shape=shape)


def expand(x, *sizes):
    """Broadcast to `sizes` (-1 keeps a size): x * ones, so the gradient sums back."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a {x.ndim}-d tensor {x.shape}")
    shape = []
    for k, n in enumerate(sizes):
        old = x.shape[k - lead] if k >= lead else None
        if n == -1 and old is None:
            raise ValueError(f"expand: -1 is not allowed for the new leading axis {k}")
        n = old if n == -1 else n
        if old not in (None, 1, n):
            raise ValueError(f"expand: axis {k} has size {old}, cannot expand it to {n}")
        shape.append(n)
    return x * np.ones(shape, dtype=x.dtype)


def flip(x, dims):
    """Reverse the order along `dims` (an int or a tuple)."""
    _input("flip", x)
    index = [slice(None)] * x.ndim
    for d in dims if isinstance(dims, (tuple, list)) else (dims,):
        index[_dim("flip", d, x.ndim)] = slice(None, None, -1)
    return ops.GetItem.apply(x, index=tuple(index))


def getitem(x, index):
    """x[index] following torch where numpy differs: ints go first.

    numpy moves advanced-index axes to the front when an int and an integer array are
    separated by a slice (`x[0, :, [0, 1]]` has shape (2, 3)); torch applies the ints first
    (shape (3, 2)). Here such an index runs as two getitems: the ints, then the rest.
    """
    if _is_tensor(index):
        index = index.data
    elif isinstance(index, list):
        index = np.asarray(index)
    elif isinstance(index, tuple):
        index = tuple(_index_part(i) for i in index)
        ints = [k for k, p in enumerate(index) if _is_int(p)]
        if ints and any(isinstance(p, np.ndarray) and p.ndim > 0 for p in index):
            first, rest = _ints_first(index, x.ndim)
            return ops.GetItem.apply(ops.GetItem.apply(x, index=first), index=rest)
    return ops.GetItem.apply(x, index=index)


def _index_part(p):
    if _is_tensor(p):
        p = p.data
    if isinstance(p, list):
        return np.asarray(p)
    if isinstance(p, np.ndarray) and p.ndim == 0 and p.dtype.kind in "iu":
        return int(p)  # a 0-d integer tensor indexes as an int, as in torch
    return p


def _is_int(p):
    return isinstance(p, (int, np.integer)) and not isinstance(p, bool)


def _ints_first(index, ndim):
    """(the ints of `index` with slices elsewhere, the rest of `index` without the ints)."""
    consumed = sum(p.ndim if isinstance(p, np.ndarray) and p.dtype == bool else 1 for p in index)
    consumed -= sum(1 for p in index if p is None or p is Ellipsis)
    first, rest = [], []
    for p in index:
        if p is Ellipsis:
            first += [slice(None)] * (ndim - consumed)
            rest.append(p)
        elif _is_int(p):
            first.append(p)
        elif p is None:
            rest.append(p)
        else:
            width = p.ndim if isinstance(p, np.ndarray) and p.dtype == bool else 1
            first += [slice(None)] * width
            rest.append(p)
    return tuple(first), tuple(rest)


def split(x, split_size_or_sections, dim=0, axis=None):
    """Pieces along `dim`: of `size` each (the last may be smaller), or of the given sizes
    (non-negative, adding up to the length of the axis). A tuple, as torch.split."""
    _input("split", x)
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor has no axis to split")
    d = check_dim("split", dim if axis is None else axis, x.ndim)
    n, sizes = x.shape[d], split_size_or_sections
    if _whole(sizes):
        if sizes <= 0:
            raise ValueError(f"split: size must be positive, got {sizes}")
        sizes = [int(sizes)] * (n // sizes) + ([n % sizes] if n % sizes or not n else [])
    else:
        try:
            sizes = list(sizes)
        except TypeError:
            raise TypeError(f"split: expected a size or a list of sizes, got {sizes!r}") from None
        if not all(_whole(k) for k in sizes):
            raise TypeError(f"split: sizes must be integers, got {sizes}")
        if any(k < 0 for k in sizes):
            raise ValueError(f"split: sizes must be >= 0, got {sizes}")
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n} along axis {d}")
    pieces, start = [], 0
    for size in sizes:
        # the last piece reads `start:` ("the rest"), as one would write it by hand
        stop = None if start + size == n else start + size
        index = (slice(None),) * d + (slice(start, stop),)
        pieces.append(ops.GetItem.apply(x, index=index))
        start += size
    return tuple(pieces)


def chunk(x, chunks, dim=0, axis=None):
    """`chunks` pieces of (almost) equal size along `dim`, as torch.chunk."""
    _input("chunk", x)
    if not _whole(chunks) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    if x.ndim == 0:
        raise ValueError("chunk: a 0-d tensor has no axis to split")
    d = check_dim("chunk", dim if axis is None else axis, x.ndim)
    if x.shape[d] == 0:  # torch: `chunks` empty pieces
        return split(x, [0] * int(chunks), d)
    return split(x, -(-x.shape[d] // chunks), d)


class Size(int):
    """The element count (numpy's `x.size`), callable as torch's `x.size()` / `x.size(dim)`."""

    def __new__(cls, shape):
        self = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        self.shape = shape
        return self

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        return self.shape[_dim("size", dim, len(self.shape))]


# ----- reductions ---------------------------------------------------------------------------------
def _extreme(x, dim, keepdim, axis, keepdims, op, arg):
    if _is_tensor(dim):  # x.max(y) is torch.maximum(x, y)
        return ops.Maximum.apply(x, dim) if op == "Max" else ops.Minimum.apply(x, dim)
    dim, keepdim = reduction_dims(op.lower(), dim, keepdim, axis, keepdims)
    if dim is None:
        return getattr(ops, op).apply(x)
    if isinstance(dim, tuple):  # not in torch.max: the amax of those dims
        return getattr(ops, op).apply(x, axis=dim, keepdims=keepdim)
    d = _dim(op.lower(), dim, x.ndim)
    if x.ndim and x.shape[d] == 0:  # torch: only an empty reduced axis has no max
        raise ValueError(f"{op.lower()}: reduction over dim {dim} of size 0 of a tensor {x.shape}")
    if x.ndim == 0:
        index = np.zeros((), dtype=np.int64)
    else:
        index = arg(x.data, axis=d, keepdims=True)
    values = getattr(ops, op).apply(x, axis=d, keepdims=keepdim, index=index)
    if not keepdim and x.ndim:
        index = np.squeeze(index, axis=d)
    return ValuesIndices(values, _leaf(index.astype(np.int64)))


def max(x, dim=None, keepdim=False, axis=None, keepdims=None):  # noqa: A001
    """`x.max()` a 0-d tensor (ties share the gradient); `x.max(dim)` (values, indices), the
    gradient going to the returned index; `x.max(other)` the elementwise maximum."""
    return _extreme(x, dim, keepdim, axis, keepdims, "Max", np.argmax)


def min(x, dim=None, keepdim=False, axis=None, keepdims=None):  # noqa: A001
    """As `max`, for the minimum."""
    return _extreme(x, dim, keepdim, axis, keepdims, "Min", np.argmin)


def amax(x, dim=(), keepdim=False):
    """The max over `dim` (an int, a tuple; () for all), ties sharing the gradient evenly."""
    _input("amax", x)
    return ops.Max.apply(
        x, axis=reduction_dims("amax", dim, keepdim, None, None)[0], keepdims=keepdim
    )


def amin(x, dim=(), keepdim=False):
    """The min over `dim` (an int, a tuple; () for all), ties sharing the gradient evenly."""
    _input("amin", x)
    return ops.Min.apply(
        x, axis=reduction_dims("amin", dim, keepdim, None, None)[0], keepdims=keepdim
    )


def _arg(x, dim, keepdim, fn, name):
    if dim is None:
        if x.data.size == 0:
            raise ValueError(f"{name}: of an empty tensor {x.shape}")
        return _leaf(np.asarray(fn(x.data), dtype=np.int64))
    d = _dim(name, dim, x.ndim)
    if x.ndim and x.shape[d] == 0:
        raise ValueError(f"{name}: over dim {dim} of size 0 of a tensor {x.shape}")
    if x.ndim == 0:
        return _leaf(np.zeros((), dtype=np.int64))
    return _leaf(fn(x.data, axis=d, keepdims=bool(keepdim)).astype(np.int64))


def argmax(x, dim=None, keepdim=False):
    """Index of the (first) largest value: along `dim`, or into the flattened tensor."""
    _input("argmax", x)
    return _arg(x, dim, keepdim, np.argmax, "argmax")


def argmin(x, dim=None, keepdim=False):
    """Index of the (first) smallest value: along `dim`, or into the flattened tensor."""
    _input("argmin", x)
    return _arg(x, dim, keepdim, np.argmin, "argmin")


def maximum(a, b):
    """Elementwise max (a tie sends half the gradient each way, as torch)."""
    _input("maximum", a)
    return ops.Maximum.apply(a, _lift(b, a))


def minimum(a, b):
    """Elementwise min (a tie sends half the gradient each way, as torch)."""
    _input("minimum", a)
    return ops.Minimum.apply(a, _lift(b, a))


def logsumexp(x, dim, keepdim=False):
    """log sum_i e^{x_i} over `dim`, computed as m + log sum_i e^{x_i - m} with m = max x held
    constant (it cancels from the value, so also from the gradient: softmax(x))."""
    _input("logsumexp", x)
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
    _input("prod", x)
    dim, keepdim = reduction_dims("prod", dim, keepdim, axis, keepdims)
    return ops.Prod.apply(x, axis=dim, keepdims=keepdim)


def cumsum(x, dim):
    """Running sum along `dim` (torch.cumsum)."""
    _input("cumsum", x)
    return ops.CumSum.apply(x, axis=_dim("cumsum", dim, x.ndim))


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """sum (x - mean)^2 / (N - correction) over `dim`; correction 1 (unbiased=True) by default,
    0 for `unbiased=False` (torch)."""
    _input("var", x)
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
    _input("std", x)
    return _sqrt0(
        var(x, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    )


def _sqrt0(v, select=True):
    """sqrt with a zero gradient at 0 (torch's norm and std): where(v > 0, sqrt(v'), 0), the 0
    (nan where v is nan) a constant hung on v, so even an infinite gradient stops there."""
    positive = ~(v.data <= 0)  # nan too: its gradient is nan, as torch's
    safe = _where(positive, v, 1.0).sqrt()
    # torch's std selects 0 there; its 2-norm multiplies by 0 (an infinite gradient gives nan)
    return _where(positive, safe, _const(v, v.data * 0.0) if select else v * 0.0)


def _root0(v, p):
    """v ** (1/p) with a zero gradient at 0, as `_sqrt0`."""
    positive = ~(v.data <= 0)  # nan too (a nan gradient, as torch)
    return _where(positive, _where(positive, v, 1.0) ** (1.0 / p), _const(v, v.data * 0.0))


def norm(x, p="fro", dim=None, keepdim=False):
    """The p-norm over `dim` (all by default): 2 ('fro'), 1, inf, -inf, 0 or any number."""
    _input("norm", x)
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
        return _const(x.sum(dim, keepdim=keepdim), count)
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
    return _where(hit, np.nan, extreme(_where(nan, 0.0, a), dims, keepdim))


# ----- elementwise -------------------------------------------------------------------------------
def sin(x):
    return ops.Sin.apply(x)


def cos(x):
    return ops.Cos.apply(x)


def log1p(x):
    return ops.Log1p.apply(x)


def expm1(x):
    return ops.Expm1.apply(x)


def log1p_exp(x, pair=False):
    """log(1 + e^x) (softplus), exact to the last bits at every x, never overflowing; with
    `pair`, (log(1 + e^x), log(1 + e^-x)) sharing one tail (binary cross-entropy's two logs).

    Computed as log1p(e^{-|x|}) + max(x, 0): the exponential only sees -|x| <= 0, and log1p
    keeps e^-30 (1e-13) to full relative precision where log(1 + e^-30) would round it to
    three digits. -|x| is a `where` taking x where x <= 0 and -x elsewhere, so at the kink
    x = 0 the gradient is sigmoid(0) = 1/2 (abs and relu would give 0 there); the gradient
    is sigmoid(x), exact in both tails.
    """
    below = x.data <= 0
    tail = ops.Log1p.apply(ops.Exp.apply(_where(below, x, -x)))
    up = _where(below, tail, x + tail)
    return (up, _where(below, tail - x, tail)) if pair else up


def sign(x):
    """-1, 0 or 1 (0 at nan, as torch); the gradient is 0 everywhere."""
    return _const(x, (x.data > 0).astype(x.dtype) - (x.data < 0))


def reciprocal(x):
    return 1.0 / x


def rsqrt(x):
    """1 / sqrt(x), as torch: -inf at -0.0 and nan at -inf (x ** -0.5 gives inf and 0)."""
    return 1.0 / x.sqrt()


def square(x):
    return x**2


def power(x, exponent):
    """x ** exponent: a number (the `pow` op), or a tensor or array (elementwise exponents)."""
    if _is_tensor(exponent):
        return ops.PowTensor.apply(x, exponent)
    if isinstance(exponent, numbers.Real):
        return ops.Pow.apply(x, exponent=float(exponent))
    array = _numeric("pow", "exponent", exponent)
    return ops.PowTensor.apply(x, _lift(_fits("pow", "exponent", array, x.shape), x))


def clamp(x, low=None, high=None):
    """x clamped to [low, high]: numbers (the `clip` op), or tensors or arrays (`clamp_tensor`)."""
    if low is None and high is None:
        raise ValueError("clamp: give min, max or both")
    if not any(
        _is_tensor(b) or not (b is None or isinstance(b, numbers.Real)) for b in (low, high)
    ):
        return ops.Clip.apply(x, low=low, high=high)
    bounds = []
    for name, b in (("min", low), ("max", high)):
        if b is not None and not _is_tensor(b):
            b = _lift(_numeric("clamp", name, b).astype(x.dtype, copy=False), x)
        bounds.append(None if b is None else _fits("clamp", name, b, x.shape))
    return clamp_tensor(x, *bounds)


def _numeric(fn, name, value):
    """`value` as a real numeric array, or a TypeError naming the argument."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.asarray(None)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: {name} must be a number or a tensor, got {value!r:.40}")
    return array


def _fits(fn, name, value, shape):
    """`value` (an array or tensor) when its shape broadcasts with `shape`, else a ValueError."""
    try:
        np.broadcast_shapes(np.shape(value.data if _is_tensor(value) else value), shape)
    except ValueError:
        raise ValueError(
            f"{fn}: {name} of shape {np.shape(_raw(value))} does not broadcast with the "
            f"input's shape {shape}"
        ) from None
    return value


def clamp_tensor(x, low=None, high=None):
    """clamp with tensor bounds: where(x < low, low, x), then where(. > high, high, .); x keeps
    the gradient on the bounds, a bound gets it where it wins (torch's rule)."""
    if low is None and high is None:
        raise ValueError("clamp: give min, max or both")
    out = x
    if low is not None:
        out = _where(out._data < _raw(low), _lift(low, x), out)
    if high is not None:
        out = _where(out._data > _raw(high), _lift(high, x), out)
    return out


def masked_fill(x, mask, value):
    """`value` where `mask` is True, x elsewhere; `mask` (bool) broadcasts to x's shape."""
    _input("masked_fill", x)
    mask = np.asarray(mask.data if _is_tensor(mask) else mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {mask.dtype}")
    if np.broadcast_shapes(mask.shape, x.shape) != x.shape:
        raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to {x.shape}")
    if _is_tensor(value) and value.ndim != 0:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got {value.shape}")
    if not _is_tensor(value) and not isinstance(value, numbers.Real):
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got {value!r:.40}")
    return ops.Where.apply(_lift(value, x), x, condition=mask)


# ----- products and selection --------------------------------------------------------------------
def mm(a, b):
    """Matrix product of two 2-D tensors (n, k) @ (k, m)."""
    _input("mm", a)
    _input("mm", b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: both operands must be 2-D, got {a.shape} and {b.shape}")
    return a @ b


def bmm(a, b):
    """Batched matrix product: (B, n, k) @ (B, k, m), no broadcasting."""
    _input("bmm", a)
    _input("bmm", b)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: needs (B, n, k) and (B, k, m), got {a.shape} and {b.shape}")
    return a @ b


def dot(a, b):
    """Inner product of two 1-D tensors of the same length."""
    _input("dot", a)
    _input("dot", b)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot: needs two 1-D tensors of one length, got {a.shape} and {b.shape}")
    return a @ b


def _index_array(name, index):
    index = np.asarray(index.data if _is_tensor(index) else index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got {index.dtype}")
    return index


def gather(x, dim, index):
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim=1; out has index's shape."""
    _input("gather", x)
    index = _index_array("gather", index)
    d = _dim("gather", dim, x.ndim)
    if index.ndim != x.ndim and not (x.ndim == 0 and index.ndim <= 1):
        raise ValueError(f"gather: index {index.shape} needs as many dims as input {x.shape}")
    if x.ndim == 0:
        return getitem(ops.Reshape.apply(x, shape=(1,)), index)
    for k, n in enumerate(index.shape):
        if k != d and n > x.shape[k]:
            raise ValueError(
                f"gather: index {index.shape} is larger than input {x.shape} at dim {k}"
            )
    bad = (index < 0) | (index >= x.shape[d])
    if bad.any():
        raise IndexError(
            f"gather: index {index[bad][0]} is out of range for dim {dim} of {x.shape}"
        )
    grid = list(np.indices(index.shape, sparse=True))
    grid[d] = index
    return ops.GetItem.apply(x, index=tuple(grid))


def index_select(x, dim, index):
    """The entries at `index` (1-D) along `dim`: x[:, index] for dim=1."""
    _input("index_select", x)
    index = _index_array("index_select", index)
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 1-D, got shape {index.shape}")
    d = _dim("index_select", dim, x.ndim)
    if x.ndim == 0:
        return getitem(ops.Reshape.apply(x, shape=(1,)), index.reshape(-1)).reshape(index.shape)
    bad = (index < 0) | (index >= x.shape[d])
    if bad.any():
        raise IndexError(
            f"index_select: index {index[bad][0]} out of range for dim {dim} of {x.shape}"
        )
    return ops.GetItem.apply(x, index=(slice(None),) * d + (index.reshape(-1),))
