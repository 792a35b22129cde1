"""Linear and Embedding layers."""

import math

import numpy as np

from ..ops import Linear as _LinearOp
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x W^T + b with W (out_features, in_features); init U(-1/sqrt(in), 1/sqrt(in))."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        _check_positive("Linear", in_features=in_features, out_features=out_features)
        self.in_features = in_features
        self.out_features = out_features
        bound = 1.0 / math.sqrt(in_features)
        self.weight = init.uniform_(Parameter(np.empty((out_features, in_features))), -bound, bound)
        if bias:
            self.bias = init.uniform_(Parameter(np.empty(out_features)), -bound, bound)
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={bias}"


def linear(x, weight, bias=None):
    """x W^T + b as one node (torch.nn.functional.linear)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if bias is None:
        return _LinearOp.apply(x, weight)
    return _LinearOp.apply(x, weight, bias)


class Embedding(Module):
    """Row lookup: `emb(idx)` = weight[idx], weight (num_embeddings, embedding_dim) ~ N(0, 1)."""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        _check_positive("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.weight = init.normal_(Parameter(np.empty((num_embeddings, embedding_dim))))

    def forward(self, indices):
        idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding: indices must be integers, got dtype {idx.dtype}")
        bad = idx[(idx < 0) | (idx >= self.num_embeddings)]
        if bad.size:
            raise IndexError(
                f"Embedding: index {int(bad[0])} is out of range for "
                f"{self.num_embeddings} embeddings"
            )
        return self.weight[idx]

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


def _check_positive(layer, **sizes):
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
