"""Exercise 6: clip_grad_norm_ by hand."""

import numpy as np

from .. import optim
from ..tensor import Tensor
from .base import Exercise, call, compare, verdict

TEXT_EN = """
Write gradient clipping by the global norm, the lecture's cure for exploding gradients
(梯度裁剪), exactly as `torch.nn.utils.clip_grad_norm_` does it:

    total = sqrt(sum over every parameter p of |g_p|^2)     (one norm over all gradients)
    coef  = max_norm / (total + 1e-6)
    if coef < 1: every g_p = g_p * coef                      (same direction, shorter)

The lecture writes it as: if |g| > v then g = g v / |g|, with v the threshold. Write
`clip_grad_norm(grads, max_norm)` returning (the clipped gradients as new arrays, total
before clipping). All gradients are scaled by one common factor, so the update keeps its
direction; clipping each parameter separately would change it.
"""

TEXT_ZH = """
写出按全局范数裁剪梯度，这是课件中解决梯度爆炸的办法（梯度裁剪），和
`torch.nn.utils.clip_grad_norm_` 的做法完全一致：

    total = sqrt(所有参数 p 的 |g_p|^2 之和)              （所有梯度合起来的一个范数）
    coef  = max_norm / (total + 1e-6)
    若 coef < 1：每个 g_p = g_p * coef                    （方向不变，长度变短）

课件写作：若 |g| > v，则 g = g v / |g|，v 是阈值。写出 `clip_grad_norm(grads, max_norm)`，
返回（裁剪后的梯度，作为新数组；裁剪前的 total）。所有梯度乘同一个系数，所以更新方向
不变；对每个参数分别裁剪会改变方向。
"""

STARTER = '''
"""Exercise 6: clip_grad_norm_ by hand.  Check: tinygrad-rnn exercise check 6 THIS_FILE.py"""

import numpy as np


def clip_grad_norm(grads, max_norm):
    """(clipped copies of grads, the total norm before clipping)."""
    # TODO: one total norm over all the gradients, then one common factor
    total = 0.0
    return [np.array(g) for g in grads], total
'''

SOLUTION = '''
"""Exercise 6: clip_grad_norm_ by hand (a solution)."""

import numpy as np


def clip_grad_norm(grads, max_norm):
    """(clipped copies of grads, the total norm before clipping)."""
    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        return [g * coef for g in grads], total
    return [np.array(g) for g in grads], total
'''

SHAPES = ((3, 2), (4,), (2, 2), ())


def check(module, seed=0):
    rng = np.random.default_rng(6 + seed)
    for max_norm in (0.5, 100.0, 2.0):
        grads = [rng.normal(size=s) for s in SHAPES]
        params = [Tensor(np.zeros(s), requires_grad=True) for s in SHAPES]
        for p, g in zip(params, grads):
            p.grad = g.copy()
        total = optim.clip_grad_norm_(params, max_norm)
        got = call(module, "clip_grad_norm", [g.copy() for g in grads], max_norm)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return verdict(
                6, "clip_grad_norm_", ["clip_grad_norm must return (clipped gradients, total norm)"]
            )
        clipped, got_total = got
        clipped_or_not = "clipped" if total > max_norm else "not clipped"
        case = f"max_norm={max_norm} (total norm {total:.4g}, so {clipped_or_not})"
        problems = compare(f"{case}: the total norm", total, got_total)
        if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
            problems.append(f"{case}: expected {len(grads)} clipped gradients")
        else:
            for k, (p, c) in enumerate(zip(params, clipped)):
                problems += compare(f"{case}: gradient {k} (shape {p.shape})", p.grad, c)
        if problems:
            return verdict(6, "clip_grad_norm_", problems)
    return verdict(6, "clip_grad_norm_", [])


EXERCISE = Exercise(
    number=6,
    slug="clip",
    title="clip_grad_norm_",
    title_zh="手写 clip_grad_norm_",
    topic="4. Exploding gradients: 1. gradient clipping (梯度裁剪)",
    teaches="one global norm and one common factor: clipping keeps the update's direction",
    teaches_zh="一个全局范数、一个公共系数：裁剪不改变更新的方向",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
)
