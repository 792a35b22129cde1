"""Exercise 2: the backward of sigmoid, as a Function."""

import numpy as np

from .base import Exercise
from .unary import check_unary

TEXT_EN = """
Write the backward pass of the logistic sigmoid as a custom autograd Function.

LSTM's and GRU's gates (input, forget, output; reset, update) are sigmoids:

    y = sigmoid(x) = 1 / (1 + exp(-x))          dy/dx = y (1 - y)

The derivative is at most 1/4 (at x = 0), which is why Pascanu et al.'s bound uses
gamma = 1/4 for sigmoid. Return dL/dx = grad_out * y * (1 - y) from `Sigmoid.backward`.
Forward is written for you and is stable for large |x| (no overflow in exp).
"""

TEXT_ZH = """
把 logistic sigmoid 的反向传播写成一个自定义的 Function。

LSTM 和 GRU 的门（输入门、遗忘门、输出门；重置门、更新门）都是 sigmoid：

    y = sigmoid(x) = 1 / (1 + exp(-x))          dy/dx = y (1 - y)

导数最大为 1/4（在 x = 0 处），所以 Pascanu 等人的上界对 sigmoid 取 gamma = 1/4。
在 `Sigmoid.backward` 中返回 dL/dx = grad_out * y * (1 - y)。forward 已经写好，
对很大的 |x| 也是数值稳定的（exp 不会溢出）。
"""

STARTER = '''
"""Exercise 2: sigmoid's backward.  Check with: tinygrad-rnn exercise check 2 THIS_FILE.py"""

import numpy as np

from tinygrad_rnn import Function


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))  # never overflows
        y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        # TODO: return dL/dx = grad_out * dy/dx
        return np.zeros_like(grad_out)
'''

SOLUTION = '''
"""Exercise 2: sigmoid's backward (a solution)."""

import numpy as np

from tinygrad_rnn import Function


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x));  dy/dx = y (1 - y)."""

    @staticmethod
    def forward(ctx, x):
        e = np.exp(-np.abs(x))  # never overflows
        y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * y * (1.0 - y)
'''


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def check(module, seed=0):
    return check_unary(module, 2, "sigmoid", "Sigmoid", lambda x: x.sigmoid(), _sigmoid, seed)


EXERCISE = Exercise(
    number=2,
    slug="sigmoid",
    title="sigmoid's backward as a Function",
    title_zh="把 sigmoid 的反向传播写成 Function",
    topic="5. LSTM: the gates are sigmoids (LSTM的门结构)",
    teaches="the gate derivative y(1-y) <= 1/4, the factor behind sigmoid's vanishing gradients",
    teaches_zh="门的导数 y(1-y) <= 1/4，正是 sigmoid 梯度消失的那个因子",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
)
