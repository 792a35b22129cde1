"""Ops composed from primitives: no backward rule of their own, the graph shows the parts.

`split` and `chunk` are slices (`getitem`), so each piece is a node whose gradient is added
back into its part of the input. They need no Tensor import: any node with `shape`, `ndim`
and `[]` will do.
"""


def check_dim(where, dim, ndim):
    """`dim` as a non-negative axis of an `ndim`-d tensor, or IndexError naming both (as
    torch: dims -ndim..ndim-1 are valid)."""
    if not _whole(dim):
        raise TypeError(f"{where}: dim must be an integer, got {dim!r}")
    dim = int(dim)
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"{where}: dim {dim} is out of range for a {ndim}-d tensor "
            f"(expected {-ndim}..{ndim - 1})"
        )
    return dim % ndim


def _whole(value):
    return hasattr(value, "__index__") and not isinstance(value, bool)


def split(x, size_or_sizes, axis=0):
    """Slices of `x` along `axis`: equal pieces of `size`, or the given list of sizes
    (non-negative, adding up to the length of the axis)."""
    axis = check_dim("split", axis, max(x.ndim, 1))
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor has no axis to split")
    n = x.shape[axis]
    if _whole(size_or_sizes):
        if size_or_sizes <= 0:
            raise ValueError(f"split: size must be positive, got {size_or_sizes}")
        sizes = [size_or_sizes] * (n // size_or_sizes)
        if n % size_or_sizes:
            sizes.append(n % size_or_sizes)
    else:
        try:
            sizes = list(size_or_sizes)
        except TypeError:
            raise TypeError(
                f"split: expected a size or a list of sizes, got {size_or_sizes!r}"
            ) from None
        if not all(_whole(s) for s in sizes):
            raise TypeError(f"split: sizes must be integers, got {sizes}")
        if any(s < 0 for s in sizes):
            raise ValueError(f"split: sizes must be >= 0, got {sizes}")
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n} along axis {axis}")
    pieces, start = [], 0
    for size in sizes:
        index = (slice(None),) * axis + (slice(start, start + size),)
        pieces.append(x[index])
        start += size
    return pieces


def chunk(x, chunks, axis=0):
    """`chunks` pieces of (almost) equal size along `axis`, as torch.chunk."""
    if not _whole(chunks) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    axis = check_dim("chunk", axis, max(x.ndim, 1))
    if x.ndim == 0:
        raise ValueError("chunk: a 0-d tensor has no axis to split")
    n = x.shape[axis]
    size = max(1, -(-n // chunks))
    return split(x, size, axis=axis)
