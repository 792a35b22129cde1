"""Exercise 1: the backward of tanh, as a Function."""

import numpy as np

from .base import Exercise
from .unary import check_unary

TEXT_EN = """
Write the backward pass of tanh as a custom autograd Function.

The lecture's memory update is s_t = tanh(U x_t + W s_{t-1}), so every gradient that
flows back through time passes through tanh's derivative once per step:

    y = tanh(x)          dy/dx = 1 - tanh(x)^2 = 1 - y^2

In `Tanh.backward(ctx, grad_out)`, grad_out is dL/dy (same shape as y); return dL/dx,
which is grad_out * dy/dx elementwise. Forward already saves y for you: reuse it instead
of recomputing tanh.
"""

TEXT_ZH = """
把 tanh 的反向传播写成一个自定义的 Function。

课件中记忆的更新是 s_t = tanh(U x_t + W s_{t-1})，所以沿时间反向传播的梯度每经过一步
都要乘一次 tanh 的导数：

    y = tanh(x)          dy/dx = 1 - tanh(x)^2 = 1 - y^2

在 `Tanh.backward(ctx, grad_out)` 中，grad_out 是 dL/dy（与 y 形状相同）；返回 dL/dx，
即逐元素的 grad_out * dy/dx。forward 已经保存了 y：直接用它，不要重新计算 tanh。
"""

STARTER = '''
"""Exercise 1: tanh's backward.  Check with: tinygrad-rnn exercise check 1 THIS_FILE.py"""

import numpy as np

from tinygrad_rnn import Function


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y^2."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        # TODO: return dL/dx = grad_out * dy/dx
        return np.zeros_like(grad_out)
'''

SOLUTION = '''
"""Exercise 1: tanh's backward (a solution)."""

import numpy as np

from tinygrad_rnn import Function


class Tanh(Function):
    """y = tanh(x);  dy/dx = 1 - y^2."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        return grad_out * (1.0 - y * y)
'''


def check(module, seed=0):
    return check_unary(module, 1, "tanh", "Tanh", lambda x: x.tanh(), np.tanh, seed)


EXERCISE = Exercise(
    number=1,
    slug="tanh",
    title="tanh's backward as a Function",
    title_zh="把 tanh 的反向传播写成 Function",
    topic="3. RNN structure: s_t = tanh(U x_t + W s_{t-1}) (RNN的结构)",
    teaches="a local derivative, grad_out times dy/dx, and how a Function plugs into autograd",
    teaches_zh="局部导数：grad_out 乘以 dy/dx；以及 Function 如何接入自动求导",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
)
