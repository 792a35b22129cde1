"""torch.nn.functional: activations, softmax, pad, one_hot, dropout, and the losses.

Every function is composed from the primitives in `ops.py` (no backward rule of its own),
except where composition would be unstable: gelu uses the `erf` op and
binary_cross_entropy its own op (losses.py). Signatures are PyTorch's; `inplace=True`
is refused (the graph keeps every value it computed).

    softplus(x)    1/beta log(1 + e^{beta x}), x itself where beta x > threshold
    logsigmoid(x)  log(1 / (1 + e^{-x})) = -softplus(-x)
                   both log1p(e^{-|x|}) + max(x, 0): exact in the far tails, no overflow
    gelu(x)        x Phi(x) = x/2 (1 + erf(x / sqrt 2));  "tanh": x/2 (1 + tanh(sqrt(2/pi)
                   (x + 0.044715 x^3)))
    leaky_relu(x)  x if x > 0 else slope x     elu(x)  x if x > 0 else alpha (e^x - 1)
    silu(x)        x sigmoid(x)
"""

import math
import warnings

import numpy as np

from ..composite import log1p_exp
from ..composite.checks import floating
from ..ops import Erf
from ..tensor import Tensor, concat, where
from .dropout import dropout
from .linear import linear
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    flag,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    number,
    smooth_l1_loss,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "elu",
    "gelu",
    "huber_loss",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _no_inplace(fn, inplace):
    if flag(fn, "inplace", inplace):
        raise ValueError(
            f"{fn}: inplace=True is not supported (the graph keeps every value it computed); "
            f"write x = F.{fn}(x) instead"
        )


def _softmax_dim(fn, ndim, dim, dtype, x):
    """torch's implicit dim (deprecated): 0 for 0-, 1- and 3-d input, else 1, with a warning."""
    if dim is None:
        warnings.warn(
            f"Implicit dimension choice for {fn} has been deprecated. "
            "Change the call to include dim=X as an argument.",
            UserWarning,
            stacklevel=3,
        )
        dim = 0 if ndim in (0, 1, 3) else 1
    if dtype is not None:
        try:
            dtype = np.dtype(str(dtype).replace("torch.", "") if "torch" in str(dtype) else dtype)
        except TypeError:
            raise TypeError(f"{fn}: dtype={dtype!r} is not a floating dtype") from None
        if dtype.kind != "f":
            raise TypeError(f"{fn}: dtype={dtype!r} is not a floating dtype")
        if dtype != x.dtype:
            if x.requires_grad:
                raise TypeError(
                    f"{fn}: dtype={dtype} would cast a tensor that requires grad, and a cast "
                    "is not differentiable here; cast the input first"
                )
            x = Tensor(x.data.astype(dtype))
    return dim, x


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x_i - log sum_j e^{x_j} along `dim`."""
    x = _tensor(input)
    dim, x = _softmax_dim("log_softmax", x.ndim, dim, dtype, x)
    return x.log_softmax(axis=dim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """e^{x_i} / sum_j e^{x_j} along `dim`."""
    x = _tensor(input)
    dim, x = _softmax_dim("softmax", x.ndim, dim, dtype, x)
    return x.softmax(axis=dim)


def relu(input, inplace=False):
    _no_inplace("relu", inplace)
    return _tensor(input).relu()


def tanh(input):
    return _tensor(input).tanh()


def sigmoid(input):
    return _tensor(input).sigmoid()


def softplus(input, beta=1, threshold=20):
    """1/beta log(1 + e^{beta x}); x itself where beta x > threshold (torch's switch)."""
    x = floating(_tensor(input))
    beta = number("softplus", "beta", beta)
    threshold = number("softplus", "threshold", threshold)
    if beta == 0:
        raise ValueError("softplus: beta must be non-zero")
    z = x * float(beta) if beta != 1 else x
    smooth = log1p_exp(z)
    if beta != 1:
        smooth = smooth / float(beta)
    linear_part = z.data > threshold
    if not linear_part.any():
        return smooth.named("softplus")
    return where(linear_part, x, smooth).named("softplus")


def logsigmoid(input):
    """log sigmoid(x) = -log(1 + e^{-x}), exact to full relative precision at every x."""
    # a float copy first: -x of a bool fails, of a uint8 wraps around
    return (-log1p_exp(-floating(_tensor(input)))).named("logsigmoid")


def gelu(input, approximate="none"):
    """x Phi(x) (approximate="none", through erf) or torch's tanh approximation."""
    x = floating(_tensor(input))
    if not isinstance(approximate, str):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r:.40}")
    if approximate == "none":
        return (x * (Erf.apply(x * (1.0 / math.sqrt(2.0))) + 1.0) * 0.5).named("gelu")
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return (x * (inner.tanh() + 1.0) * 0.5).named("gelu")
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x (slope at 0, as torch)."""
    _no_inplace("leaky_relu", inplace)
    x = floating(_tensor(input))
    slope = number("leaky_relu", "negative_slope", negative_slope)
    return where(x.data > 0, x, x * slope).named("leaky_relu")


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha (e^x - 1) (the exponential sees min(x, 0), so never overflows)."""
    _no_inplace("elu", inplace)
    x = floating(_tensor(input))
    negative = (x.clip(max=0.0).exp() - 1.0) * number("elu", "alpha", alpha)
    # nan takes the x branch: its gradient passes (torch's rule is x <= 0 ? alpha e^x : 1)
    return where(~(x.data <= 0), x, negative).named("elu")


