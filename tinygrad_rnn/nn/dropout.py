"""Dropout (Srivastava et al. 2014), "inverted" as in PyTorch, so eval() needs no rescaling.

    training:  y = x * m / (1 - p),  m_i ~ Bernoulli(1 - p) independently   (p = 1: y = 0)
    eval:      y = x

E[y] = x, so the expected activation is the same in both modes. The mask is drawn from the
library's seeded generator (`nn.manual_seed(s)`, the same one that draws initial weights),
so a seeded run is reproducible. In the graph the mask (already scaled by 1/(1-p)) is a
constant leaf labelled `dropout mask` and the product a node labelled `dropout`, tagged
with the active scope (a recurrent layer's dropout carries its `layer` and `t`).
"""

import numbers

import numpy as np

from ..tensor import Tensor
from . import init
from .module import Module

__all__ = ["Dropout", "dropout"]


def _check_p(name, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p!r}")


def dropout(input, p=0.5, training=True, inplace=False):
    """x * Bernoulli(1 - p) mask / (1 - p) in training; x itself when not training."""
    _check_p("dropout", p)
    for name, value in (("training", training), ("inplace", inplace)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"dropout: {name} must be True or False, got {value!r:.40}")
    if inplace:
        raise ValueError(
            "dropout: inplace=True is not supported (the graph keeps every value it computed); "
            "write x = F.dropout(x, p) instead"
        )
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: input must be floating point, got dtype {x.dtype}")
    if not training or p == 0:
        return x
    keep = init.generator().random(x.shape) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = Tensor(np.where(keep, scale, 0.0).astype(x.dtype), label="dropout mask")
    return (x * mask).named("dropout")


class Dropout(Module):
    """`Dropout(p=0.5, inplace=False)`: `dropout(x, p, training=self.training)`."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_p("Dropout", p)
        if not isinstance(inplace, (bool, np.bool_)):
            raise TypeError(f"Dropout: inplace must be True or False, got {inplace!r:.40}")
        if inplace:
            dropout(Tensor(0.0), p, inplace=True)  # the same clear refusal
        self.p = float(p)
        self.inplace = inplace

    def forward(self, input):
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
