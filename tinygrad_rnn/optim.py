"""Optimizers and gradient clipping, with PyTorch's exact update rules.

Every optimizer reads `p.grad` (None: the parameter is skipped) and updates `p.data` in
place, so a module keeps the very arrays it registered. With g the gradient, lambda the
weight decay and t the step count (from 1):

    SGD      g += lambda p;  b = g (first step) or mu b + (1 - dampening) g
             g = g + mu b (nesterov) or b;  p -= lr g
    Adam     g += lambda p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
             p -= lr/(1 - b1^t) * m / (sqrt(v)/sqrt(1 - b2^t) + eps)   (amsgrad: max of v's)
    Adagrad  g += lambda p;  s += g^2;  p -= lr/(1 + (t-1) lr_decay) * g/(sqrt(s) + eps)
    RMSprop  g += lambda p;  v = alpha v + (1 - alpha) g^2;  centered: a = alpha a + (1-alpha) g,
             d = sqrt(v - a^2) + eps, else d = sqrt(v) + eps;
             momentum: b = mu b + g/d, p -= lr b;  else p -= lr g/d

The constructors take PyTorch's arguments in its order (keyword-only where torch's are).
`foreach`, `fused`, `capturable` and `differentiable` choose torch's kernels: accepted at
their defaults (foreach/fused also False), refused otherwise. `params` may also be
`named_parameters()` pairs, as torch >= 2.6 allows (the names go to `param_names`).

`state_dict()` holds only numpy arrays and plain numbers (PyTorch's layout: `state` by
parameter index, `param_groups` with the options), so a checkpoint needs no pickle. That
machinery (groups, checks, state, checkpoints) is the base class in optimizer.py; this file
holds the four update rules.
"""

import numpy as np

from .clip import clip_grad_norm_, clip_grad_value_
from .optimizer import Optimizer, given_options

__all__ = ["SGD", "Adam", "Adagrad", "RMSprop", "Optimizer", "clip_grad_norm_", "clip_grad_value_"]


def _lerp_(a, b, weight):
    """a += weight * (b - a) in place, with torch.lerp's two formulas (same rounding)."""
    if abs(weight) < 0.5:
        a += weight * (b - a)
    else:
        a[...] = b - (b - a) * (1.0 - weight)


class SGD(Optimizer):
    """`SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False, foreach=None, differentiable=False, fused=None)`."""

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
        foreach=None,
        differentiable=False,
        fused=None,
    ):
        super().__init__(params, given_options(locals()))

    def _check(self, group):
        super()._check(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: Nesterov momentum requires a momentum and zero dampening "
                "(momentum > 0 and dampening = 0), got "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _state_fields(self, group):
        return (), ("momentum_buffer",)

    def _update(self, p, g, st, group):
        mu = group["momentum"]
        if mu != 0:
            buf = st.get("momentum_buffer")
            if buf is None:
                # the first step takes the gradient itself, undamped (PyTorch's rule)
                buf = st["momentum_buffer"] = np.array(g, dtype=p.data.dtype)
            else:
                buf *= mu
                buf += (1.0 - group["dampening"]) * g
            g = g + mu * buf if group["nesterov"] else buf
        p.data -= group["lr"] * g


class Adam(Optimizer):
    """`Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
    decoupled_weight_decay=False)`.

    eps is added after the bias correction of sqrt(v), as in PyTorch.
    decoupled_weight_decay=True is AdamW: p *= 1 - lr * lambda before the step, instead of
    adding lambda p to the gradient.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        foreach=None,
        maximize=False,
        capturable=False,
        differentiable=False,
        fused=None,
        decoupled_weight_decay=False,
    ):
        super().__init__(params, given_options(locals()))

    def _check(self, group):
        super()._check(group)
        for k, beta in enumerate(group["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {k}: {beta} (need 0 <= b < 1)")

    def _state_fields(self, group):
        fields = ("step", "exp_avg", "exp_avg_sq") + (
            ("max_exp_avg_sq",) if group["amsgrad"] else ()
        )
        return fields, fields

    def _update(self, p, g, st, group):
        beta1, beta2 = group["betas"]
        st["step"] += 1
        t = st["step"]
        if group["decoupled_weight_decay"] and group["weight_decay"]:
            p.data *= 1.0 - group["lr"] * group["weight_decay"]
        m, v = st["exp_avg"], st["exp_avg_sq"]
        _lerp_(m, g, 1.0 - beta1)
        v *= beta2
        v += (1.0 - beta2) * g * g
        step_size = group["lr"] / (1.0 - beta1**t)
        bias_correction2_sqrt = (1.0 - beta2**t) ** 0.5
        if group["amsgrad"]:
            np.maximum(st["max_exp_avg_sq"], v, out=st["max_exp_avg_sq"])
            v = st["max_exp_avg_sq"]
        denom = np.sqrt(v) / bias_correction2_sqrt + group["eps"]
        p.data -= step_size * (m / denom)


class Adagrad(Optimizer):
    """`Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None)`; the step
    size decays as lr / (1 + (t-1) lr_decay)."""

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        foreach=None,
        *,
        maximize=False,
        differentiable=False,
        fused=None,
    ):
        super().__init__(params, given_options(locals()))
        for group in self.param_groups:
            self._init_state(group)

    # PyTorch fills the accumulators at construction, before any gradient exists
    EAGER_STATE = True

    def _state_fields(self, group):
        return ("step", "sum"), ("step", "sum")

    def _fresh_state(self, p, group):
        return {"step": 0, "sum": np.full_like(p.data, group["initial_accumulator_value"])}

    def _update(self, p, g, st, group):
        st["step"] += 1
        clr = group["lr"] / (1.0 + (st["step"] - 1) * group["lr_decay"])
        s = st["sum"]
        s += g * g
        p.data -= clr * (g / (np.sqrt(s) + group["eps"]))


class RMSprop(Optimizer):
    """`RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, capturable=False, foreach=None, maximize=False, differentiable=False)`.
    Centered divides by an estimate of the gradient's standard deviation
    (sqrt(v - a^2)) instead of its root mean square; eps is added after the square root."""

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        capturable=False,
        foreach=None,
        maximize=False,
        differentiable=False,
    ):
        super().__init__(params, given_options(locals()))

    def _state_fields(self, group):
        fields = ("step", "square_avg")
        fields += ("momentum_buffer",) if group["momentum"] > 0 else ()
        fields += ("grad_avg",) if group["centered"] else ()
        return fields, fields

    def _update(self, p, g, st, group):
        alpha = group["alpha"]
        st["step"] += 1
        v = st["square_avg"]
        v *= alpha
        v += (1.0 - alpha) * g * g
        if group["centered"]:
            a = st["grad_avg"]
            _lerp_(a, g, 1.0 - alpha)
            avg = np.sqrt(v - a * a)
        else:
            avg = np.sqrt(v)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = st["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            p.data -= group["lr"] * buf
        else:
            p.data -= group["lr"] * (g / avg)
