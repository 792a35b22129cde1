"""The lecture's sequence shapes as small modules (N-vs-M is `Seq2Seq` in seq2seq.py).

    N-vs-N  SequenceTagger      o_t = V h_t + b at every step t           (tagging)
    N-vs-1  SequenceClassifier  o = V h_{T-1} + b from the last state     (classification)
                                bidirectional: o = V [h_{T-1} fwd, h_0 rev] + b, the final
                                state of each direction (each has read the whole sequence)
    1-vs-N  SequenceGenerator   a vector v starts (condition="state": s_init = tanh(W_c v + b_c))
                                or is fed at every step (condition="input": x_t = [y_t, v]) a
                                token decoder: s_t = cell(x_t, s_{t-1}), o_t = V s_t + b

Inputs are time-major `(T, B, input_size)` floats, or `(T, B)` token indices when
`vocab_size` is given (an Embedding of `input_size` then feeds the layer); `batch_first=True`
swaps T and B in inputs and outputs, as in the layers. The heads are applied step by step
inside `scope(t=t, layer=top, cell=..., role="output")` and labelled `o_t`, so the graph
shows one output per step next to the state it reads.
"""

import numpy as np

from ..autograd import no_grad, scope
from ..tensor import Tensor, concat, stack
from .linear import Embedding, Linear, linear
from .module import Module
from .seq2seq import Decoder, make_rnn, time_major_tokens, zero_states

__all__ = ["SequenceClassifier", "SequenceGenerator", "SequenceTagger"]


class _Reader(Module):
    """[Embedding] -> RNN/LSTM/GRU -> Linear head: what the tagger and the classifier share."""

    def __init__(
        self,
        input_size,
        hidden_size,
        num_classes,
        cell="lstm",
        num_layers=1,
        bidirectional=False,
        vocab_size=None,
        batch_first=False,
        nonlinearity="tanh",
    ):
        super().__init__()
        self.vocab_size, self.batch_first = vocab_size, batch_first
        if vocab_size is not None:
            self.embedding = Embedding(vocab_size, input_size)
        self.rnn = make_rnn(
            cell,
            input_size,
            hidden_size,
            num_layers,
            bidirectional,
            nonlinearity=nonlinearity,
            batch_first=batch_first,
        )
        directions = 2 if bidirectional else 1
        self.head = Linear(directions * hidden_size, num_classes)
        self.head.weight.label, self.head.bias.label = "V", "b_V"

    def unroll(self, x, hx=None):
        """The layer's `Unrolled` run (every state per layer, direction and step)."""
        name = type(self).__name__
        if self.vocab_size is not None:
            tokens = time_major_tokens(x, name, self.batch_first)  # checked, and made time-major
            # the layer itself handles batch_first: embed the tokens in the layout given
            x = self.embedding(tokens.T if self.batch_first else tokens)
        elif getattr(x, "ndim", np.ndim(x)) != 3:
            layout = "(batch, steps, features)" if self.batch_first else "(steps, batch, features)"
            raise ValueError(f"{name}: input must be {layout}, got shape {np.shape(x)}")
        return self.rnn.unroll(x, hx)

    def _output(self, h, label):
        return linear(h, self.head.weight, self.head.bias).named(label)


class SequenceTagger(_Reader):
    """N-vs-N: `SequenceTagger(input_size, hidden_size, num_classes, cell="lstm")`.

    forward(x (T, B, input_size) or tokens (T, B), hx=None) -> logits (T, B, num_classes).
    Options: num_layers, bidirectional, vocab_size (token input), batch_first, nonlinearity.
    A bidirectional tagger's reverse direction reads right padding first: mask padded
    positions in the loss, or left-pad.
    """

    def forward(self, x, hx=None):
        run = self.unroll(x, hx)
        top = run.states[-1]
        layer, cell = self.rnn.num_layers - 1, self.rnn.cell
        logits = []
        for t in range(len(top[0])):
            with scope(t=t, layer=layer, cell=cell, role="output"):
                h_t = top[0][t][0]
                if len(top) == 2:
                    h_t = concat([h_t, top[1][t][0]], axis=-1).named(
                        f"[{h_t.label}, {top[1][t][0].label}]"
                    )
                logits.append(self._output(h_t, f"o_{t}"))
        with scope(role="output"):
            return stack(logits, axis=1 if self.batch_first else 0).named("logits")


