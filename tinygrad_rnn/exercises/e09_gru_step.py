"""Exercise 9: one GRU step's backward."""

from .base import Exercise
from .steps import StepSpec, check_step

TEXT_EN = """
Write the backward pass of one GRU step (PyTorch's GRU: gates r, z, n stacked in this
order in the rows of the fused weights; the reset gate r multiplies the recurrent product
*including* b_hn, so the two biases stay separate).

Forward (given), every gi_*, gh_* a block of H columns:

    gi = x W_ih^T + b_ih          gh = h_prev W_hh^T + b_hh
    r = sigmoid(gi_r + gh_r)      z = sigmoid(gi_z + gh_z)
    n = tanh(gi_n + r * gh_n)
    h = (1 - z) * n + z * h_prev

Backward, given dh_next:

    dn = dh_next * (1 - z)        dz = dh_next * (h_prev - n)
    dan = dn * (1 - n^2)          (the gradient at n's pre-activation)
    dr = dan * gh_n
    dgi = [dr * r(1-r), dz * z(1-z), dan]
    dgh = [dr * r(1-r), dz * z(1-z), dan * r]
    dx = dgi W_ih   dh_prev = dgh W_hh + dh_next * z
    dW_ih = dgi^T x   dW_hh = dgh^T h_prev   db_ih = sum dgi   db_hh = sum dgh

The term dh_next * z is the GRU's shortcut: an update gate near 1 copies the old state,
and its gradient, straight through.
"""

TEXT_ZH = """
写出 GRU 一个时间步的反向传播（PyTorch 的 GRU：门 r, z, n 按这个顺序堆叠在融合权重的
行里；重置门 r 乘的是包含 b_hn 的循环项，所以两个偏置不能合并）。

前向（已给出），每个 gi_*、gh_* 是 H 列的一块：

    gi = x W_ih^T + b_ih          gh = h_prev W_hh^T + b_hh
    r = sigmoid(gi_r + gh_r)      z = sigmoid(gi_z + gh_z)
    n = tanh(gi_n + r * gh_n)
    h = (1 - z) * n + z * h_prev

反向，已知 dh_next：

    dn = dh_next * (1 - z)        dz = dh_next * (h_prev - n)
    dan = dn * (1 - n^2)          （n 的预激活处的梯度）
    dr = dan * gh_n
    dgi = [dr * r(1-r), dz * z(1-z), dan]
    dgh = [dr * r(1-r), dz * z(1-z), dan * r]
    dx = dgi W_ih   dh_prev = dgh W_hh + dh_next * z
    dW_ih = dgi^T x   dW_hh = dgh^T h_prev   db_ih = dgi 求和   db_hh = dgh 求和

dh_next * z 是 GRU 的捷径：更新门接近 1 时，旧状态和它的梯度被直接复制过去。
"""

_FORWARD = '''

def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def gru_step_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One GRU step, gates r, z, n (PyTorch's); returns (h, cache)."""
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    r = sigmoid(gi[:, 0:H] + gh[:, 0:H])
    z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    h = (1.0 - z) * n + z * h_prev
    cache = (x, h_prev, W_ih, W_hh, r, z, n, gh[:, 2 * H :])
    return h, cache


def gru_step_backward(dh_next, cache):
    """Returns (dx, dh_prev, dW_ih, dW_hh, db_ih, db_hh), each the shape of its input."""
    x, h_prev, W_ih, W_hh, r, z, n, gh_n = cache
'''

STARTER = (
    '''
"""Exercise 9: one GRU step's backward.  Check: tinygrad-rnn exercise check 9 THIS_FILE.py"""

import numpy as np
'''
    + _FORWARD
    + """    # TODO: dn, dz, dan, dr, then dgi and dgh (the gates r, z, n side by side)
    dgi = np.zeros((x.shape[0], W_ih.shape[0]))
    dgh = np.zeros((x.shape[0], W_hh.shape[0]))
    dx = dgi @ W_ih
    dh_prev = dgh @ W_hh
    dW_ih = dgi.T @ x
    dW_hh = dgh.T @ h_prev
    return dx, dh_prev, dW_ih, dW_hh, dgi.sum(axis=0), dgh.sum(axis=0)
"""
)

SOLUTION = (
    '''
"""Exercise 9: one GRU step's backward (a solution)."""

import numpy as np
'''
    + _FORWARD
    + """    dn = dh_next * (1.0 - z)
    dz = dh_next * (h_prev - n)
    dan = dn * (1.0 - n * n)
    dr = dan * gh_n
    dar, daz = dr * r * (1.0 - r), dz * z * (1.0 - z)
    dgi = np.concatenate([dar, daz, dan], axis=1)
    dgh = np.concatenate([dar, daz, dan * r], axis=1)
    dx = dgi @ W_ih
    dh_prev = dgh @ W_hh + dh_next * z
    dW_ih = dgi.T @ x
    dW_hh = dgh.T @ h_prev
    return dx, dh_prev, dW_ih, dW_hh, dgi.sum(axis=0), dgh.sum(axis=0)
"""
)


def _reference(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    H = h_prev.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h_prev @ W_hh.T + b_hh
    r = (gi[:, 0:H] + gh[:, 0:H]).sigmoid()
    z = (gi[:, H : 2 * H] + gh[:, H : 2 * H]).sigmoid()
    n = (gi[:, 2 * H :] + r * gh[:, 2 * H :]).tanh()
    return ((1.0 - z) * n + z * h_prev,)


SPEC = StepSpec(
    number=9,
    title="one GRU step's backward",
    cell="gru",
    forward="gru_step_forward",
    backward="gru_step_backward",
    args=("x", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh"),
    grads=("dx", "dh_prev", "dW_ih", "dW_hh", "db_ih", "db_hh"),
    states=("h",),
    reference=_reference,
    gates="rzn",
)


def check(module, seed=0):
    return check_step(SPEC, module, seed)


EXERCISE = Exercise(
    number=9,
    slug="gru_step",
    title=SPEC.title,
    title_zh="GRU 单步的反向传播",
    topic="6. GRU structure (GRU结构原理)",
    teaches="the reset gate inside n, and the update gate's shortcut dh_prev += dh_next * z",
    teaches_zh="n 里面的重置门，以及更新门的捷径 dh_prev += dh_next * z",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
    recurrent=True,
    draws=True,
)