def silu(input, inplace=False):
    """x * sigmoid(x) (the swish)."""
    _no_inplace("silu", inplace)
    x = floating(_tensor(input))
    return (x * x.sigmoid()).named("silu")


def one_hot(tensor, num_classes=-1):
    """(..., ) integer classes -> (..., num_classes) int64 of 0/1 (not differentiable)."""
    t = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if t.dtype.kind not in "iu":
        raise TypeError(f"one_hot is only applicable to index tensor, got dtype {t.dtype}")
    if t.size and t.min() < 0:
        raise ValueError(f"one_hot: Class values must be non-negative, got {int(t.min())}")
    if isinstance(num_classes, (int, np.integer)) and num_classes == -1:
        if not t.size:
            raise ValueError("one_hot: Can not infer total number of classes from empty tensor")
        num_classes = int(t.max()) + 1
    elif (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, (int, np.integer))
        or num_classes < 0
    ):
        raise ValueError(f"one_hot: num_classes must be -1 or >= 0, got {num_classes!r}")
    elif t.size and t.max() >= num_classes:
        raise ValueError(
            f"one_hot: Class values must be smaller than num_classes ({num_classes}), "
            f"got {int(t.max())}"
        )
    return Tensor((t[..., None] == np.arange(num_classes)).astype(np.int64))


PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pad (or, with negative amounts, crop) the last len(pad) / 2 axes, as torch.

    `pad` = (left, right) of the last axis, then of the one before, ...; "constant" fills
    with `value` (0); "reflect" mirrors without repeating the edge, "replicate" repeats it,
    "circular" wraps around. The non-constant modes gather with an index array, so the
    gradient of every copy flows back to its source element.
    """
    x = _tensor(input)
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad: pad must be a tuple of integers, got {pad!r:.40}")
    if not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of integers, got {tuple(pad)!r}")
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise ValueError(f"pad: Padding length must be divisible by 2, got {len(pad)}")
    n_axes = len(pad) // 2
    if n_axes > x.ndim:
        raise ValueError(
            f"pad: Padding length should be less than or equal to two times the input "
            f"dimension but got padding length {len(pad)} and input of dimension {x.ndim}"
        )
    if not isinstance(mode, str) or mode not in PAD_MODES:
        raise ValueError(f"pad: unknown padding mode {mode!r} (choose from {', '.join(PAD_MODES)})")
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(f'pad: Padding mode "{mode}" doesn\'t take in value argument')
        if n_axes not in (1, 2, 3) or x.ndim not in (n_axes + 1, n_axes + 2):
            raise ValueError(
                f"pad: padding size {len(pad)} is not supported for {x.ndim}D input in mode "
                f"{mode!r}: pad (l, r) needs 2-D or 3-D input, 4 values 3-D or 4-D, "
                "6 values 4-D or 5-D"
            )
        # torch refuses only when every padded axis would come out empty; one empty axis
        # among others is a valid (empty) result.
        sizes = [x.shape[x.ndim - 1 - k] + pad[2 * k] + pad[2 * k + 1] for k in range(n_axes)]
        if all(size < 1 for size in sizes):
            raise ValueError(
                f"pad: input of shape {x.shape} is too small for padding {tuple(pad)} in "
                f"{mode} mode: the padded axes would have sizes {sizes[::-1]}"
            )
    for k in range(n_axes):
        axis = x.ndim - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        if left or right:
            fill = 0.0 if value is None else number("pad", "value", value, nan=True)
            x = _pad_axis(x, axis, left, right, mode, fill)
    return x


def _pad_axis(x, axis, left, right, mode, value):
    n = x.shape[axis]
    if max(-left, 0) + max(-right, 0) > n:
        raise ValueError(
            f"pad: padding ({left}, {right}) leaves a negative size on axis {axis} of {x.shape}"
        )
    before = (slice(None),) * axis
    if mode == "constant":
        x = x[(*before, slice(max(-left, 0), n - max(-right, 0)))]
        pieces = []
        for amount in (left, right):
            shape = list(x.shape)
            shape[axis] = max(amount, 0)
            pieces.append(Tensor(np.full(shape, value, dtype=x.dtype)))
        return concat([pieces[0], x, pieces[1]], axis=axis)
    index = np.arange(-left, n + right)
    if mode == "replicate":
        index = np.clip(index, 0, n - 1)
    elif mode == "reflect":
        if left >= n or right >= n:
            raise ValueError(
                f"pad: Padding size should be less than the corresponding input dimension, "
                f"but got padding ({left}, {right}) at dimension {axis} of input {x.shape}"
            )
        index = np.abs(index)
        index = np.where(index > n - 1, 2 * (n - 1) - index, index)
    else:  # circular
        if left < 0 or right < 0:
            raise ValueError(
                f"pad: negative padding ({left}, {right}) is not supported in circular mode "
                "(crop with indexing instead)"
            )
        if left > n or right > n:
            raise ValueError(
                f"pad: Padding value causes wrapping around more than once: ({left}, {right}) "
                f"on axis {axis} of size {n}"
            )
        index = index % n
    return x[(*before, index)]
