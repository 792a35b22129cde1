"""Matrix products with torch's shape checks: mm (2-D), bmm (batched 3-D), dot (1-D)."""

from .checks import expect_tensor


def mm(a, b):
    """Matrix product of two 2-D tensors (n, k) @ (k, m)."""
    expect_tensor("mm", a)
    expect_tensor("mm", b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: both operands must be 2-D, got {a.shape} and {b.shape}")
    return a @ b


def bmm(a, b):
    """Batched matrix product: (B, n, k) @ (B, k, m), no broadcasting."""
    expect_tensor("bmm", a)
    expect_tensor("bmm", b)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: needs (B, n, k) and (B, k, m), got {a.shape} and {b.shape}")
    return a @ b


def dot(a, b):
    """Inner product of two 1-D tensors of the same length."""
    expect_tensor("dot", a)
    expect_tensor("dot", b)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"dot: needs two 1-D tensors of one length, got {a.shape} and {b.shape}")
    return a @ b
