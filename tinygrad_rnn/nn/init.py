"""Parameter initialisation with one seeded generator, as torch.manual_seed does.

Every random draw of the library's layers (initial weights, dropout masks) comes from
`generator()`; `manual_seed(s)` makes model construction and training reproducible. The
`*_` functions take torch's arguments; their `generator=` may be a numpy Generator of your
own (`np.random.default_rng(s)`) instead of the shared one.
"""

import math
import numbers

import numpy as np

_rng = np.random.default_rng(0)


def manual_seed(seed):
    """Reset the generator every layer draws its initial weights and dropout masks from."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def generator():
    return _rng


def _generator(generator):
    if generator is None:
        return _rng
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"generator must be a numpy Generator (np.random.default_rng(seed)), "
            f"got {type(generator).__name__}"
        )
    return generator


def _checked(fn, tensor, **numbers_):
    """The numbers of `fn`'s arguments, after checking `tensor` is a tensor and each number a
    finite real (an error naming the function and the argument otherwise)."""
    if not hasattr(tensor, "data") or not isinstance(tensor.data, np.ndarray):
        raise TypeError(f"{fn}: tensor must be a Tensor or Parameter, got {type(tensor).__name__}")
    for name, value in numbers_.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{fn}: {name} must be a number, got {value!r:.40}")
        if not math.isfinite(value):
            raise ValueError(f"{fn}: {name} must be finite, got {value}")
    return numbers_.values()


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill in place with U(a, b)."""
    a, b = _checked("uniform_", tensor, a=a, b=b)
    if a > b:
        raise ValueError(f"uniform_: expects a <= b (the range [a, b)), got a={a} > b={b}")
    tensor.data[...] = _generator(generator).uniform(a, b, size=tensor.shape)
    return tensor


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill in place with N(mean, std^2)."""
    mean, std = _checked("normal_", tensor, mean=mean, std=std)
    if std < 0:
        raise ValueError(f"normal_: expects std >= 0, got std={std}")
    tensor.data[...] = _generator(generator).normal(mean, std, size=tensor.shape)
    return tensor


def zeros_(tensor):
    tensor.data[...] = 0.0
    return tensor


def ones_(tensor):
    tensor.data[...] = 1.0
    return tensor


def constant_(tensor, val):
    if isinstance(val, bool) or not isinstance(val, numbers.Real):  # nan is a value here
        raise TypeError(f"constant_: val must be a number, got {val!r:.40}")
    tensor.data[...] = val
    return tensor


def orthogonal_(tensor, gain=1, generator=None):
    """A (rows, cols) matrix with orthonormal rows or columns, times gain (QR of a Gaussian)."""
    (gain,) = _checked("orthogonal_", tensor, gain=gain)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions, got {tensor.shape}")
    rows = tensor.shape[0]
    cols = int(np.prod(tensor.shape[1:]))
    a = _generator(generator).normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))  # make the factorisation unique, so the draw is uniform
    if rows < cols:
        q = q.T
    tensor.data[...] = (gain * q[:rows, :cols]).reshape(tensor.shape)
    return tensor


def recurrent_uniform_(tensor, hidden_size):
    """PyTorch's recurrent init: every parameter U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size)
    return uniform_(tensor, -bound, bound)
