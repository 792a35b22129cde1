"""Functions that make new leaf tensors: `tensor(...)`, `zeros(...)`, `ones(...)` (as torch)."""

import numpy as np

from .composite import sizes
from .tensor import Tensor


def tensor(data, requires_grad=False, dtype=None, label=None):
    """PyTorch-style factory: `tensor([1.0, 2.0], requires_grad=True)`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, label=label)


def zeros(*shape, requires_grad=False, dtype=np.float64):
    return Tensor(np.zeros(sizes(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, requires_grad=False, dtype=np.float64):
    return Tensor(np.ones(sizes(shape), dtype=dtype), requires_grad=requires_grad)
