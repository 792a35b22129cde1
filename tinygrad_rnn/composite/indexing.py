"""Indexing: `x[index]` with torch's order for mixed int/array indices, gather, index_select.

All three are the `GetItem` primitive: its backward scatters (adds) the gradient into the
places that were read, so a repeated index receives the sum of its gradients.
"""

import numpy as np

from .. import ops
from .checks import (
    check_dim,
    expect_tensor,
    index_array,
    is_tensor,
)


def getitem(x, index):
    """x[index] following torch where numpy differs: ints go first.

    numpy moves advanced-index axes to the front when an int and an integer array are
    separated by a slice (`x[0, :, [0, 1]]` has shape (2, 3)); torch applies the ints first
    (shape (3, 2)). Here such an index runs as two getitems: the ints, then the rest.
    """
    if is_tensor(index):
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
    if is_tensor(p):
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


def gather(x, dim, index):
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim=1; out has index's shape."""
    expect_tensor("gather", x)
    index = index_array("gather", index)
    d = check_dim("gather", dim, x.ndim)
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
    expect_tensor("index_select", x)
    index = index_array("index_select", index)
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 1-D, got shape {index.shape}")
    d = check_dim("index_select", dim, x.ndim)
    if x.ndim == 0:
        return getitem(ops.Reshape.apply(x, shape=(1,)), index.reshape(-1)).reshape(index.shape)
    bad = (index < 0) | (index >= x.shape[d])
    if bad.any():
        raise IndexError(
            f"index_select: index {index[bad][0]} out of range for dim {dim} of {x.shape}"
        )
    return ops.GetItem.apply(x, index=(slice(None),) * d + (index.reshape(-1),))
