"""The parts of an op case: `OpCase` and the seeded input generators (see opcases.py)."""

from dataclasses import dataclass

import numpy as np

from .tensor import Tensor

# ----- seeded value generators: each returns make(rng) -> float64 array -----------------------


def U(*shape, low=-1.5, high=1.5):
    """Uniform values: for smooth ops."""
    return lambda rng: rng.uniform(low, high, size=shape)


def P(*shape, low=0.5, high=2.0):
    """Positive values: for log, sqrt, division and fractional or negative powers."""
    return U(*shape, low=low, high=high)


def away(*shape, kinks=(0.0,), margin=0.1, low=-1.5, high=1.5):
    """Uniform values at least `margin` from every kink (relu, abs, clip bounds)."""

    def make(rng):
        flat = rng.uniform(low, high, size=int(np.prod(shape)))
        while True:
            near = np.zeros(flat.shape, dtype=bool)
            for k in kinks:
                near |= np.abs(flat - k) < margin
            if not near.any():
                return flat.reshape(shape)
            flat[near] = rng.uniform(low, high, size=int(near.sum()))

    return make


def distinct(*shape, gap=0.1):
    """All values distinct, `gap` apart (shuffled): every max is unique, so it has a derivative."""

    def make(rng):
        n = int(np.prod(shape))
        return ((rng.permutation(n) - n / 2) * gap + rng.uniform(0, gap / 4)).reshape(shape)

    return make


def fixed(value):
    """A given value (micrograd's a = -4, b = 2)."""
    return lambda rng: np.array(value, dtype=np.float64)


# ----- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpCase:
    """One use of a primitive: `fn(*tensors)`, its numpy twin `ref`, input generators."""

    name: str
    fn: object  # Tensors -> Tensor
    ref: object  # ndarrays -> ndarray, or None: fn itself is plain numpy
    inputs: tuple  # one generator per input

    def arrays(self, seed=0, dtype=np.float64):
        rng = np.random.default_rng(seed)
        return [np.asarray(make(rng), dtype=dtype) for make in self.inputs]

    def tensors(self, seed=0, dtype=np.float64):
        return [Tensor(a, requires_grad=True) for a in self.arrays(seed, dtype)]

    def reference(self, *arrays):
        return np.asarray((self.ref or self.fn)(*arrays))

    @property
    def argnames(self):
        code = self.fn.__code__
        return list(code.co_varnames[: code.co_argcount])
