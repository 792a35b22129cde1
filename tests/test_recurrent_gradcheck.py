"""Recurrent cells and layers against central finite differences (float64, small sizes).

Each check differentiates every output at once (output, h_n and c_n flattened into one
vector, weighted randomly by `gradcheck`) with respect to the input, the initial state(s)
and every parameter. Parameters are perturbed in place, so `fn` only has to call the model.
"""

import itertools

import numpy as np
import pytest

from tinygrad_rnn import Tensor, concat, gradcheck, nn

T, B, I, H = 3, 2, 2, 2
TOLERANCES = {"atol": 1e-6, "rtol": 1e-5}
LAYERS = {
    "rnn_tanh": (nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, {}),
    "gru": (nn.GRU, {}),
}
CELLS = {
    "rnn_tanh": (nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn_relu": (nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTMCell, {}),
    "gru": (nn.GRUCell, {}),
}


def _flat(tensors):
    return concat([t.reshape(-1) for t in tensors], axis=0)


def _check(model, inputs, fn):
    """gradcheck fn over the inputs and every parameter, naming each by its PyTorch name."""
    named = list(model.named_parameters())
    leaves = [leaf for _, leaf in inputs] + [p for _, p in named]
    names = [n for n, _ in inputs] + [n for n, _ in named]
    assert gradcheck(lambda *args: fn(*args[: len(inputs)]), leaves, names=names, **TOLERANCES)


LAYER_CASES = list(itertools.product(LAYERS, (1, 2), (False, True)))


@pytest.mark.parametrize("kind,layers,bidirectional", LAYER_CASES)
def test_layer_gradients_match_finite_differences(kind, layers, bidirectional):
    cls, extra = LAYERS[kind]
    nn.manual_seed(layers + 2 * bidirectional)
    model = cls(I, H, num_layers=layers, bidirectional=bidirectional, **extra)
    rows = layers * (2 if bidirectional else 1)
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(T, B, I)), requires_grad=True)
    inputs = [("input", x), ("h_0", Tensor(rng.normal(size=(rows, B, H)), requires_grad=True))]
    if kind == "lstm":
        inputs.append(("c_0", Tensor(rng.normal(size=(rows, B, H)), requires_grad=True)))

        def fn(x, h_0, c_0):
            out, (h_n, c_n) = model(x, (h_0, c_0))
            return _flat([out, h_n, c_n])

    else:

        def fn(x, h_0):
            out, h_n = model(x, h_0)
            return _flat([out, h_n])

    _check(model, inputs, fn)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_layer_gradients_match_finite_differences_batch_first_unbatched(kind):
    """The transposes and reshapes around the unrolled steps carry gradients too."""
    cls, extra = LAYERS[kind]
    nn.manual_seed(5)
    rng = np.random.default_rng(1)
    batch_first = cls(I, H, batch_first=True, bidirectional=True, **extra)
    x = Tensor(rng.normal(size=(B, T, I)), requires_grad=True)
    _check(batch_first, [("input", x)], lambda x: _flat(_outputs(batch_first(x))))
    unbatched = cls(I, H, num_layers=2, **extra)
    x1 = Tensor(rng.normal(size=(T, I)), requires_grad=True)
    _check(unbatched, [("input", x1)], lambda x: _flat(_outputs(unbatched(x))))


def _outputs(result):
    out, state = result
    return [out, *state] if isinstance(state, tuple) else [out, state]


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("batched", [True, False])
def test_cell_gradients_match_finite_differences(kind, batched):
    cls, extra = CELLS[kind]
    nn.manual_seed(3)
    cell = cls(I, H, **extra)
    rng = np.random.default_rng(2)
    x_shape, s_shape = ((B, I), (B, H)) if batched else ((I,), (H,))
    inputs = [
        ("input", Tensor(rng.normal(size=x_shape), requires_grad=True)),
        ("h", Tensor(rng.normal(size=s_shape), requires_grad=True)),
    ]
    if kind == "lstm":
        inputs.append(("c", Tensor(rng.normal(size=s_shape), requires_grad=True)))
        _check(cell, inputs, lambda x, h, c: _flat(cell(x, (h, c))))
    else:
        _check(cell, inputs, lambda x, h: cell(x, h))


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_gradients_match_finite_differences_without_bias(kind):
    cls, extra = CELLS[kind]
    nn.manual_seed(4)
    cell = cls(I, H, bias=False, **extra)
    x = Tensor(np.random.default_rng(3).normal(size=(B, I)), requires_grad=True)
    if kind == "lstm":
        _check(cell, [("input", x)], lambda x: _flat(cell(x)))
    else:
        _check(cell, [("input", x)], lambda x: cell(x))


@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_gradients_match_finite_differences_through_a_loop(kind):
    """Three steps of a cell in a Python loop: the state's gradient flows back through time."""
    cls, extra = CELLS[kind]
    nn.manual_seed(6)
    cell = cls(I, H, **extra)
    x = Tensor(np.random.default_rng(4).normal(size=(T, B, I)), requires_grad=True)

    def fn(x):
        state = None
        for t in range(T):
            state = cell(x[t], state)
        return _flat(state) if kind == "lstm" else state

    _check(cell, [("input", x)], fn)
