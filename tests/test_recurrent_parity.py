"""Recurrent layers and cells against PyTorch in float64: outputs, final states, gradients.

Every case loads the same weights into both models (our state_dict into torch, or torch's
state_dict, as torch tensors, into ours), runs the same input, and compares the outputs,
h_n (and c_n), and the gradients of one scalar loss with respect to the input, the initial
states and every parameter. The loss weighs every output element with a different random
coefficient, so a mix-up of two elements (a swapped gate, a reversed time axis) cannot cancel.
"""

import itertools
import math
import zlib

import numpy as np
import pytest

from tinygrad_rnn import Tensor, nn

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

TOL = 1e-10
KINDS = {
    "rnn_tanh": ("RNN", {"nonlinearity": "tanh"}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {}),
}
CELLS = {
    "rnn_tanh": ("RNNCell", {"nonlinearity": "tanh"}),
    "rnn_relu": ("RNNCell", {"nonlinearity": "relu"}),
    "lstm": ("LSTMCell", {}),
    "gru": ("GRUCell", {}),
}
T, B, I, H = 3, 2, 3, 4


def _max_error(ours, theirs):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert ours.shape == theirs.shape, f"shape {ours.shape} != torch's {theirs.shape}"
    return float(np.max(np.abs(ours - theirs))) if ours.size else 0.0


def _pair(kind, layers, bidirectional, batch_first, bias, load_from, cells=False):
    """The same model in both libraries, weights copied in the direction `load_from` says."""
    table = CELLS if cells else KINDS
    name, extra = table[kind]
    if cells:
        args = {"bias": bias, **extra}
    else:
        args = {
            "num_layers": layers,
            "bias": bias,
            "batch_first": batch_first,
            "bidirectional": bidirectional,
            **extra,
        }
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(I, H, **args).double()
    nn.manual_seed(1)
    ours = getattr(nn, name)(I, H, **args)
    if load_from == "torch":
        ours.load_state_dict(theirs.state_dict())  # torch tensors, as they come
    else:
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def _loss_weights(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, size=s) for s in shapes]


def _compare(ours, theirs, ours_out, theirs_out, our_leaves, their_leaves, seed):
    """Compare outputs, then the gradients of sum_k sum(w_k * out_k); return the max error."""
    errors = {}
    weights = _loss_weights([o.shape for o in ours_out], seed)
    for k, (a, b) in enumerate(zip(ours_out, theirs_out)):
        errors[f"output {k}"] = _max_error(a.data, b)
    loss = sum((o * Tensor(w)).sum() for o, w in zip(ours_out, weights))
    loss.backward()
    torch_loss = sum((o * torch.from_numpy(w)).sum() for o, w in zip(theirs_out, weights))
    torch_loss.backward()
    for name, leaf in our_leaves.items():
        errors[f"d/d{name}"] = _max_error(leaf.grad, their_leaves[name].grad)
    for name, param in ours.named_parameters():
        errors[f"d/d{name}"] = _max_error(param.grad, dict(theirs.named_parameters())[name].grad)
    worst = max(errors, key=errors.get)
    assert errors[worst] < TOL, f"largest error {errors[worst]:.3g} in {worst}: {errors}"
    return errors[worst]


def _leaf(array):
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array, requires_grad=True)


LAYER_CASES = list(
    itertools.product(
        KINDS,
        (1, 2, 3),  # layers
        (False, True),  # bidirectional
        (False, True),  # batch_first
        (True, False),  # batched
        (True, False),  # bias
        (False, True),  # initial states given
    )
)


def _case_id(case):
    kind, layers, bi, bf, batched, bias, given = case
    return (
        f"{kind}-L{layers}-{'bi' if bi else 'uni'}-{'bf' if bf else 'tf'}-"
        f"{'batched' if batched else 'unbatched'}-{'bias' if bias else 'nobias'}-"
        f"{'h0' if given else 'zero'}"
    )


@pytest.mark.parametrize("load_from", ["torch", "ours"])
@pytest.mark.parametrize("case", LAYER_CASES, ids=_case_id)
def test_layer_matches_torch_outputs_and_gradients(case, load_from):
    kind, layers, bidirectional, batch_first, batched, bias, given = case
    ours, theirs = _pair(kind, layers, bidirectional, batch_first, bias, load_from)
    rng = np.random.default_rng(zlib.crc32(_case_id(case).encode()))
    directions = 2 if bidirectional else 1
    if not batched:
        x_shape = (T, I)
    else:
        x_shape = (B, T, I) if batch_first else (T, B, I)
    x, x_torch = _leaf(rng.normal(size=x_shape))
    our_leaves, their_leaves = {"input": x}, {"input": x_torch}
    our_hx = their_hx = None
    if given:
        # batch_first never applies to the states: always (D*L, B, H)
        s_shape = (directions * layers, B, H) if batched else (directions * layers, H)
        names = ("h_0", "c_0") if kind == "lstm" else ("h_0",)
        for name in names:
            ours_s, theirs_s = _leaf(rng.normal(size=s_shape))
            our_leaves[name], their_leaves[name] = ours_s, theirs_s
        if kind == "lstm":
            our_hx = (our_leaves["h_0"], our_leaves["c_0"])
            their_hx = (their_leaves["h_0"], their_leaves["c_0"])
        else:
            our_hx, their_hx = our_leaves["h_0"], their_leaves["h_0"]
    out, state = ours(x, our_hx)
    out_t, state_t = theirs(x_torch, their_hx)
    if kind == "lstm":
        ours_out, theirs_out = [out, *state], [out_t, *state_t]
    else:
        ours_out, theirs_out = [out, state], [out_t, state_t]
    _compare(ours, theirs, ours_out, theirs_out, our_leaves, their_leaves, seed=layers)


