"""Exercise 8 with a deliberate mistake (docs/exercises.md): a sign flip in the forget gate."""

import numpy as np


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
    tanh_c = np.tanh(c)
    do = dh_next * tanh_c
    dc = dc_next + dh_next * o * (1.0 - tanh_c * tanh_c)
    di = dc * g
    df = -dc * c_prev  # the mistake: a sign flip in the forget gate
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
