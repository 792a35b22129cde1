"""One small model per sequence shape, built for a task by `build_model(task, ...)`.

    N-vs-1, N-vs-N  SequenceModel   [Embedding] -> RNN/LSTM/GRU -> Linear, on the final
                                    state(s) (N-vs-1) or on every step (N-vs-N)
    1-vs-N          GeneratorModel  class -> initial state h_0 = tanh(E[class]); then an
                                    autoregressive RNN reads its previous token
    N-vs-M          Seq2SeqModel    encoder RNN (source optionally reversed, as Sutskever
                                    et al. 2014) -> its h_n starts a decoder RNN -> Linear

Every model returns logits or values shaped like the task's targets (with a class axis
last), so `task.score(prediction, batch)` applies directly. Sequence models unroll with
`rnn.unroll`, which keeps each step's state: truncated BPTT restarts from those.
"""

import numpy as np

from . import nn
from .autograd import no_grad
from .tensor import Tensor, concat, stack

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _make_rnn(cell, input_size, hidden, layers, bidirectional=False, nonlinearity="tanh"):
    if cell not in CELLS:
        raise ValueError(f"unknown cell '{cell}' (choose from {', '.join(CELLS)})")
    if cell == "rnn":
        return nn.RNN(
            input_size, hidden, layers, nonlinearity=nonlinearity, bidirectional=bidirectional
        )
    if nonlinearity != "tanh":
        raise ValueError(f"--nonlinearity applies to the plain rnn cell only, not {cell}")
    return CELLS[cell](input_size, hidden, layers, bidirectional=bidirectional)


def _top_outputs(run):
    """The top layer's h_t for every t, both directions joined: (T, B, D*H)."""
    top = run.states[-1]
    per_direction = [stack([s[0] for s in seq], axis=0) for seq in top]
    return per_direction[0] if len(top) == 1 else concat(per_direction, axis=-1)


class SequenceModel(nn.Module):
    """Read a sequence; predict at every step (N-vs-N) or once at the end (N-vs-1).

    N-vs-1 reads the final state of each direction of the top layer: h_{T-1} forward and,
    when bidirectional, h_0 of the reverse direction (the one that has read everything).
    """

    def __init__(self, task, cell, hidden, layers, bidirectional, nonlinearity, embed):
        super().__init__()
        self.per_step = task.per_step
        self.tokens = task.input == "tokens"
        if self.tokens:
            self.embedding = nn.Embedding(task.n_in, embed)
            size = embed
        else:
            size = task.n_in
        self.rnn = _make_rnn(cell, size, hidden, layers, bidirectional, nonlinearity)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), task.n_out)

    def inputs(self, x):
        if self.tokens:
            return self.embedding(x)
        # float32 models read float32 inputs, so no op mixes precisions
        return Tensor(np.asarray(x, dtype=self.head.weight.data.dtype))

    def forward(self, x, hx=None):
        """(prediction, run): prediction (T, B, n_out) or (B, n_out); run = rnn.unroll(...)."""
        run = self.rnn.unroll(self.inputs(x), hx)
        return self.readout(run), run

    def readout(self, run):
        if self.per_step:
            return self.head(_top_outputs(run))
        top = run.states[-1]
        finals = [top[0][-1][0]] + ([top[1][0][0]] if len(top) == 2 else [])
        return self.head(finals[0] if len(finals) == 1 else concat(finals, axis=-1))

    def predict(self, batch):
        with no_grad():
            return self(batch.x)[0].data


def state_after(run, t):
    """The state after step t of a unidirectional unroll, as the next unroll's `hx`:
    h (L, B, H) or the LSTM's (h, c), detached (plain arrays: truncation cuts here)."""
    per_layer = [layer[0][t] for layer in run.states]
    arrays = [np.stack([s[k].data for s in per_layer]) for k in range(len(per_layer[0]))]
    return tuple(Tensor(a) for a in arrays) if len(arrays) == 2 else Tensor(arrays[0])


