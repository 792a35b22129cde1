"""Losses with PyTorch's signatures, values and gradients (torch.nn.functional), composed.

Every loss is built from primitives (`ops.py`), so none needs a backward rule of its own,
except binary_cross_entropy, whose clamped logarithms need torch's own gradient (one op).
`reduction` is "mean", "sum" or "none"; the deprecated `size_average` / `reduce` map onto
it as in torch. Regression losses broadcast input against target as torch does (with its
warning: a (N, 1) input against an (N,) target is almost always a mistake).

    mse_loss        (x - y)^2                    l1_loss   |x - y|
    smooth_l1_loss  0.5 d^2 / beta if |d| < beta, else |d| - 0.5 beta
    huber_loss      0.5 d^2 if |d| < delta, else delta (|d| - 0.5 delta)
    nll_loss        -w_y x_y, mean over sum of the w_y (targets == ignore_index count 0)
    cross_entropy   nll_loss(log_softmax(x)), with label smoothing eps:
                    (1 - eps) nll + eps/C * sum_c -w_c log p_c; or class-probability targets
    binary_cross_entropy              -w (y log x + (1 - y) log(1 - x)), logs clamped at -100
    binary_cross_entropy_with_logits  -w (p y log s(x) + (1 - y) log s(-x)), p = pos_weight,
                    as w (p y softplus(-x) + (1 - y) softplus(x))
"""

import numbers
import warnings

import numpy as np

from ..composite import log1p_exp
from ..ops import BinaryCrossEntropy
from ..tensor import Tensor, where

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "huber_loss",
    "l1_loss",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]

REDUCTIONS = ("mean", "sum", "none")


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _float(x, like, fn="loss", what="target"):
    """A float operand (target, weight) as a tensor of `like`'s dtype (kept if a Tensor)."""
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(np.asarray(x, dtype=like.dtype if like.dtype.kind == "f" else np.float64))
    except (TypeError, ValueError):
        raise TypeError(
            f"{fn}: {what} must be numbers (an array or Tensor), got {type(x).__name__} {x!r:.40}"
        ) from None


def _broadcast_to_input(fn, what, w, input):
    """`w` (a weight) as a tensor that broadcasts to input's shape, or a ValueError naming it."""
    w = _float(w, input, fn, what)
    try:
        fits = np.broadcast_shapes(w.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{fn}: {what} of shape {w.shape} does not broadcast to the input's shape {input.shape}"
        )
    return w


def number(fn, name, value, nan=False):
    """A real-number option, or a TypeError naming the function and the option; nan is a
    ValueError unless `nan` (a fill value may be nan, a hyperparameter may not)."""
    if type(value) is float and value == value:  # the common case, before the slower checks
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a number, got {value!r:.40}")
    if not nan and value != value:
        raise ValueError(f"{fn}: {name} must be a number, got nan")
    return float(value)


def flag(fn, name, value, optional=False):
    """A True/False option (None too when `optional`), or a TypeError naming it."""
    if (optional and value is None) or isinstance(value, (bool, np.bool_)):
        return value if value is None else bool(value)
    raise TypeError(f"{fn}: {name} must be True or False, got {value!r:.40}")


