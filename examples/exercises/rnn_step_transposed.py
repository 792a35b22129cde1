"""Exercise 3 with a deliberate mistake (docs/exercises.md): W_hh transposed in dh_prev."""

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
    dh_prev = da @ W_hh.T  # the mistake: W_hh transposed
    dW_ih = da.T @ x
    dW_hh = da.T @ h_prev
    db = da.sum(axis=0)
    return dx, dh_prev, dW_ih, dW_hh, db