class GeneratorModel(nn.Module):
    """1-vs-N: h_0 = tanh(E[class]) in every layer, then y_t from (h_{t-1}, y_{t-1})."""

    def __init__(self, task, cell, hidden, layers, nonlinearity, embed):
        super().__init__()
        self.cell, self.hidden, self.layers = cell, hidden, layers
        self.start = nn.Embedding(task.n_in, layers * hidden)
        self.embedding = nn.Embedding(task.n_out, embed)
        self.rnn = _make_rnn(cell, embed, hidden, layers, False, nonlinearity)
        self.head = nn.Linear(hidden, task.n_out)

    def initial_state(self, classes):
        batch = len(classes)
        h0 = self.start(np.asarray(classes)).tanh().reshape(batch, self.layers, self.hidden)
        h0 = h0.transpose(1, 0, 2)
        if self.cell == "lstm":
            return h0, Tensor(np.zeros(h0.shape, dtype=h0.data.dtype))
        return h0

    def forward(self, classes, y_in):
        output, _ = self.rnn(self.embedding(y_in), self.initial_state(classes))
        return self.head(output)

    def predict(self, batch):
        return self.generate(batch.x, batch.y.shape[0])

    def generate(self, classes, steps, temperature=0.0, rng=None):
        """Logits (steps, B, V) of a free-running decode (greedy, or sampled when
        temperature > 0), starting from token 0; each step reads the previous choice."""
        with no_grad():
            state = self.initial_state(classes)
            token = np.zeros(len(classes), dtype=np.int64)
            return _free_run(self, state, token, steps, temperature, rng)


def _free_run(model, state, token, steps, temperature, rng):
    logits = []
    for _ in range(steps):
        output, state = model.rnn(model.embedding(token[None, :]), state)
        step_logits = model.head(output[0]).data
        logits.append(step_logits)
        token = pick(step_logits, temperature, rng)
    return np.stack(logits)


def pick(logits, temperature=0.0, rng=None):
    """argmax (temperature 0) or a sample from softmax(logits / temperature), per row."""
    if temperature <= 0:
        return logits.argmax(axis=-1)
    z = logits / temperature
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    u = rng.random((p.shape[0], 1))
    # inverse CDF, vectorised over rows; min() guards against rounding past the last bin
    return np.minimum((p.cumsum(axis=-1) < u).sum(axis=-1), p.shape[-1] - 1)


class Seq2SeqModel(nn.Module):
    """N-vs-M encoder-decoder with teacher forcing and greedy decoding.

    With `reverse_source` the encoder reads x_{T-1} .. x_0, so the first target symbols
    sit next to their sources in time (Sutskever et al. 2014's trick).
    """

    def __init__(self, task, cell, hidden, layers, nonlinearity, embed, reverse_source):
        super().__init__()
        self.reverse_source = bool(reverse_source)
        self.src_embedding = nn.Embedding(task.n_in, embed)
        self.encoder = _make_rnn(cell, embed, hidden, layers, False, nonlinearity)
        self.embedding = nn.Embedding(task.n_out, embed)
        self.rnn = _make_rnn(cell, embed, hidden, layers, False, nonlinearity)
        self.head = nn.Linear(hidden, task.n_out)

    def encode(self, x):
        x = np.asarray(x)
        source = x[::-1] if self.reverse_source else x
        _, state = self.encoder(self.src_embedding(np.ascontiguousarray(source)))
        return state

    def forward(self, x, y_in):
        output, _ = self.rnn(self.embedding(y_in), self.encode(x))
        return self.head(output)

    def predict(self, batch):
        with no_grad():
            token = np.zeros(batch.x.shape[1], dtype=np.int64)
            return _free_run(self, self.encode(batch.x), token, batch.y.shape[0], 0.0, None)


def build_model(
    task,
    cell="lstm",
    hidden=32,
    layers=1,
    bidirectional=False,
    nonlinearity="tanh",
    embed=16,
    reverse_source=False,
):
    """The model for `task`'s shape (see the module docstring)."""
    if task.shape in ("N-vs-1", "N-vs-N"):
        return SequenceModel(task, cell, hidden, layers, bidirectional, nonlinearity, embed)
    if bidirectional:
        raise ValueError(
            f"task '{task.name}' decodes left to right: --bidirectional applies to "
            "the N-vs-1 and N-vs-N tasks"
        )
    if task.shape == "1-vs-N":
        return GeneratorModel(task, cell, hidden, layers, nonlinearity, embed)
    return Seq2SeqModel(task, cell, hidden, layers, nonlinearity, embed, reverse_source)
