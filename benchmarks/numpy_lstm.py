"""One LSTM layer with its backward pass derived by hand, in plain numpy: the floor.

benchmarks/rnn.py reports it next to torch for the LSTM workloads, to show how much of a
time is arithmetic and how much is the engine around it; tests/test_numpy_lstm.py
checks its gradients against the engine. PyTorch's layout and gate order (i, f, g, o):

    a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh        (B, 4H), split into i f g o
    i, f, o = sigmoid(.), g = tanh(.)      c_t = f c_{t-1} + i g      h_t = o tanh(c_t)

Backward through time, with dh_t the gradient from the output plus from step t + 1:

    dc = dc_{t+1} f_{t+1} + dh_t o (1 - tanh^2 c_t)
    di = dc g i (1 - i)    df = dc c_{t-1} f (1 - f)    dg = dc i (1 - g^2)
    do = dh_t tanh(c_t) o (1 - o)           da_t = [di, df, dg, do]
    dh_{t-1} += da_t W_hh                   dW_hh = sum_t da_t^T h_{t-1}
    dW_ih = sum_t da_t^T x_t                db_ih = db_hh = sum_t da_t

The input projection and the weight gradients are one matmul over all steps; only the
recurrence is a loop, as in the engine.
"""

import numpy as np


def init_params(input_size, hidden, seed=0):
    """U(-1/sqrt(H), 1/sqrt(H)) for every parameter, as PyTorch."""
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(hidden)
    shapes = {
        "weight_ih_l0": (4 * hidden, input_size),
        "weight_hh_l0": (4 * hidden, hidden),
        "bias_ih_l0": (4 * hidden,),
        "bias_hh_l0": (4 * hidden,),
    }
    return {name: rng.uniform(-bound, bound, size=shape) for name, shape in shapes.items()}


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def forward_backward(params, x, grad_output):
    """output (T, B, H) of the layer from zero states, and the gradients of
    sum(grad_output * output) with respect to every parameter."""
    W_ih, W_hh = params["weight_ih_l0"], params["weight_hh_l0"]
    bias = params["bias_ih_l0"] + params["bias_hh_l0"]
    steps, batch, input_size = x.shape
    H = W_hh.shape[1]
    xw = (x.reshape(steps * batch, input_size) @ W_ih.T + bias).reshape(steps, batch, 4 * H)
    h = np.zeros((steps + 1, batch, H))  # h[t + 1] = h_t, h[0] = 0
    c = np.zeros((steps + 1, batch, H))
    gates = np.empty((steps, batch, 4 * H))  # i f g o after their nonlinearities
    tanh_c = np.empty((steps, batch, H))
    for t in range(steps):
        a = xw[t] + h[t] @ W_hh.T
        gate = gates[t]
        gate[:, : 2 * H] = _sigmoid(a[:, : 2 * H])
        gate[:, 2 * H : 3 * H] = np.tanh(a[:, 2 * H : 3 * H])
        gate[:, 3 * H :] = _sigmoid(a[:, 3 * H :])
        i, f, g, o = gate[:, :H], gate[:, H : 2 * H], gate[:, 2 * H : 3 * H], gate[:, 3 * H :]
        c[t + 1] = f * c[t] + i * g
        tanh_c[t] = np.tanh(c[t + 1])
        h[t + 1] = o * tanh_c[t]

    da = np.empty((steps, batch, 4 * H))
    dh_next = np.zeros((batch, H))
    dc_next = np.zeros((batch, H))
    for t in range(steps - 1, -1, -1):
        gate = gates[t]
        i, f, g, o = gate[:, :H], gate[:, H : 2 * H], gate[:, 2 * H : 3 * H], gate[:, 3 * H :]
        dh = grad_output[t] + dh_next
        dc = dc_next + dh * o * (1.0 - tanh_c[t] * tanh_c[t])
        d = da[t]
        d[:, :H] = dc * g * i * (1.0 - i)
        d[:, H : 2 * H] = dc * c[t] * f * (1.0 - f)
        d[:, 2 * H : 3 * H] = dc * i * (1.0 - g * g)
        d[:, 3 * H :] = dh * tanh_c[t] * o * (1.0 - o)
        dc_next = dc * f
        dh_next = d @ W_hh
    flat = da.reshape(steps * batch, 4 * H)
    d_bias = flat.sum(axis=0)
    grads = {
        "weight_ih_l0": flat.T @ x.reshape(steps * batch, input_size),
        "weight_hh_l0": flat.T @ h[:-1].reshape(steps * batch, H),
        "bias_ih_l0": d_bias,
        "bias_hh_l0": d_bias.copy(),
    }
    return h[1:], grads