def _reduction(size_average, reduce, reduction, fn):
    """torch's legacy rule: size_average / reduce, when given, decide the reduction."""
    size_average = flag(fn, "size_average", size_average, optional=True)
    reduce = flag(fn, "reduce", reduce, optional=True)
    if not isinstance(reduction, str):
        raise ValueError(
            f"{fn}: unknown reduction {reduction!r:.40}: reduction must be one of "
            f"{', '.join(REDUCTIONS)}"
        )
    if size_average is not None or reduce is not None:
        warnings.warn(
            f"{fn}: size_average and reduce are deprecated, use reduction= instead",
            DeprecationWarning,
            stacklevel=3,
        )
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{fn}: unknown reduction {reduction!r}: it is not a valid value for reduction "
            f"(choose from {', '.join(REDUCTIONS)})"
        )
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _pair(input, target, fn):
    """input and target as tensors, checked broadcastable (torch warns when they differ)."""
    input = _tensor(input)
    target = _float(target, input, fn)
    if input.shape != target.shape:
        try:
            np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(
                f"{fn}: input shape {input.shape} and target shape {target.shape} do not broadcast"
            ) from None
        warnings.warn(
            f"{fn}: Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to "
            "broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    return input, target


def _weighted(loss, weight, input, reduction, fn, mean_over_weight):
    """Apply an elementwise `weight` (input's shape) and reduce, as torch's regression losses.

    torch divides a weighted mean by sum(weight) for mse/l1 and by the element count for
    huber; both are reproduced.
    """
    if weight is None:
        return _reduce(loss, reduction)
    weight = _float(weight, input, fn, "weight")
    if weight.shape != input.shape:
        raise ValueError(
            f"{fn}: Weights and input must have the same size: weight {weight.shape}, "
            f"input {input.shape}"
        )
    loss = loss * weight
    if reduction == "mean" and mean_over_weight:
        with np.errstate(divide="ignore", invalid="ignore"):
            return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(x - y)^2, reduced; weighted: sum(w (x - y)^2) / sum(w) for the mean."""
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    input, target = _pair(input, target, "mse_loss")
    diff = input - target
    return _weighted(diff * diff, weight, input, reduction, "mse_loss", True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|x - y|, reduced (d|d|/dd = sign(d), 0 at d = 0 as torch)."""
    reduction = _reduction(size_average, reduce, reduction, "l1_loss")
    input, target = _pair(input, target, "l1_loss")
    return _weighted((input - target).abs(), weight, input, reduction, "l1_loss", True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0: l1_loss)."""
    reduction = _reduction(size_average, reduce, reduction, "smooth_l1_loss")
    beta = number("smooth_l1_loss", "beta", beta)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    input, target = _pair(input, target, "smooth_l1_loss")
    d = input - target
    size = d.abs()
    if beta == 0:
        return _reduce(size, reduction)
    small = ~(size.data >= beta)  # nan counts as small: its gradient is nan, as torch's
    near = where(small, d, 0.0)  # the square sees 0 elsewhere: no 0 * inf = nan from d = inf
    loss = where(small, near * near * (0.5 / beta), size - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (= delta * smooth_l1)."""
    reduction = _reduction(None, None, reduction, "huber_loss")
    delta = number("huber_loss", "delta", delta)
    if not delta > 0:
        raise ValueError(f"huber_loss does not support non-positive values for delta, got {delta}")
    input, target = _pair(input, target, "huber_loss")
    d = input - target
    size = d.abs()
    small = ~(size.data >= delta)  # nan counts as small (a nan gradient), as in smooth_l1
    near = where(small, d, 0.0)
    loss = where(small, near * near * 0.5, (size - 0.5 * delta) * delta)
    return _weighted(loss, weight, input, reduction, "huber_loss", False)


# ----- classification ---------------------------------------------------------------------


def _class_weight(weight, n_classes, fn):
    if weight is None:
        return None
    try:
        w = np.asarray(weight.data if isinstance(weight, Tensor) else weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{fn}: weight must be numbers, got {weight!r:.40}") from None
    if w.shape != (n_classes,):
        raise ValueError(
            f"{fn}: weight tensor should be defined either for all {n_classes} classes or no "
            f"classes but got weight tensor of shape {w.shape}"
        )
    return w


def _class_layout(input, fn):
    """(class axis, number of classes) of (C,), (N, C) or (N, C, d1, ...) scores."""
    if input.ndim == 0:
        raise ValueError(f"{fn}: input must have a class axis: (C,), (N, C) or (N, C, d1, ...)")
    axis = 0 if input.ndim == 1 else 1
    return axis, input.shape[axis]


def _class_targets(target, input, ignore_index, fn):
    """Integer targets checked against input (N, C, d...) -> (N, d...); returns (t, valid)."""
    t = np.asarray(target.data if isinstance(target, Tensor) else target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{fn}: expected target dtype to be integer class indices, got {t.dtype}")
    axis, n_classes = _class_layout(input, fn)
    expected = input.shape[:axis] + input.shape[axis + 1 :]
    if t.shape != expected:
        if input.ndim >= 2 and t.ndim >= 1 and t.shape[0] != input.shape[0]:
            raise ValueError(
                f"{fn}: Expected input batch_size ({input.shape[0]}) to match target "
                f"batch_size ({t.shape[0]})"
            )
        raise ValueError(
            f"{fn}: expected target size {expected} for input of shape {input.shape}, got {t.shape}"
        )
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{fn}: ignore_index must be an integer, got {ignore_index!r}")
    valid = t != ignore_index
    if t.size and (t.min() < 0 or t.max() >= n_classes):  # some may be ignore_index
        bad = t[valid & ((t < 0) | (t >= n_classes))]
        if bad.size:
            raise IndexError(
                f"{fn}: Target {int(bad.flat[0])} is out of bounds for {n_classes} classes"
            )
    return np.where(valid, t, 0), valid


def _pick(input, t):
    """input[n, t[n, d...], d...] as one advanced-indexing node of target's shape."""
    if input.ndim == 1:
        return input[int(t)] if t.ndim == 0 else input[t]
    if input.ndim == 2:  # what np.indices gives (N, C) input, without its overhead
        return input[(np.arange(t.shape[0]), t)]
    grids = np.indices(t.shape, sparse=True)
    index = (grids[0], t, *grids[1:])
    return input[index]


def _ignored_as_zero(values, valid):
    """`values` with the ignored positions selected away when they are not finite: torch
    skips them, where a weight of 0 would make 0 * inf = nan (finite ones keep the graph
    as it was: 0 * x is 0 already)."""
    if np.isfinite(values.data[~valid]).all():
        return values
    return where(valid, values, 0.0)


def _weighted_mean(total, denominator):
    """total / denominator; all targets ignored (0/0) gives nan with zero gradient, as torch."""
    if denominator == 0:
        return total * 0.0 + np.nan
    return total * (1.0 / denominator)


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
):
    """-w_t input[t] for log-probabilities (C,), (N, C) or (N, C, d1, ...); targets of shape
    (), (N,) or (N, d1, ...); positions with target == ignore_index count nothing.
    mean = sum / sum of the counted w_t (nan when every target is ignored, as torch)."""
    return _nll(input, target, weight, ignore_index, reduction, "nll_loss", size_average, reduce)


def _nll(input, target, weight, ignore_index, reduction, fn, size_average=None, reduce=None):
    reduction = _reduction(size_average, reduce, reduction, fn)
    input = _tensor(input)
    t, valid = _class_targets(target, input, ignore_index, fn)
    _, n_classes = _class_layout(input, fn)
    w = _class_weight(weight, n_classes, fn)
    if w is None and valid.all():
        losses = -_pick(input, t)  # no weights to apply: the graph stays -x[n, t_n]
        counted = float(valid.size)
    else:
        w_t = valid.astype(np.float64) if w is None else np.where(valid, w[t], 0.0)
        picked = _ignored_as_zero(_pick(input, t), valid)
        losses = -(picked * Tensor(w_t.astype(input.dtype), label="weight[target]"))
        counted = float(w_t.sum())
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return _weighted_mean(losses.sum(), counted)


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """nll_loss(log_softmax(input, class axis), target), class axis 1 (0 for (C,) input).

    Targets are class indices, or class probabilities of input's shape (floating point).
    label_smoothing eps mixes each target with the uniform distribution over C classes.
    """
    reduction = _reduction(size_average, reduce, reduction, "cross_entropy")
    label_smoothing = number("cross_entropy", "label_smoothing", label_smoothing)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}"
        )
    input = _tensor(input)
    axis, n_classes = _class_layout(input, "cross_entropy")
    logp = input.log_softmax(axis=axis)
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    if raw.dtype.kind == "f":
        return _cross_entropy_probs(logp, target, weight, ignore_index, reduction, label_smoothing)
    nll = _nll(logp, target, weight, ignore_index, reduction, "cross_entropy")
    if label_smoothing == 0:
        return nll
    t, valid = _class_targets(target, input, ignore_index, "cross_entropy")
    w = _class_weight(weight, n_classes, "cross_entropy")
    shape = [1] * input.ndim
    shape[axis] = n_classes
    scaled = logp if w is None else logp * Tensor(w.reshape(shape).astype(input.dtype))
    smooth = -_ignored_as_zero(scaled.sum(axis=axis), valid) * Tensor(valid.astype(input.dtype))
    if reduction == "none":
        smooth_r = smooth
    elif reduction == "sum":
        smooth_r = smooth.sum()
    else:
        count = float(valid.sum()) if w is None else float(w[t[valid]].sum())
        smooth_r = _weighted_mean(smooth.sum(), count)
    return nll * (1.0 - label_smoothing) + smooth_r * (label_smoothing / n_classes)


