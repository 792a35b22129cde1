"""Exercise 4 with a deliberate mistake (docs/exercises.md): the loop misses k = 0."""

import numpy as np


def bptt_terms(s_init, s, W, dE_ds3):
    """[term_0, ..., term_3]: step k's share of dE_3/dW (each the shape of W).

    s_init: s_{-1} (H,);  s: [s_0, s_1, s_2, s_3], each (H,);  W: (H, H);
    dE_ds3: dE_3/ds_3 (H,).  s_k = tanh(U x_k + W s_{k-1} + b).
    """
    terms = [np.zeros_like(W) for _ in s]
    delta = dE_ds3
    for k in range(len(s) - 1, 0, -1):  # the mistake: k = 0 is never reached
        da = delta * (1.0 - s[k] * s[k])
        s_prev = s[k - 1] if k > 0 else s_init
        terms[k] = np.outer(da, s_prev)
        delta = W.T @ da
    return terms
