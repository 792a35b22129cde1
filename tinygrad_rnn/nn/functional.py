"""Losses and activations as functions (torch.nn.functional), composed from the primitives.

Every function here is built from ops in `ops.py`, so it needs no backward rule of its own.
All are stable for logits of magnitude 1e3: they go through the shifted log_softmax.
"""

import numpy as np

from ..tensor import Tensor, stack
from .dropout import dropout
from .linear import linear

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]

REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, fn):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{fn}: unknown reduction '{reduction}' (choose from {', '.join(REDUCTIONS)})")


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def mse_loss(input, target, reduction="mean"):
    """mean((input - target)^2)."""
    input, target = _tensor(input), _tensor(target)
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} != target shape {target.shape}")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def log_softmax(input, dim=-1):
    """x_i - log sum_j e^{x_j}."""
    return _tensor(input).log_softmax(axis=dim)


def softmax(input, dim=-1):
    """e^{x_i} / sum_j e^{x_j}."""
    return _tensor(input).softmax(axis=dim)


def relu(input):
    return _tensor(input).relu()


def tanh(input):
    return _tensor(input).tanh()


def sigmoid(input):
    return _tensor(input).sigmoid()


def _class_targets(target, n_rows, n_classes, fn):
    target = np.asarray(target.data if isinstance(target, Tensor) else target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{fn}: targets must be integer class indices, got dtype {target.dtype}")
    if target.shape != (n_rows,) and not (n_rows == 1 and target.shape == ()):
        raise ValueError(f"{fn}: target shape {target.shape} does not match {n_rows} rows")
    target = target.reshape(n_rows)
    if target.size and (target.min() < 0 or target.max() >= n_classes):
        bad = target[(target < 0) | (target >= n_classes)][0]
        raise IndexError(f"{fn}: target {int(bad)} is out of range for {n_classes} classes")
    return target


def nll_loss(input, target, reduction="mean"):
    """-mean_n input[n, target_n] for log-probabilities `input` (N, C) or (C,)."""
    input = _tensor(input)
    if input.ndim not in (1, 2):
        raise ValueError(
            f"nll_loss: input must be (N, C) or (C,), got shape {input.shape}; "
            "reshape sequences with .reshape(-1, C)"
        )
    rows = input if input.ndim == 2 else input.reshape(1, input.shape[0])
    n, c = rows.shape
    target = _class_targets(target, n, c, "nll_loss")
    picked = -rows[np.arange(n), target]
    if input.ndim == 1 and reduction == "none":
        return picked.reshape(())
    return _reduce(picked, reduction, "nll_loss")


def cross_entropy(input, target, reduction="mean"):
    """nll_loss(log_softmax(logits), target): class-index targets, mean over rows."""
    input = _tensor(input)
    if input.ndim not in (1, 2):
        raise ValueError(
            f"cross_entropy: logits must be (N, C) or (C,), got shape {input.shape}; "
            "reshape sequences with .reshape(-1, C)"
        )
    return nll_loss(input.log_softmax(axis=-1), target, reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """-(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))).

    Computed as a two-class log_softmax over [0, x] (log sigmoid(x) = x - softplus(x),
    log(1 - sigmoid(x)) = -softplus(x)), which is exact and smooth at every x.
    """
    input = _tensor(input)
    target = _tensor(target)
    if input.shape != target.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: input shape {input.shape} != "
            f"target shape {target.shape}"
        )
    zero = Tensor(np.zeros(input.shape, dtype=input.data.dtype))
    logp = stack([zero, input], axis=-1).log_softmax(axis=-1)
    index = (Ellipsis, 0)
    loss = -(target * logp[(Ellipsis, 1)] + (1.0 - target) * logp[index])
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")
