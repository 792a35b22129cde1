"""What the composites share: telling a Tensor apart, constant leaves, and argument checks.

Each check raises an error naming the function and the argument that was wrong (`check_dim`
an IndexError with the valid range, `expect_tensor` a TypeError with what came instead).
These are public within the package (other modules import `check_dim`, `reduction_dims`,
`sizes`); `tinygrad_rnn.composite` re-exports the ones it always offered.
"""

import numbers

import numpy as np

from .. import ops


def is_tensor(x):
    # the Tensor class, reached through the node constructor tensor.py hands to ops.py: this
    # module needs no import of tensor.py (which binds these functions as its methods)
    return isinstance(x, ops.Op.make_node.__self__)


def leaf(array):
    """A constant leaf (no grad) holding `array`."""
    return ops.Op.make_node(np.asarray(array), (), None, False)


def lift(value, like):
    """A number or array as a constant leaf of `like`'s float dtype; a tensor as it is."""
    if is_tensor(value):
        return value
    if isinstance(value, (int, float, np.number)) and like.data.dtype.kind == "f":
        return leaf(np.asarray(value, dtype=like.data.dtype))
    return leaf(value)


def floating(x):
    """x, or a float64 copy of a bool or integer x, for the composites that compute a float
    (torch's default float dtype, ours float64). Such a tensor cannot require grad, so the
    copy is a constant leaf."""
    if x.data.dtype.kind in "fc":
        return x
    return leaf(x.data.astype(np.float64))


def pick(condition, a, b):
    like = a if is_tensor(a) else b
    return ops.Where.apply(lift(a, like), lift(b, like), condition=condition)


def reduction_dims(name, dim, keepdim, axis, keepdims):
    """(dim, keepdim) from torch's names or numpy's aliases `axis`/`keepdims`."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{name}: give dim or axis, not both")
        dim = axis
    if isinstance(dim, list):
        dim = tuple(dim)
    if not (dim is None or is_whole(dim) or (isinstance(dim, tuple) and all(map(is_whole, dim)))):
        raise TypeError(f"{name}: dim must be an integer or a tuple of integers, got {dim!r:.40}")
    return dim, bool(keepdim if keepdims is None else keepdims)


def constant_on(x, value):
    """`value` (not differentiated) as a node depending on `x`: its gradient into x is 0.

    A plain constant would leave `x.grad` None where torch gives zeros (sign, argmax-like
    results still hang on the graph), so the value goes through `where` with an all-false
    condition.
    """
    value = np.asarray(value, dtype=np.result_type(x.data.dtype, np.float16))
    never = np.zeros(np.broadcast_shapes(x.shape, value.shape), dtype=bool)
    return ops.Where.apply(x, lift(value, x), condition=never)


def check_dim(where, dim, ndim):
    """`dim` as a non-negative axis of an `ndim`-d tensor, or IndexError naming both (as
    torch: dims -ndim..ndim-1 are valid; a 0-d tensor takes 0 and -1)."""
    if not is_whole(dim):
        raise TypeError(f"{where}: dim must be an integer, got {dim!r}")
    dim, top = int(dim), (ndim if ndim > 0 else 1)
    if not -top <= dim < top:
        raise IndexError(
            f"{where}: dim {dim} is out of range for a {ndim}-d tensor (expected {-top}..{top - 1})"
        )
    return dim % top


def expect_tensor(fn, x):
    """`x` when it is a Tensor; else a TypeError naming the function (as torch.amax(ndarray))."""
    if not is_tensor(x):
        raise TypeError(f"{fn}: expected a Tensor, got {type(x).__name__} {x!r:.40}")
    return x


def is_whole(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def sizes(args):
    """`f(2, 3)` or `f((2, 3))`: the sizes as one tuple."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def raw(x):
    return x._data if is_tensor(x) else x


def numeric(fn, name, value):
    """`value` as a real numeric array, or a TypeError naming the argument."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.asarray(None)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: {name} must be a number or a tensor, got {value!r:.40}")
    return array


def check_broadcast(fn, name, value, shape):
    """`value` (an array or tensor) when its shape broadcasts with `shape`, else a ValueError."""
    try:
        np.broadcast_shapes(np.shape(value.data if is_tensor(value) else value), shape)
    except ValueError:
        raise ValueError(
            f"{fn}: {name} of shape {np.shape(raw(value))} does not broadcast with the "
            f"input's shape {shape}"
        ) from None
    return value


def index_array(name, index):
    index = np.asarray(index.data if is_tensor(index) else index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got {index.dtype}")
    return index


def check_requires_grad(where, t, flag):
    """What `t.requires_grad = flag` or `t.requires_grad_(flag)` (`where`) may do, as in
    torch: only a floating-point tensor requires grad, and only a leaf's flag changes; a
    node an op made keeps the flag its inputs gave it (`requires_grad_` may restate it)."""
    if flag and t.data.dtype.kind not in "fc":
        raise TypeError(
            f"{where}: only floating-point tensors can require grad, got dtype {t.data.dtype}"
        )
    if t.op is not None and (where == "requires_grad" or flag != t.requires_grad):
        raise RuntimeError(
            f"{where}: only a leaf's flag can change, and this tensor is made by {t.op.name} "
            "(use .detach() for a copy outside the graph)"
        )
