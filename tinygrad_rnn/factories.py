"""Functions that make new leaf tensors: `tensor(...)`, `zeros(...)`, `ones(...)` (as torch)."""

import numpy as np

from .composite import sizes
from .tensor import Tensor


def tensor(data, requires_grad=False, dtype=None, label=None):
    """PyTorch-style factory: `tensor([1.0, 2.0], requires_grad=True)`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, label=label)


def zeros(*shape, requires_grad=False, dtype=np.float64):
    return Tensor(np.zeros(_shape("zeros", shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, requires_grad=False, dtype=np.float64):
    return Tensor(np.ones(_shape("ones", shape), dtype=dtype), requires_grad=requires_grad)


def _shape(fn, args):
    """`f(2, 3)` or `f((2, 3))` as a shape, or an error naming the function and the sizes."""
    shape = sizes(args)
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in shape):
        raise TypeError(f"{fn}: sizes must be integers, got {shape!r:.60}")
    if any(n < 0 for n in shape):
        raise ValueError(f"{fn}: sizes must be >= 0, got {shape}")
    return shape
