"""Exercise 5: predict the |dh_T/dh_k| column of a linear RNN at radius r."""

import numpy as np

from .. import lecture
from ..analysis import bptt
from .base import Exercise, call, table, verdict

TEXT_EN = """
Predict, without running anything, the column |dh_T/dh_k| that `tinygrad-rnn bptt`
prints for a linear RNN whose recurrent matrix is r times an orthogonal matrix:

    h_t = W h_{t-1} + U x_t + b,      W = r Q  (Q orthogonal: |Q v| = |v| for every v)

The chain rule through the steps k+1..T gives dh_T/dh_k = W W ... W (T - k factors);
its norm is the largest factor by which it can stretch a vector. Write
`jacobian_column(r, steps)`: the list of |dh_T/dh_k| for k = 0, 1, ..., steps - 1, where
T = steps - 1 is the last step (so the last entry, k = T, is |I| = 1).

This is the lecture's vanishing and exploding gradient in one formula: below r = 1 the
early steps' column shrinks geometrically (梯度消失), above it grows (梯度爆炸). Compare
with `tinygrad-rnn bptt --activation linear --radius 0.5 --steps 6`.
"""

TEXT_ZH = """
不运行任何程序，预测 `tinygrad-rnn bptt` 对一个线性 RNN 打印的 |dh_T/dh_k| 这一列，
它的循环矩阵是 r 乘以一个正交矩阵：

    h_t = W h_{t-1} + U x_t + b,      W = r Q  （Q 正交：对任意 v 有 |Q v| = |v|）

沿着第 k+1..T 步用链式法则得到 dh_T/dh_k = W W ... W（共 T - k 个因子）；它的范数是它能把
一个向量拉长的最大倍数。写出 `jacobian_column(r, steps)`：返回 k = 0, 1, ..., steps - 1 的
|dh_T/dh_k| 列表，T = steps - 1 是最后一步（所以最后一项 k = T 是 |I| = 1）。

这就是课件中的梯度消失和梯度爆炸：r < 1 时越早的步这一列几何级数地变小（梯度消失），
r > 1 时变大（梯度爆炸）。可以和 `tinygrad-rnn bptt --activation linear --radius 0.5
--steps 6` 对照。
"""

STARTER = '''
"""Exercise 5: the |dh_T/dh_k| column.  Check: tinygrad-rnn exercise check 5 THIS_FILE.py"""


def jacobian_column(r, steps):
    """[|dh_T/dh_0|, ..., |dh_T/dh_T|] for W = r * orthogonal, T = steps - 1."""
    T = steps - 1
    # TODO: your prediction for every k (a formula in r, T and k)
    return [None for k in range(steps)]
'''

SOLUTION = '''
"""Exercise 5: the |dh_T/dh_k| column (a solution)."""


def jacobian_column(r, steps):
    """[|dh_T/dh_0|, ..., |dh_T/dh_T|] for W = r * orthogonal, T = steps - 1."""
    T = steps - 1
    return [r ** (T - k) for k in range(steps)]
'''

CASES = ((0.5, 6), (1.5, 6), (1.0, 4), (0.9, 8))


def check(module, seed=0):
    for r, steps in CASES:
        run = lecture.build(activation="linear", radius=r, steps=steps, hidden=3, seed=5 + seed)
        measured = [row.jacobian_norm for row in bptt.analyze(run).rows]
        got = call(module, "jacobian_column", r, steps)
        if isinstance(got, np.ndarray) and got.ndim == 1:
            got = list(got)
        if not isinstance(got, (list, tuple)) or len(got) != steps:
            n = len(got) if isinstance(got, (list, tuple)) else type(got).__name__
            return verdict(
                5,
                "the |dh_T/dh_k| column",
                [f"jacobian_column({r}, {steps}) returned {n}; expected a list of {steps} numbers"],
            )
        rows, wrong = [("k", "measured", "yours", "")], False
        for k, (m, g) in enumerate(zip(measured, got)):
            try:
                ok = g is not None and abs(float(g) - m) <= 1e-6 + 1e-6 * abs(m)
            except (TypeError, ValueError):
                ok = False
            wrong |= not ok
            rows.append(
                (
                    str(k),
                    f"{m:.6g}",
                    str(g) if g is None else f"{float(g):.6g}" if _number(g) else repr(g),
                    "" if ok else "WRONG",
                )
            )
        if wrong:
            return verdict(
                5,
                "the |dh_T/dh_k| column",
                [
                    f"jacobian_column(r={r}, steps={steps}) differs from the engine's measurement "
                    f"(T = {steps - 1}, linear RNN, W = {r} x orthogonal):"
                ]
                + table(rows),
            )
    return verdict(5, "the |dh_T/dh_k| column", [])


def _number(g):
    try:
        float(g)
        return True
    except (TypeError, ValueError):
        return False


EXERCISE = Exercise(
    number=5,
    slug="jacobian_column",
    title="the |dh_T/dh_k| column",
    title_zh="预测 |dh_T/dh_k| 这一列",
    topic="4. Vanishing and exploding gradients (梯度消失和梯度爆炸)",
    teaches="dh_T/dh_k is a product of T - k Jacobians, so it shrinks or grows like r^(T-k)",
    teaches_zh="dh_T/dh_k 是 T - k 个雅可比矩阵的乘积，所以像 r^(T-k) 一样变小或变大",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
    recurrent=True,
)