class SequenceClassifier(_Reader):
    """N-vs-1: `SequenceClassifier(input_size, hidden_size, num_classes, cell="lstm")`.

    forward(x (T, B, input_size) or tokens (T, B), hx=None) -> logits (B, num_classes),
    read from the top layer's final state(s). Variable lengths: left-pad, so the forward
    direction ends on a real token.
    """

    def forward(self, x, hx=None):
        run = self.unroll(x, hx)
        top = run.states[-1]
        steps = len(top[0])
        with scope(layer=self.rnn.num_layers - 1, cell=self.rnn.cell, role="output"):
            h = top[0][steps - 1][0]  # the forward direction's last state, h_{T-1}
            if len(top) == 2:  # the reverse direction ends at t = 0, after reading x_{T-1}..x_0
                h = concat([h, top[1][0][0]], axis=-1).named(f"[{h.label}, {top[1][0][0].label}]")
            return self._output(h, "o")


class SequenceGenerator(Module):
    """1-vs-N: `SequenceGenerator(input_size, hidden_size, vocab_size, cell="lstm")`.

    forward(v (B, input_size), tgt_in (T, B)) -> logits (T, B, vocab_size) with teacher
    forcing (tgt_in = the target shifted right, starting with `bos`);
    greedy(v, max_len) -> tokens (max_len, B) (and logits with return_logits=True).
    condition="state": s_init = tanh(v W_c^T + b_c) in every layer (an LSTM's c_init = 0);
    condition="input": s_init = 0 and v is appended to every step's input.
    To condition on a class k, pass v = one-hot(k) (input_size = number of classes).
    """

    CONDITIONS = ("state", "input")

    def __init__(
        self,
        input_size,
        hidden_size,
        vocab_size,
        cell="lstm",
        num_layers=1,
        condition="state",
        embedding_dim=None,
        bos=0,
        batch_first=False,
        nonlinearity="tanh",
    ):
        super().__init__()
        if condition not in self.CONDITIONS:
            raise ValueError(
                f"SequenceGenerator: unknown condition '{condition}' "
                f"(choose from {', '.join(self.CONDITIONS)})"
            )
        if not 0 <= bos < vocab_size:
            raise ValueError(f"SequenceGenerator: bos={bos} is not one of {vocab_size} tokens")
        self.input_size, self.condition = input_size, condition
        self.bos, self.batch_first = bos, batch_first
        if condition == "state":
            self.init = Linear(input_size, num_layers * hidden_size)
            self.init.weight.label, self.init.bias.label = "W_c", "b_c"
        extra = input_size if condition == "input" else 0
        self.decoder = Decoder(
            vocab_size, hidden_size, cell, num_layers, embedding_dim, extra, nonlinearity
        )

    def initial_states(self, v):
        """Per layer: tanh(v W_c^T + b_c) (split by layer), or zeros with condition="input"."""
        rnn = self.decoder.rnn
        states = zero_states(rnn, v.shape[0], v.data.dtype)
        if self.condition == "input":
            return states
        hidden = rnn.hidden_size
        with scope(role="condition", cell=rnn.cell):
            h_all = linear(v, self.init.weight, self.init.bias).tanh().named("tanh(v W_c^T)")
            for layer in range(rnn.num_layers):
                with scope(layer=layer):
                    h = h_all[:, layer * hidden : (layer + 1) * hidden].named("h_init")
                states[layer] = (h, states[layer][1]) if rnn.Cell.has_cell_state else h
        return states

    def _vector(self, v):
        if not isinstance(v, Tensor):
            dtype = self.decoder.head.weight.data.dtype
            v = Tensor(np.asarray(v, dtype=dtype), label="v")
        if v.ndim != 2 or v.shape[1] != self.input_size:
            raise ValueError(
                f"SequenceGenerator: v must be (batch, {self.input_size}), got shape {v.shape}"
            )
        return v

    def _extra(self, v):
        return v if self.condition == "input" else None

    def forward(self, v, tgt_in):
        v = self._vector(v)
        tgt_in = time_major_tokens(tgt_in, "SequenceGenerator tgt_in", self.batch_first)
        if tgt_in.shape[1] != v.shape[0]:
            raise ValueError(
                f"SequenceGenerator: v has batch {v.shape[0]}, tgt_in has batch {tgt_in.shape[1]}"
            )
        states = self.initial_states(v)
        axis = 1 if self.batch_first else 0
        return self.decoder(tgt_in, states, self._extra(v), role="generator", time_axis=axis)

    def greedy(self, v, max_len, return_logits=False):
        """Feed back the argmax from `bos`: tokens (max_len, B) int64 ((B, max_len) batch_first)."""
        v = self._vector(v)
        with no_grad():
            states = self.initial_states(v)
        tokens, logits = self.decoder.greedy(
            states, max_len, self.bos, v.shape[0], self._extra(v), role="generator"
        )
        if self.batch_first:
            tokens, logits = tokens.T, logits.transpose(1, 0, 2)
        return (tokens, logits) if return_logits else tokens
