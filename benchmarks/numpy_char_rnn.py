"""A vanilla character RNN with its backward pass derived by hand, in plain numpy.

The reference the engine is timed against (benchmarks/rnn.py) and checked against
(tests/test_numpy_char_rnn.py). Same model as `nn.RNN(V, H)` + `nn.Linear(H, V)` with a
summed cross-entropy, in PyTorch's parameter layout (two biases, as nn.RNN has):

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh        h_t = tanh(a_t)
    y_t = h_t W_hy^T + b_hy                                 p_t = softmax(y_t)
    L   = -sum_t log p_t[target_t]

Backward through time (the min-char-rnn derivation):

    dy_t = p_t - onehot(target_t)
    dh_t = dy_t W_hy + da_{t+1} W_hh                        (da_T = 0)
    da_t = dh_t * (1 - h_t^2)
    dW_hh = sum_t da_t^T h_{t-1}    dW_ih = sum_t da_t^T x_t    db_ih = db_hh = sum_t da_t
    dW_hy = sum_t dy_t^T h_t        db_hy = sum_t dy_t          dh_init = da_0 W_hh

Two implementations of the same derivation:

- `loss_and_grads_loop`, min-char-rnn style: every quantity step by step, one-hot input
  vectors, outer products accumulated into the weight gradients inside the backward loop.
  This is the reference the benchmark's target (<= 1.5x) is stated against.
- `loss_and_grads`, vectorised: only the recurrence is a Python loop; everything that does
  not depend on the previous step (the input projection as a column lookup, the output
  layer, the softmax, and each weight gradient as one matmul over all steps) is done for
  all steps at once. The floor for plain numpy, reported next to it.
"""

import numpy as np

PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hy", "bias_hy")


def init_params(vocab, hidden, seed=0):
    """PyTorch's init: U(-1/sqrt(H), 1/sqrt(H)) for the RNN and the output layer."""
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(hidden)
    shapes = {
        "weight_ih": (hidden, vocab),
        "weight_hh": (hidden, hidden),
        "bias_ih": (hidden,),
        "bias_hh": (hidden,),
        "weight_hy": (vocab, hidden),
        "bias_hy": (vocab,),
    }
    return {name: rng.uniform(-bound, bound, size=shape) for name, shape in shapes.items()}


def loss_and_grads(params, inputs, targets, h_init):
    """Forward and backward over one sequence: (loss, grads dict, dL/dh_init, h_last).

    inputs, targets: integer arrays (T,); h_init: (H,).
    """
    W_ih, W_hh = params["weight_ih"], params["weight_hh"]
    b_ih, b_hh = params["bias_ih"], params["bias_hh"]
    W_hy, b_hy = params["weight_hy"], params["bias_hy"]
    steps, hidden = len(inputs), W_hh.shape[0]

    # forward: x_t is one-hot, so x_t W_ih^T is column inputs[t] of W_ih
    xw = W_ih[:, inputs].T + (b_ih + b_hh)
    h = np.empty((steps + 1, hidden))  # h[0] = h_init, h[t + 1] = h_t
    h[0] = h_init
    for t in range(steps):
        h[t + 1] = np.tanh(xw[t] + W_hh @ h[t])
    y = h[1:] @ W_hy.T + b_hy
    y_max = y.max(axis=1, keepdims=True)
    log_norm = y_max[:, 0] + np.log(np.exp(y - y_max).sum(axis=1))
    rows = np.arange(steps)
    loss = float(np.sum(log_norm - y[rows, targets]))

    # backward
    dy = np.exp(y - log_norm[:, None])
    dy[rows, targets] -= 1.0
    dh_out = dy @ W_hy
    da = np.empty((steps, hidden))
    da_next = np.zeros(hidden)
    for t in range(steps - 1, -1, -1):
        dh = dh_out[t] + W_hh.T @ da_next
        da_next = da[t] = dh * (1.0 - h[t + 1] * h[t + 1])
    d_bias = da.sum(axis=0)
    dW_ih = np.zeros_like(W_ih)
    np.add.at(dW_ih.T, inputs, da)  # da_t^T x_t adds da_t into column inputs[t]
    grads = {
        "weight_ih": dW_ih,
        "weight_hh": da.T @ h[:-1],
        "bias_ih": d_bias,
        "bias_hh": d_bias.copy(),
        "weight_hy": dy.T @ h[1:],
        "bias_hy": dy.sum(axis=0),
    }
    dh_init = W_hh.T @ da[0]
    return loss, grads, dh_init, h[-1].copy()


def loss_and_grads_loop(params, inputs, targets, h_init):
    """The same result as `loss_and_grads`, computed step by step (min-char-rnn style)."""
    W_ih, W_hh = params["weight_ih"], params["weight_hh"]
    b_ih, b_hh = params["bias_ih"], params["bias_hh"]
    W_hy, b_hy = params["weight_hy"], params["bias_hy"]
    vocab = W_ih.shape[1]
    xs, hs, ps = {}, {-1: h_init}, {}
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros(vocab)
        xs[t][inputs[t]] = 1.0
        hs[t] = np.tanh(W_ih @ xs[t] + b_ih + W_hh @ hs[t - 1] + b_hh)
        y = W_hy @ hs[t] + b_hy
        e = np.exp(y - y.max())
        ps[t] = e / e.sum()
        loss -= np.log(ps[t][targets[t]])
    grads = {name: np.zeros_like(params[name]) for name in PARAMETERS}
    dh_next = np.zeros_like(h_init)
    for t in range(len(inputs) - 1, -1, -1):
        dy = ps[t].copy()
        dy[targets[t]] -= 1.0
        grads["weight_hy"] += np.outer(dy, hs[t])
        grads["bias_hy"] += dy
        dh = W_hy.T @ dy + dh_next
        da = (1.0 - hs[t] * hs[t]) * dh
        grads["bias_ih"] += da
        grads["bias_hh"] += da
        grads["weight_ih"] += np.outer(da, xs[t])
        grads["weight_hh"] += np.outer(da, hs[t - 1])
        dh_next = W_hh.T @ da
    return float(loss), grads, dh_next, hs[len(inputs) - 1].copy()
