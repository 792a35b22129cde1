"""Exercise 8: one LSTM step's backward, all four gates."""

from .base import Exercise
from .steps import StepSpec, check_step

TEXT_EN = """
Write the backward pass of one LSTM step (PyTorch's LSTM: gates i, f, g, o stacked in
this order in the rows of the fused weights, one bias b = b_ih + b_hh).

Forward (given), with H the hidden size and a split into four blocks of H columns:

    a = x W_ih^T + h_prev W_hh^T + b              a = [a_i, a_f, a_g, a_o]
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c = f * c_prev + i * g                        (the cell state: the memory)
    h = o * tanh(c)

Backward, given dh_next and dc_next (what reaches h and c from later steps):

    do = dh_next * tanh(c)
    dc = dc_next + dh_next * o * (1 - tanh(c)^2)  (both paths into c add up)
    di = dc * g      df = dc * c_prev      dg = dc * i      dc_prev = dc * f
    da = [di * i(1-i), df * f(1-f), dg * (1-g^2), do * o(1-o)]
    dx = da W_ih   dh_prev = da W_hh   dW_ih = da^T x   dW_hh = da^T h_prev   db = sum da

dc_prev = dc * f is the cell path: a forget gate near 1 passes the gradient back almost
unchanged, which is how LSTM keeps it from vanishing. `check` names the gate whose rows
are wrong and the time step where your gradient departs in a 4-step unrolled LSTM.
"""

TEXT_ZH = """
写出 LSTM 一个时间步的反向传播（PyTorch 的 LSTM：门 i, f, g, o 按这个顺序堆叠在融合权重
的行里；偏置合为一个 b = b_ih + b_hh）。

前向（已给出），H 为隐藏层大小，a 分成四块，每块 H 列：

    a = x W_ih^T + h_prev W_hh^T + b              a = [a_i, a_f, a_g, a_o]
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c = f * c_prev + i * g                        （细胞状态：记忆）
    h = o * tanh(c)

反向，已知 dh_next 和 dc_next（后面的时间步传到 h 和 c 的梯度）：

    do = dh_next * tanh(c)
    dc = dc_next + dh_next * o * (1 - tanh(c)^2)  （进入 c 的两条路径相加）
    di = dc * g      df = dc * c_prev      dg = dc * i      dc_prev = dc * f
    da = [di * i(1-i), df * f(1-f), dg * (1-g^2), do * o(1-o)]
    dx = da W_ih   dh_prev = da W_hh   dW_ih = da^T x   dW_hh = da^T h_prev   db = da 求和

dc_prev = dc * f 就是细胞状态的通路：遗忘门接近 1 时梯度几乎不变地传回去，LSTM 正是这样
缓解梯度消失的。`check` 会指出哪个门的行是错的，以及在展开 4 步的 LSTM 中你的梯度从
哪个时间步开始偏离。
"""

_FORWARD = '''

def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def lstm_step_forward(x, h_prev, c_prev, W_ih, W_hh, b):
    """One LSTM step, gates i, f, g, o; returns (h, c, cache)."""
    H = h_prev.shape[1]
    a = x @ W_ih.T + h_prev @ W_hh.T + b
    i = sigmoid(a[:, 0:H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H : 4 * H])
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    cache = (x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, c)
    return h, c, cache


def lstm_step_backward(dh_next, dc_next, cache):
    """Returns (dx, dh_prev, dc_prev, dW_ih, dW_hh, db), each the shape of its input."""
    x, h_prev, c_prev, W_ih, W_hh, i, f, g, o, c = cache
'''

STARTER = (
    '''
"""Exercise 8: one LSTM step's backward.  Check: tinygrad-rnn exercise check 8 THIS_FILE.py"""

import numpy as np
'''
    + _FORWARD
    + """    # TODO: do, dc, then di, df, dg, dc_prev, then da (the four gates' pre-activations)
    da = np.zeros((x.shape[0], W_ih.shape[0]))
    dc_prev = np.zeros_like(c_prev)
    dx = da @ W_ih
    dh_prev = da @ W_hh
    dW_ih = da.T @ x
    dW_hh = da.T @ h_prev
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dW_ih, dW_hh, db
"""
)

SOLUTION = (
    '''
"""Exercise 8: one LSTM step's backward (a solution)."""

import numpy as np
'''
    + _FORWARD
    + """    tanh_c = np.tanh(c)
    do = dh_next * tanh_c
    dc = dc_next + dh_next * o * (1.0 - tanh_c * tanh_c)
    di = dc * g
    df = dc * c_prev
    dg = dc * i
    dc_prev = dc * f
    da = np.concatenate(
        [di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g * g), do * o * (1.0 - o)],
        axis=1,
    )
    dx = da @ W_ih
    dh_prev = da @ W_hh
    dW_ih = da.T @ x
    dW_hh = da.T @ h_prev
    db = da.sum(axis=0)
    return dx, dh_prev, dc_prev, dW_ih, dW_hh, db
"""
)


def _reference(x, h_prev, c_prev, W_ih, W_hh, b):
    H = h_prev.shape[1]
    a = x @ W_ih.T + h_prev @ W_hh.T + b
    i = a[:, 0:H].sigmoid()
    f = a[:, H : 2 * H].sigmoid()
    g = a[:, 2 * H : 3 * H].tanh()
    o = a[:, 3 * H : 4 * H].sigmoid()
    c = f * c_prev + i * g
    return o * c.tanh(), c


SPEC = StepSpec(
    number=8,
    title="one LSTM step's backward",
    cell="lstm",
    forward="lstm_step_forward",
    backward="lstm_step_backward",
    args=("x", "h_prev", "c_prev", "W_ih", "W_hh", "b"),
    grads=("dx", "dh_prev", "dc_prev", "dW_ih", "dW_hh", "db"),
    states=("h", "c"),
    reference=_reference,
    gates="ifgo",
)


def check(module, seed=0):
    return check_step(SPEC, module, seed)


EXERCISE = Exercise(
    number=8,
    slug="lstm_step",
    title=SPEC.title,
    title_zh="LSTM 单步的反向传播",
    topic="5. LSTM: the gates and how it works (LSTM的门结构, LSTM的工作过程)",
    teaches="all four gates' derivatives, and the cell path dc_prev = dc * f",
    teaches_zh="四个门的导数，以及细胞状态通路 dc_prev = dc * f",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
    recurrent=True,
    draws=True,
)
