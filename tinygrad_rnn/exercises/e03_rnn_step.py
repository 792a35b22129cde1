"""Exercise 3: one RNN step's backward (rnn_step_backward, given dh_next)."""

from .base import Exercise
from .steps import StepSpec, check_step

TEXT_EN = """
Write the backward pass of one step of a tanh RNN, given the gradient dh_next that
arrives at the step's output from everything after it (the next step and the loss).

Forward (given; PyTorch's layout, one row per example of the batch):

    a      = x W_ih^T + h_prev W_hh^T + b          x (B, I), h_prev (B, H), W_ih (H, I)
    h_next = tanh(a)                               W_hh (H, H), b (H,)

Backward: with da = dh_next * (1 - h_next^2),

    dx = da W_ih       dh_prev = da W_hh       dW_ih = da^T x
    dW_hh = da^T h_prev                        db = sum of da over the batch

dh_prev is what flows on to the previous step: BPTT is this function called once per
step, from the last step back to the first. `check` also runs your function at every
step of a 4-step unrolled RNN and says at which time step your gradient first departs
from the true one; `--picture FILE.svg` draws both.
"""

TEXT_ZH = """
写出 tanh RNN 一个时间步的反向传播：已知从后面（下一步和损失）传到本步输出的梯度
dh_next。

前向（已给出；PyTorch 的布局，每行是批中的一个样本）：

    a      = x W_ih^T + h_prev W_hh^T + b          x (B, I), h_prev (B, H), W_ih (H, I)
    h_next = tanh(a)                               W_hh (H, H), b (H,)

反向：令 da = dh_next * (1 - h_next^2)，

    dx = da W_ih       dh_prev = da W_hh       dW_ih = da^T x
    dW_hh = da^T h_prev                        db = da 在批维度上求和

dh_prev 会继续传给上一步：BPTT 就是从最后一步到第一步、每步调用一次这个函数。
`check` 还会把你的函数用在一个展开 4 步的 RNN 的每一步上，并指出你的梯度从哪个时间步
开始偏离正确值；`--picture FILE.svg` 把两者画在一起。
"""

STARTER = '''
"""Exercise 3: one RNN step's backward.  Check: tinygrad-rnn exercise check 3 THIS_FILE.py"""

import numpy as np


def rnn_step_forward(x, h_prev, W_ih, W_hh, b):
    """h_next = tanh(x W_ih^T + h_prev W_hh^T + b); returns (h_next, cache)."""
    h_next = np.tanh(x @ W_ih.T + h_prev @ W_hh.T + b)
    cache = (x, h_prev, W_ih, W_hh, h_next)
    return h_next, cache


def rnn_step_backward(dh_next, cache):
    """Returns (dx, dh_prev, dW_ih, dW_hh, db), each the shape of its input."""
    x, h_prev, W_ih, W_hh, h_next = cache
    # TODO: da = dh_next * tanh'(a), then the five gradients
    dx = np.zeros_like(x)
    dh_prev = np.zeros_like(h_prev)
    dW_ih = np.zeros_like(W_ih)
    dW_hh = np.zeros_like(W_hh)
    db = np.zeros(W_ih.shape[0])
    return dx, dh_prev, dW_ih, dW_hh, db
'''

SOLUTION = '''
"""Exercise 3: one RNN step's backward (a solution)."""

import numpy as np


def rnn_step_forward(x, h_prev, W_ih, W_hh, b):
    """h_next = tanh(x W_ih^T + h_prev W_hh^T + b); returns (h_next, cache)."""
    h_next = np.tanh(x @ W_ih.T + h_prev @ W_hh.T + b)
    cache = (x, h_prev, W_ih, W_hh, h_next)
    return h_next, cache


def rnn_step_backward(dh_next, cache):
    """Returns (dx, dh_prev, dW_ih, dW_hh, db), each the shape of its input."""
    x, h_prev, W_ih, W_hh, h_next = cache
    da = dh_next * (1.0 - h_next * h_next)
    dx = da @ W_ih
    dh_prev = da @ W_hh
    dW_ih = da.T @ x
    dW_hh = da.T @ h_prev
    db = da.sum(axis=0)
    return dx, dh_prev, dW_ih, dW_hh, db
'''


def _reference(x, h_prev, W_ih, W_hh, b):
    return ((x @ W_ih.T + h_prev @ W_hh.T + b).tanh(),)


SPEC = StepSpec(
    number=3,
    title="one RNN step's backward",
    cell="rnn",
    forward="rnn_step_forward",
    backward="rnn_step_backward",
    args=("x", "h_prev", "W_ih", "W_hh", "b"),
    grads=("dx", "dh_prev", "dW_ih", "dW_hh", "db"),
    states=("h",),
    reference=_reference,
    gates="",
)


def check(module, seed=0):
    return check_step(SPEC, module, seed)


EXERCISE = Exercise(
    number=3,
    slug="rnn_step",
    title=SPEC.title,
    title_zh="RNN 单步的反向传播",
    topic="3. RNN structure and training: BPTT, one step (循环神经网络的训练: BPTT)",
    teaches="the five gradients of one step, and that BPTT is this step run backwards in time",
    teaches_zh="一步的五个梯度；BPTT 就是把这一步沿时间倒着运行",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
    recurrent=True,
    draws=True,
)
