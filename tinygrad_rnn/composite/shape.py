"""Shape and view operations: reshape, permute, squeeze, expand, flip, split, chunk, Size.

Each is a `Reshape`, `Transpose` or `GetItem` primitive (or `x * ones` for expand), so its
gradient moves the upstream gradient back into x's shape.
"""

import numpy as np

from .. import ops
from .checks import (
    check_dim,
    expect_tensor,
    is_whole,
    sizes,
)


def reshape(x, *shape):
    """x with a new shape of the same size: `x.reshape(2, 3)` or `((2, 3))`; one -1 infers."""
    shape = sizes(shape)
    if not all(map(is_whole, shape)):
        raise TypeError(f"reshape: sizes must be integers, got {shape!r:.60}")
    bad = [n for n in shape if n < -1]  # (this module's min is the tensor reduction)
    if bad:
        raise ValueError(f"reshape: invalid size {bad[0]} in {shape} (sizes are >= 0, or -1)")
    return ops.Reshape.apply(x, shape=shape)


def permute(x, *dims):
    """Reorder the axes: `x.permute(2, 0, 1)` (negative dims count from the end)."""
    expect_tensor("permute", x)
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
    expect_tensor("squeeze", x)
    if dim is None:
        dims = [d for d, n in enumerate(x.shape) if n == 1]
    else:
        dims = [
            check_dim("squeeze", d, x.ndim) for d in (dim if isinstance(dim, tuple) else (dim,))
        ]
    shape = tuple(n for d, n in enumerate(x.shape) if not (d in dims and n == 1))
    return ops.Reshape.apply(x, shape=shape)


def unsqueeze(x, dim):
    """Insert an axis of size 1 at `dim` (-1 appends one at the end)."""
    expect_tensor("unsqueeze", x)
    d = check_dim("unsqueeze", dim, x.ndim + 1)
    return ops.Reshape.apply(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def flatten(x, start_dim=0, end_dim=-1):
    """Merge the axes start_dim..end_dim into one (a 0-d tensor becomes shape (1,))."""
    expect_tensor("flatten", x)
    if x.ndim == 0:
        return ops.Reshape.apply(x, shape=(1,))
    s, e = check_dim("flatten", start_dim, x.ndim), check_dim("flatten", end_dim, x.ndim)
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
    expect_tensor("flip", x)
    index = [slice(None)] * x.ndim
    for d in dims if isinstance(dims, (tuple, list)) else (dims,):
        index[check_dim("flip", d, x.ndim)] = slice(None, None, -1)
    return ops.GetItem.apply(x, index=tuple(index))


def split(x, split_size_or_sections, dim=0, axis=None):
    """Pieces along `dim`: of `size` each (the last may be smaller), or of the given sizes
    (non-negative, adding up to the length of the axis). A tuple, as torch.split."""
    expect_tensor("split", x)
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor has no axis to split")
    d = check_dim("split", dim if axis is None else axis, x.ndim)
    n, sizes = x.shape[d], split_size_or_sections
    if is_whole(sizes):
        if sizes <= 0:
            raise ValueError(f"split: size must be positive, got {sizes}")
        sizes = [int(sizes)] * (n // sizes) + ([n % sizes] if n % sizes or not n else [])
    else:
        try:
            sizes = list(sizes)
        except TypeError:
            raise TypeError(f"split: expected a size or a list of sizes, got {sizes!r}") from None
        if not all(is_whole(k) for k in sizes):
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
    expect_tensor("chunk", x)
    if not is_whole(chunks) or chunks < 1:
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
        return self.shape[check_dim("size", dim, len(self.shape))]