def _cross_entropy_probs(logp, target, weight, ignore_index, reduction, eps):
    """-sum_c w_c q_c log p_c with q = (1 - eps) target + eps / C; mean over positions."""
    fn = "cross_entropy"
    if ignore_index != -100:
        raise ValueError(f"{fn}: ignore_index is not supported for floating point target")
    q = _float(target, logp, fn)
    if q.shape != logp.shape:
        raise ValueError(
            f"{fn}: class-probability targets must have the input's shape {logp.shape}, "
            f"got {q.shape}"
        )
    axis, n_classes = _class_layout(logp, fn)
    if eps:
        q = q * (1.0 - eps) + eps / n_classes
    w = _class_weight(weight, n_classes, fn)
    if w is not None:
        shape = [1] * logp.ndim
        shape[axis] = n_classes
        q = q * Tensor(w.reshape(shape).astype(logp.dtype))
    return _reduce(-(logp * q).sum(axis=axis), reduction)


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """-w (y log x + (1 - y) log(1 - x)) for probabilities x in [0, 1]; each log is clamped
    at -100 and dL/dx = (x - y) / max(x (1 - x), 1e-12), as torch (the op in ops.py)."""
    fn = "binary_cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, fn)
    input = _tensor(input)
    target = _float(target, input, fn)
    if target.shape != input.shape:
        raise ValueError(
            f"binary_cross_entropy: Using a target size ({target.shape}) that is different "
            f"to the input size ({input.shape}) is deprecated. Please ensure they have the "
            "same size."
        )
    if not np.all((input.data >= 0) & (input.data <= 1)):
        raise ValueError(
            "binary_cross_entropy: all elements of input should be between 0 and 1 "
            "(pass logits to binary_cross_entropy_with_logits instead)"
        )
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * _broadcast_to_input(fn, "weight", weight, input)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
    pos_weight=None,
):
    """-w (p y log sigmoid(x) + (1 - y) log sigmoid(-x)), p = pos_weight (per class, last axis).

    -log sigmoid(x) = log(1 + e^-x) and -log sigmoid(-x) = log(1 + e^x), both from one
    log1p(e^{-|x|}): exact to full relative precision at every x, the gradient sigmoid(x) - y
    exact in both tails too (torch computes (1 - y) x - log sigmoid(x), which cancels to 0
    for y = 0, x < -37, where this gives e^x).
    """
    fn = "binary_cross_entropy_with_logits"
    reduction = _reduction(size_average, reduce, reduction, fn)
    input = _tensor(input)
    target = _float(target, input, fn)
    if input.shape != target.shape:
        raise ValueError(
            f"{fn}: Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    softplus, softplus_neg = log1p_exp(input, pair=True)
    positive = target * softplus_neg
    if pos_weight is not None:
        positive = positive * _broadcast_to_input(fn, "pos_weight", pos_weight, input)
    loss = positive + (1.0 - target) * softplus
    if weight is not None:
        loss = loss * _broadcast_to_input(fn, "weight", weight, input)
    return _reduce(loss, reduction)
