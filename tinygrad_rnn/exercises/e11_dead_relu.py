"""Exercise 11: dead ReLU units, counted."""

import numpy as np

from ..tensor import Tensor
from .base import Exercise, call, verdict

TEXT_EN = """
The lecture suggests ReLU instead of sigmoid and tanh against vanishing gradients
(使用relu代替sigmoid和tanh作为激活函数): relu'(a) = 1 for a > 0, so an active unit passes
its gradient on unchanged. The price is relu'(a) = 0 for a <= 0.

For a ReLU layer h = relu(X W^T + b) on a batch X (B, I), with W (H, I), b (H,):

    dL/dW[j] = sum over examples n of dL/dh[n, j] * relu'(a[n, j]) * X[n]

A unit j whose pre-activation a[n, j] = X[n] . W[j] + b[j] is <= 0 for every example is
dead on this batch: it outputs 0, and its row of dL/dW and its dL/db[j] are exactly 0,
whatever the loss. Gradient descent will never change it again: a large step that pushed
b[j] far below zero killed it for good.

Write `count_dead(W, b, X)`: the number of dead units. `check` counts the rows of W whose
gradient the engine computes as exactly zero, on layers whose biases were pushed down by
a bad update, and compares.
"""

TEXT_ZH = """
课件建议用 ReLU 代替 sigmoid 和 tanh 来缓解梯度消失（使用relu代替sigmoid和tanh作为激活
函数）：a > 0 时 relu'(a) = 1，激活的单元把梯度原样传下去。代价是 a <= 0 时 relu'(a) = 0。

对一个 ReLU 层 h = relu(X W^T + b)，批 X (B, I)，W (H, I)，b (H,)：

    dL/dW[j] = 对样本 n 求和 dL/dh[n, j] * relu'(a[n, j]) * X[n]

如果单元 j 的预激活 a[n, j] = X[n] . W[j] + b[j] 对每个样本都 <= 0，它在这个批上就"死"了：
输出恒为 0，dL/dW 的第 j 行和 dL/db[j] 恰好为 0，与损失无关。梯度下降再也不会改变它：
一次过大的更新把 b[j] 推到远小于零，就永远杀死了它。

写出 `count_dead(W, b, X)`：死单元的个数。`check` 会在偏置被一次错误更新压低的层上，
数出引擎算出的梯度恰好为零的 W 的行数，并与你的答案比较。
"""

STARTER = '''
"""Exercise 11: dead ReLU units.  Check: tinygrad-rnn exercise check 11 THIS_FILE.py"""

import numpy as np


def count_dead(W, b, X):
    """How many units of h = relu(X W^T + b) are dead on the batch X (W (H, I), b (H,))."""
    # TODO: a unit is dead when its pre-activation is <= 0 for every example
    return None
'''

SOLUTION = '''
"""Exercise 11: dead ReLU units (a solution)."""

import numpy as np


def count_dead(W, b, X):
    """How many units of h = relu(X W^T + b) are dead on the batch X (W (H, I), b (H,))."""
    a = X @ W.T + b
    return int(np.sum(np.all(a <= 0, axis=0)))
'''

CASES = ((16, 4, 32, -1.0), (16, 4, 32, -2.5), (12, 3, 8, -0.5), (10, 5, 64, 0.0))


def engine_dead(W, b, X, seed):
    """Units whose gradient row the engine computes as exactly zero (a random loss)."""
    Wt = Tensor(W.copy(), requires_grad=True)
    bt = Tensor(b.copy(), requires_grad=True)
    h = (Tensor(X) @ Wt.T + bt).relu()
    v = np.random.default_rng(seed).normal(size=h.shape)
    (h * Tensor(v)).sum().backward()
    dead = np.all(Wt.grad == 0, axis=1) & (bt.grad == 0)
    return [int(j) for j in np.flatnonzero(dead)]


def check(module, seed=0):
    rng = np.random.default_rng(11 + seed)
    for case, (H, I, B, shift) in enumerate(CASES, 1):
        W = rng.normal(0.0, 1.0, size=(H, I))
        b = rng.normal(shift, 1.0, size=H)  # a bad update pushed the biases down by |shift|
        X = rng.normal(size=(B, I))
        dead = engine_dead(W, b, X, case)
        got = call(module, "count_dead", W.copy(), b.copy(), X.copy())
        # a whole number of any type (3, np.int64(3), 3.0); not True, not "3"
        number = isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(
            got, bool
        )
        ok = number and got == len(dead)
        if not ok:
            return verdict(
                11,
                "dead ReLU units",
                [
                    f"case {case} (H={H} units, batch of {B}, biases around {shift}): "
                    f"count_dead returned {got!r}; the engine's gradient is exactly zero "
                    f"for {len(dead)} unit(s): {dead}",
                    "  a dead unit's pre-activation is <= 0 for every example of the batch",
                ],
            )
    return verdict(11, "dead ReLU units", [])


EXERCISE = Exercise(
    number=11,
    slug="dead_relu",
    title="dead ReLU units",
    title_zh="死亡的 ReLU 单元",
    topic="4. Vanishing gradients: ReLU instead of sigmoid and tanh (梯度消失的解决思路)",
    teaches="relu' is 0 or 1: no vanishing for active units, no gradient at all for dead ones",
    teaches_zh="relu' 只有 0 和 1：激活的单元不会梯度消失，死掉的单元完全没有梯度",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
)
