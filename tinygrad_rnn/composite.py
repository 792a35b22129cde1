"""Ops composed from primitives: no backward rule of their own, the graph shows the parts.

`split` and `chunk` are slices (`getitem`), so each piece is a node whose gradient is added
back into its part of the input. They need no Tensor import: any node with `shape`, `ndim`
and `[]` will do.
"""


def split(x, size_or_sizes, axis=0):
    """Slices of `x` along `axis`: equal pieces of `size`, or the given list of sizes."""
    n = x.shape[axis]
    if isinstance(size_or_sizes, int):
        if size_or_sizes <= 0:
            raise ValueError(f"split: size must be positive, got {size_or_sizes}")
        sizes = [size_or_sizes] * (n // size_or_sizes)
        if n % size_or_sizes:
            sizes.append(n % size_or_sizes)
    else:
        sizes = list(size_or_sizes)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n} along axis {axis}")
    axis = axis % x.ndim
    pieces, start = [], 0
    for size in sizes:
        index = (slice(None),) * axis + (slice(start, start + size),)
        pieces.append(x[index])
        start += size
    return pieces


def chunk(x, chunks, axis=0):
    """`chunks` pieces of (almost) equal size along `axis`, as torch.chunk."""
    n = x.shape[axis]
    size = -(-n // chunks)
    return split(x, size, axis=axis)