CELL_CASES = list(itertools.product(CELLS, (True, False), (True, False), (False, True)))


@pytest.mark.parametrize("load_from", ["torch", "ours"])
@pytest.mark.parametrize(
    "kind,batched,bias,given",
    CELL_CASES,
    ids=[
        f"{k}-{'batched' if b else 'unbatched'}-{'bias' if bi else 'nobias'}-"
        f"{'h0' if g else 'zero'}"
        for k, b, bi, g in CELL_CASES
    ],
)
def test_cell_matches_torch_outputs_and_gradients(kind, batched, bias, given, load_from):
    ours, theirs = _pair(kind, 1, False, False, bias, load_from, cells=True)
    rng = np.random.default_rng(7)
    x, x_torch = _leaf(rng.normal(size=(B, I) if batched else (I,)))
    our_leaves, their_leaves = {"input": x}, {"input": x_torch}
    our_hx = their_hx = None
    if given:
        names = ("h", "c") if kind == "lstm" else ("h",)
        for name in names:
            s, s_torch = _leaf(rng.normal(size=(B, H) if batched else (H,)))
            our_leaves[name], their_leaves[name] = s, s_torch
        if kind == "lstm":
            our_hx, their_hx = (
                (our_leaves["h"], our_leaves["c"]),
                (their_leaves["h"], their_leaves["c"]),
            )
        else:
            our_hx, their_hx = our_leaves["h"], their_leaves["h"]
    new, new_t = ours(x, our_hx), theirs(x_torch, their_hx)
    ours_out = list(new) if kind == "lstm" else [new]
    theirs_out = list(new_t) if kind == "lstm" else [new_t]
    _compare(ours, theirs, ours_out, theirs_out, our_leaves, their_leaves, seed=3)


def test_cell_matches_torch_over_a_sequence_of_steps():
    """A hand-written loop of LSTMCell steps: the cell carries its state like torch's."""
    ours, theirs = _pair("lstm", 1, False, False, True, "torch", cells=True)
    rng = np.random.default_rng(11)
    xs = rng.normal(size=(4, B, I))
    x, x_torch = _leaf(xs)
    state, state_t = None, None
    for t in range(4):
        state, state_t = ours(x[t], state), theirs(x_torch[t], state_t)
    _compare(ours, theirs, list(state), list(state_t), {"x": x}, {"x": x_torch}, seed=5)


# ----- parameters: names, order, shapes, init -----------------------------------------------


PARAM_CASES = list(itertools.product(KINDS, (1, 2, 3), (False, True), (True, False)))


@pytest.mark.parametrize("kind,layers,bidirectional,bias", PARAM_CASES)
def test_layer_parameters_match_torch_names_order_and_shapes(kind, layers, bidirectional, bias):
    ours, theirs = _pair(kind, layers, bidirectional, False, bias, "torch")
    ours_shapes = [(n, p.shape) for n, p in ours.named_parameters()]
    theirs_shapes = [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert ours_shapes == theirs_shapes
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("bias", [True, False])
def test_cell_parameters_match_torch_names_order_and_shapes(kind, bias):
    ours, theirs = _pair(kind, 1, False, False, bias, "torch", cells=True)
    ours_shapes = [(n, p.shape) for n, p in ours.named_parameters()]
    theirs_shapes = [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert ours_shapes == theirs_shapes


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_default_init_is_uniform_within_one_over_sqrt_hidden(name):
    hidden = 16
    bound = 1.0 / math.sqrt(hidden)
    nn.manual_seed(0)
    extra = {} if name.endswith("Cell") else {"num_layers": 2, "bidirectional": True}
    model = getattr(nn, name)(5, hidden, **extra)
    values = np.concatenate([p.data.ravel() for p in model.parameters()])
    for param_name, param in model.named_parameters():
        assert np.all(np.abs(param.data) <= bound), param_name
        assert param.data.std() > 0, f"{param_name} was left constant"
    # uniform over the whole interval: both ends are reached, and the spread is U's
    assert values.min() < -0.95 * bound and values.max() > 0.95 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound
    # torch draws from the same interval
    theirs = getattr(torch.nn, name)(5, hidden, **extra)
    torch_values = torch.cat([p.detach().reshape(-1) for p in theirs.parameters()])
    assert float(torch_values.abs().max()) <= bound


def test_default_init_is_reproducible_with_manual_seed():
    nn.manual_seed(123)
    a = nn.LSTM(3, 4, num_layers=2).state_dict()
    nn.manual_seed(123)
    b = nn.LSTM(3, 4, num_layers=2).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
