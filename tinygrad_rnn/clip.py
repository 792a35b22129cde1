"""Gradient clipping, as torch.nn.utils does it (re-exported by `optim`).

Pascanu et al. 2013 (Algorithm 1): when the gradient's norm exceeds a threshold, rescale it
to the threshold. PyTorch's rule, used here: one norm over all parameters' gradients,
coefficient min(1, max_norm / (total + 1e-6)), every gradient scaled in place.
"""

import math

import numpy as np

from .display import param_name
from .tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _named(params):
    """[(name, tensor)] from Tensors, (name, Tensor) pairs (named_parameters()) or one Tensor."""
    if isinstance(params, Tensor):
        params = [params]
    out = []
    for k, item in enumerate(params):
        if isinstance(item, tuple):
            out.append((str(item[0]), item[1]))
        else:
            out.append((param_name(item, k), item))
    return out


def _number(where, name, value):
    """`value` as a float, or TypeError naming the argument (bool and strings refused)."""
    if isinstance(value, (bool, str, bytes)) or np.ndim(value) != 0:
        raise TypeError(f"{where}: {name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must be a number, got {value!r}") from None


def _norm(a, norm_type):
    a = np.abs(np.ravel(a))
    if norm_type == math.inf:
        return float(a.max()) if a.size else 0.0
    if norm_type == 2.0:
        return float(np.sqrt(np.dot(a, a)))
    return float(np.sum(a**norm_type) ** (1.0 / norm_type))


def _check_foreach(fn, foreach):
    if foreach not in (None, False):
        raise ValueError(
            f"{fn}: foreach={foreach!r} is not supported (it picks one of torch's kernels; "
            "numpy has one: leave it at None)"
        )


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their global norm is at most `max_norm`.

    total = norm of the per-parameter norms (= the norm of all gradients as one vector);
    every grad *= min(1, max_norm / (total + 1e-6)). Returns `total` before clipping, as a
    numpy float64 (a float with torch's `.item()`).
    `parameters`: Tensors or `named_parameters()` pairs (names appear in the non-finite error).
    """
    _check_foreach("clip_grad_norm_", foreach)
    norm_type = _number("clip_grad_norm_", "norm_type", norm_type)
    if not (norm_type > 0):
        raise ValueError(f"clip_grad_norm_: norm_type must be positive or inf, got {norm_type}")
    max_norm = _number("clip_grad_norm_", "max_norm", max_norm)
    if not max_norm >= 0:  # NaN would turn every gradient into NaN
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0 (or inf), got {max_norm}")
    named = [(n, p) for n, p in _named(parameters) if p.grad is not None]
    if not named:
        return np.float64(0.0)
    norms = [_norm(p.grad, norm_type) for _, p in named]
    total = _norm(np.array(norms), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        bad = [n for (n, p), v in zip(named, norms) if not math.isfinite(v)]
        raise RuntimeError(
            f"clip_grad_norm_: the total gradient norm is {total}, so it cannot be clipped; "
            f"non-finite gradient in {', '.join(bad)} "
            "(pass error_if_nonfinite=False to scale anyway)"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0 or math.isnan(coef):
        for _, p in named:
            p.grad *= coef
    return np.float64(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    _check_foreach("clip_grad_value_", foreach)
    clip_value = _number("clip_grad_value_", "clip_value", clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for _, p in _named(parameters):
        if p.grad is not None:
            np.clip(p.grad, -clip_value, clip_value, out=p.grad)
