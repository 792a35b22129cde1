"""Elementwise math: sin, cos, log1p, softplus's log1p_exp, sign, pow, clamp, masked_fill."""

import numbers

import numpy as np

from .. import ops
from .checks import (
    check_broadcast,
    constant_on,
    expect_tensor,
    floating,
    is_tensor,
    leaf,
    lift,
    numeric,
    pick,
    raw,
)


def sin(x):
    return ops.Sin.apply(x)


def cos(x):
    return ops.Cos.apply(x)


def log1p(x):
    return ops.Log1p.apply(x)


def expm1(x):
    return ops.Expm1.apply(x)


def log1p_exp(x, pair=False):
    """log(1 + e^x) (softplus), exact to the last bits at every x, never overflowing; with
    `pair`, (log(1 + e^x), log(1 + e^-x)) sharing one tail (binary cross-entropy's two logs).

    Computed as log1p(e^{-|x|}) + max(x, 0): the exponential only sees -|x| <= 0, and log1p
    keeps e^-30 (1e-13) to full relative precision where log(1 + e^-30) would round it to
    three digits. -|x| is a `where` taking x where x <= 0 and -x elsewhere, so at the kink
    x = 0 the gradient is sigmoid(0) = 1/2 (abs and relu would give 0 there); the gradient
    is sigmoid(x), exact in both tails.
    """
    x = floating(x)
    below = x.data <= 0
    tail = ops.Log1p.apply(ops.Exp.apply(pick(below, x, -x)))
    up = pick(below, tail, x + tail)
    return (up, pick(below, tail - x, tail)) if pair else up


def sign(x):
    """-1, 0 or 1 (0 at nan, as torch); the gradient is 0 everywhere. An integer's sign keeps
    its dtype and a bool is its own sign, as in torch (neither can require grad)."""
    if x.data.dtype.kind not in "fc":
        return leaf(x.data.copy() if x.data.dtype == np.bool_ else np.sign(x.data))
    return constant_on(x, (x.data > 0).astype(x.dtype) - (x.data < 0))


def reciprocal(x):
    return 1.0 / x


def rsqrt(x):
    """1 / sqrt(x), as torch: -inf at -0.0 and nan at -inf (x ** -0.5 gives inf and 0)."""
    return 1.0 / x.sqrt()


def square(x):
    return x**2


def power(x, exponent):
    """x ** exponent: a number (the `pow` op), or a tensor or array (elementwise exponents)."""
    if is_tensor(exponent):
        return ops.PowTensor.apply(x, exponent)
    if isinstance(exponent, numbers.Real):
        return ops.Pow.apply(x, exponent=float(exponent))
    array = numeric("pow", "exponent", exponent)
    return ops.PowTensor.apply(x, lift(check_broadcast("pow", "exponent", array, x.shape), x))


def clamp(x, low=None, high=None):
    """x clamped to [low, high]: numbers (the `clip` op), or tensors or arrays (`clamp_tensor`)."""
    if low is None and high is None:
        raise ValueError("clamp: give min, max or both")
    if not any(is_tensor(b) or not (b is None or isinstance(b, numbers.Real)) for b in (low, high)):
        return ops.Clip.apply(x, low=low, high=high)
    bounds = []
    for name, b in (("min", low), ("max", high)):
        if b is not None and not is_tensor(b):
            b = lift(numeric("clamp", name, b).astype(x.dtype, copy=False), x)
        bounds.append(None if b is None else check_broadcast("clamp", name, b, x.shape))
    return clamp_tensor(x, *bounds)


def clamp_tensor(x, low=None, high=None):
    """clamp with tensor bounds: where(x < low, low, x), then where(. > high, high, .); x keeps
    the gradient on the bounds, a bound gets it where it wins (torch's rule)."""
    if low is None and high is None:
        raise ValueError("clamp: give min, max or both")
    out = x
    if low is not None:
        out = pick(out._data < raw(low), lift(low, x), out)
    if high is not None:
        out = pick(out._data > raw(high), lift(high, x), out)
    return out


def masked_fill(x, mask, value):
    """`value` where `mask` is True, x elsewhere; `mask` (bool) broadcasts to x's shape."""
    expect_tensor("masked_fill", x)
    mask = np.asarray(mask.data if is_tensor(mask) else mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {mask.dtype}")
    if np.broadcast_shapes(mask.shape, x.shape) != x.shape:
        raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to {x.shape}")
    if is_tensor(value) and value.ndim != 0:
        raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got {value.shape}")
    if not is_tensor(value) and not isinstance(value, numbers.Real):
        raise TypeError(f"masked_fill: value must be a number or a 0-d tensor, got {value!r:.40}")
    return ops.Where.apply(lift(value, x), x, condition=mask)
