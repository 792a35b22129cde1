"""Parameter initialisation with one seeded generator, as torch.manual_seed does.

Every random draw of the library's layers comes from `generator()`; `manual_seed(s)` makes
model construction reproducible.
"""

import math

import numpy as np

_rng = np.random.default_rng(0)


def manual_seed(seed):
    """Reset the generator every layer draws its initial weights from."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def generator():
    return _rng


def uniform_(tensor, low, high):
    """Fill in place with U(low, high)."""
    tensor.data[...] = _rng.uniform(low, high, size=tensor.shape)
    return tensor


def normal_(tensor, mean=0.0, std=1.0):
    tensor.data[...] = _rng.normal(mean, std, size=tensor.shape)
    return tensor


def zeros_(tensor):
    tensor.data[...] = 0.0
    return tensor


def orthogonal_(tensor, gain=1.0):
    """A (rows, cols) matrix with orthonormal rows or columns, times gain (QR of a Gaussian)."""
    rows, cols = tensor.shape
    a = _rng.normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # make the factorisation unique, so the draw is uniform
    if rows < cols:
        q = q.T
    tensor.data[...] = gain * q[:rows, :cols]
    return tensor


def recurrent_uniform_(tensor, hidden_size):
    """PyTorch's recurrent init: every parameter U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size)
    return uniform_(tensor, -bound, bound)
