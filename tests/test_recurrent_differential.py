"""Random recurrent configurations against PyTorch in float64 (issue 10, point 5).

A hypothesis strategy draws the whole family: cell type (RNN tanh/relu, LSTM, GRU, and the
cells), 1-3 layers, bidirectional, batch_first, batched or unbatched, bias, given or zero
initial states, LSTM proj_size, sequence length and sizes, and a dropout probability with
the model in eval() mode. Both libraries get the same weights (ours, loaded into torch), and
every output, final state and gradient (input, initial states, every parameter) must agree
to 1e-9.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_rnn import Tensor, nn

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")

TOL = 1e-9
KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru")


@st.composite
def layer_configs(draw):
    kind = draw(st.sampled_from(KINDS))
    hidden = draw(st.integers(1, 4))
    layers = draw(st.integers(1, 3))
    return {
        "kind": kind,
        "input_size": draw(st.integers(1, 3)),
        "hidden_size": hidden,
        "num_layers": layers,
        "bias": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "bidirectional": draw(st.booleans()),
        "dropout": draw(st.sampled_from((0.0, 0.5, 1.0))) if layers > 1 else 0.0,
        "proj_size": draw(st.integers(0, hidden - 1)) if kind == "lstm" else 0,
        "batch": draw(st.one_of(st.none(), st.integers(1, 3))),  # None: unbatched
        "steps": draw(st.integers(1, 4)),
        "given_state": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


def _arguments(cfg):
    args = {k: cfg[k] for k in ("num_layers", "bias", "batch_first", "dropout", "bidirectional")}
    if cfg["kind"].startswith("rnn"):
        args["nonlinearity"] = cfg["kind"][4:]
    if cfg["proj_size"]:
        args["proj_size"] = cfg["proj_size"]
    return args


def _class(cfg):
    return {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cfg["kind"].split("_")[0]]


def _leaf(rng, shape):
    array = rng.normal(size=shape)
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array, requires_grad=True)


def _check(ours_out, theirs_out, ours_leaves, theirs_leaves, ours, theirs, rng, cfg):
    for k, (a, b) in enumerate(zip(ours_out, theirs_out)):
        assert a.shape == tuple(b.shape), (k, a.shape, tuple(b.shape), cfg)
        np.testing.assert_allclose(a.data, b.detach().numpy(), atol=TOL, rtol=0, err_msg=f"{k}")
    weights = [rng.uniform(-1, 1, size=o.shape) for o in ours_out]
    sum((o * Tensor(w)).sum() for o, w in zip(ours_out, weights)).backward()
    sum((o * torch.from_numpy(w)).sum() for o, w in zip(theirs_out, weights)).backward()
    pairs = list(zip(ours_leaves, theirs_leaves))
    named = dict(theirs.named_parameters())
    pairs += [(p, named[name]) for name, p in ours.named_parameters()]
    for k, (a, b) in enumerate(pairs):
        expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad
        np.testing.assert_allclose(got, expected, atol=TOL, rtol=0, err_msg=f"grad {k} {cfg}")


@settings(max_examples=60, deadline=None)
@given(layer_configs())
def test_random_layer_configurations_match_torch(cfg):
    name, args = _class(cfg), _arguments(cfg)
    nn.manual_seed(cfg["seed"])
    ours = getattr(nn, name)(cfg["input_size"], cfg["hidden_size"], **args).eval()
    theirs = getattr(torch.nn, name)(cfg["input_size"], cfg["hidden_size"], **args).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    theirs.eval()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    rng = np.random.default_rng(cfg["seed"])
    steps, batch, i = cfg["steps"], cfg["batch"], cfg["input_size"]
    if batch is None:
        shape = (steps, i)
    else:
        shape = (batch, steps, i) if cfg["batch_first"] else (steps, batch, i)
    x, xt = _leaf(rng, shape)
    ours_leaves, theirs_leaves = [x], [xt]
    hx = hxt = None
    if cfg["given_state"]:
        rows = cfg["num_layers"] * (2 if cfg["bidirectional"] else 1)
        widths = [cfg["proj_size"] or cfg["hidden_size"]]
        if name == "LSTM":
            widths.append(cfg["hidden_size"])
        states = [_leaf(rng, (rows, w) if batch is None else (rows, batch, w)) for w in widths]
        ours_leaves += [s[0] for s in states]
        theirs_leaves += [s[1] for s in states]
        hx = tuple(s[0] for s in states) if name == "LSTM" else states[0][0]
        hxt = tuple(s[1] for s in states) if name == "LSTM" else states[0][1]
    out, state = ours(x, hx)
    out_t, state_t = theirs(xt, hxt)
    ours_out = [out, *state] if name == "LSTM" else [out, state]
    theirs_out = [out_t, *state_t] if name == "LSTM" else [out_t, state_t]
    _check(ours_out, theirs_out, ours_leaves, theirs_leaves, ours, theirs, rng, cfg)


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    input_size=st.integers(1, 3),
    hidden_size=st.integers(1, 4),
    bias=st.booleans(),
    batch=st.one_of(st.none(), st.integers(1, 3)),
    given_state=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_cell_configurations_match_torch(
    kind, input_size, hidden_size, bias, batch, given_state, seed
):
    name = {"rnn": "RNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}[kind.split("_")[0]]
    args = {"bias": bias}
    if kind.startswith("rnn"):
        args["nonlinearity"] = kind[4:]
    nn.manual_seed(seed)
    ours = getattr(nn, name)(input_size, hidden_size, **args)
    theirs = getattr(torch.nn, name)(input_size, hidden_size, **args).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(seed)
    x, xt = _leaf(rng, (input_size,) if batch is None else (batch, input_size))
    ours_leaves, theirs_leaves = [x], [xt]
    hx = hxt = None
    if given_state:
        shape = (hidden_size,) if batch is None else (batch, hidden_size)
        states = [_leaf(rng, shape) for _ in range(2 if name == "LSTMCell" else 1)]
        ours_leaves += [s[0] for s in states]
        theirs_leaves += [s[1] for s in states]
        hx = tuple(s[0] for s in states) if name == "LSTMCell" else states[0][0]
        hxt = tuple(s[1] for s in states) if name == "LSTMCell" else states[0][1]
    out, out_t = ours(x, hx), theirs(xt, hxt)
    ours_out = list(out) if name == "LSTMCell" else [out]
    theirs_out = list(out_t) if name == "LSTMCell" else [out_t]
    cfg = {"kind": kind, "batch": batch}
    _check(ours_out, theirs_out, ours_leaves, theirs_leaves, ours, theirs, rng, cfg)
