"""N-vs-M: an encoder-decoder over tokens (Sutskever, Vinyals & Le 2014), built step by step.

    encoder   h_t = cell(x_t, h_{t-1}),  x_t = emb_src(src_t)        t = 0 .. S-1, h_init = 0
    decoder   s_init = h_{S-1}                          (every layer's h, and c for an LSTM)
              s_t = cell(y_t, s_{t-1}),  y_t = emb_tgt(tgt_in_t)    t = 0 .. T-1
              o_t = s_t V^T + b_V                       logits for the target token at t

Teacher forcing (`forward`): the decoder reads the true previous tokens, `tgt_in` = the
target shifted right by one, starting with `bos`; train with cross_entropy(o_t, tgt_t).
Greedy decoding (`greedy`): the decoder reads its own previous argmax instead, from `bos`.

`reverse_source=True` feeds the encoder the source reversed (Sutskever's trick: the first
target words then sit a few steps from their source words, short dependencies that
training can start from). It reverses exactly the source tokens: with `pad` set, each
column's non-pad tokens are reversed in the positions they occupy, so right padding stays
at the end and `[a b c PAD]` is read as `[c b a PAD]`.

Padding: with `pad` set, a source step whose token is `pad` leaves that row's state as it
was (`h_t = where(keep_t, cell(...), h_{t-1})`), so the decoder starts from the state after
each row's last real token, whatever the padding. Target-side padding is the loss's
business: mask those positions when summing cross_entropy.

Every step is built inside `scope(t=t, layer=l, direction="forward", cell=..., role=...)`
with role "encoder" or "decoder", and labelled like the equations (`x_t`, `x_t W_ih^T`,
gates, `c_t`, `h_t`, `o_t`). The recurrent parameters live in ordinary `nn.RNN/LSTM/GRU`
modules with PyTorch's names (`encoder.rnn.weight_ih_l0`); they are stepped one time step
at a time here because a decoder reads its own outputs, one step after another.

Tokens are time-major `(S, B)` like the layers and `tinygrad_rnn.tasks` (with
`batch_first=True`, `(B, S)` in and `(B, T, V)` out).
"""

import numpy as np

from .. import modes
from ..autograd import no_grad, scope
from ..tensor import Tensor, concat, stack, where
from .linear import Embedding, Linear, linear
from .module import Module
from .recurrent import layer_class

__all__ = [
    "Decoder",
    "Encoder",
    "Seq2Seq",
    "make_rnn",
    "reverse_tokens",
    "stacked_step",
    "time_major_tokens",
    "zero_states",
]


def make_rnn(cell, input_size, hidden_size, num_layers=1, bidirectional=False, **options):
    """nn.RNN / nn.LSTM / nn.GRU by its cell's name; `nonlinearity` applies to the simple
    RNN only (the one cell whose activation is an option)."""
    Layer = layer_class(cell)
    nonlinearity = options.pop("nonlinearity", "tanh")
    if Layer.Cell.has_nonlinearity:
        options["nonlinearity"] = nonlinearity
    elif nonlinearity != "tanh":
        raise ValueError(f"nonlinearity applies to the plain rnn cell only, not to {cell}")
    return Layer(
        input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, **options
    )


def zero_states(rnn, batch, dtype=np.float64):
    """One zero state per layer: h (B, H), or (h, c) for an LSTM, labelled h_init / c_init."""
    states = []
    for layer in range(rnn.num_layers):
        sup = f"^({layer})" if rnn.num_layers > 1 else ""
        h = Tensor(np.zeros((batch, rnn.hidden_size), dtype=dtype), label=f"h_init{sup}")
        if rnn.Cell.has_cell_state:
            c = Tensor(np.zeros((batch, rnn.hidden_size), dtype=dtype), label=f"c_init{sup}")
            states.append((h, c))
        else:
            states.append(h)
    return states


def stacked_step(rnn, x, states, t, keep=None):
    """One time step through every layer of the unidirectional `rnn`; returns the new states.

    `states[l]` is h, or (h, c) for an LSTM, of layer l; layer l + 1 reads layer l's new h.
    `keep` (B, 1) booleans: a row where it is False keeps its previous state (a pad token).
    Call it inside `scope(t=t, ...)`: each layer adds its own `layer` tag.
    """
    Cell = rnn.Cell
    decoder = modes.state.tags.get("role") == "decoder"
    new_states = []
    for layer, state in enumerate(states):
        w_ih, w_hh, b_ih, b_hh = rnn.layer_parameters(layer, 0)
        # unique labels in one picture: the layer when there are several, "dec" for the
        # decoder's states (the encoder's h_2 and the decoder's h_2^(dec) are different)
        marks = ([str(layer)] if len(states) > 1 else []) + (["dec"] if decoder else [])
        suffix = f"_{t}" + (f"^({','.join(marks)})" if marks else "")
        with scope(layer=layer):
            reads = x.label if isinstance(x, Tensor) and x.label else f"x_{t}"
            xw = linear(x, w_ih, b_ih).named(f"{reads} W_ih^T")
            old = state if Cell.has_cell_state else (state,)
            new = Cell.step(xw, old, w_hh, b_hh, suffix, **rnn.step_options(layer, 0))
            if keep is not None:
                new = tuple(
                    _carry(n, o, keep, f"{name}{suffix}")
                    for n, o, name in zip(new, old, Cell.state_names)
                )
        new_states.append(new if Cell.has_cell_state else new[0])
        x = new[0]
    return new_states


def _carry(new, old, keep, label):
    """where(keep, new, old): the state after a pad step is the state before it."""
    new.named(f"{label} (unmasked)")
    return where(keep, new, old).named(label)


def _top_h(states):
    top = states[-1]
    return top[0] if isinstance(top, tuple) else top


def time_major_tokens(tokens, what, batch_first=False):
    """A (T, B) integer array (time-major) from an array, list or Tensor."""
    array = np.asarray(tokens.data if isinstance(tokens, Tensor) else tokens)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{what}: tokens must be integers, got dtype {array.dtype}")
    if array.ndim != 2 or 0 in array.shape:
        layout = "(batch, steps)" if batch_first else "(steps, batch)"
        raise ValueError(
            f"{what}: tokens must be a non-empty {layout} array, got shape {array.shape}"
        )
    return array.T if batch_first else array


def reverse_tokens(tokens, pad=None):
    """Each column (a sequence) of the (T, B) `tokens` reversed in time.

    With `pad`, only the non-pad tokens are reversed, within the positions they occupy:
    `[a b c PAD]` becomes `[c b a PAD]` and `[PAD a b]` becomes `[PAD b a]`.
    """
    tokens = np.asarray(tokens)
    if pad is None:
        return tokens[::-1].copy()
    out = tokens.copy()
    for b in range(tokens.shape[1]):
        positions = np.flatnonzero(tokens[:, b] != pad)
        out[positions, b] = tokens[positions[::-1], b]
    return out


class Encoder(Module):
    """Embedding + unidirectional recurrent stack; `forward(src)` returns the final states."""

    def __init__(
        self,
        vocab_size,
        hidden_size,
        cell="lstm",
        num_layers=1,
        embedding_dim=None,
        nonlinearity="tanh",
    ):
        super().__init__()
        embedding_dim = embedding_dim or hidden_size
        self.embedding = Embedding(vocab_size, embedding_dim)
        self.rnn = make_rnn(cell, embedding_dim, hidden_size, num_layers, nonlinearity=nonlinearity)

    def forward(self, src, pad=None, role="encoder"):
        """Read the (S, B) tokens; return the state after each row's last real token, per layer."""
        src = time_major_tokens(src, "Encoder")
        states = zero_states(self.rnn, src.shape[1], self.embedding.weight.data.dtype)
        for t in range(src.shape[0]):
            keep = None
            if pad is not None:
                is_token = src[t] != pad
                keep = None if is_token.all() else is_token[:, None]
            with scope(t=t, direction="forward", cell=self.rnn.cell, role=role):
                with scope(layer=0):
                    x = self.embedding(src[t]).named(f"x_{t}")
                states = stacked_step(self.rnn, x, states, t, keep)
        return states


class Decoder(Module):
    """Embedding + recurrent stack + linear head: s_t = cell([y_t, v], s_{t-1}), o_t = s_t V^T + b.

    `extra_size` > 0 appends a fixed vector v (B, extra_size) to every step's input (the
    1-vs-N generator's "repeated input").
    """

    def __init__(
        self,
        vocab_size,
        hidden_size,
        cell="lstm",
        num_layers=1,
        embedding_dim=None,
        extra_size=0,
        nonlinearity="tanh",
    ):
        super().__init__()
        embedding_dim = embedding_dim or hidden_size
        self.vocab_size = vocab_size
        self.embedding = Embedding(vocab_size, embedding_dim)
        self.rnn = make_rnn(
            cell, embedding_dim + extra_size, hidden_size, num_layers, nonlinearity=nonlinearity
        )
        self.head = Linear(hidden_size, vocab_size)
        self.head.weight.label, self.head.bias.label = "V", "b_V"

    def step(self, tokens, states, t, extra=None, role="decoder"):
        """Read the (B,) tokens at step t: returns (logits o_t (B, V), new states)."""
        top = self.rnn.num_layers - 1
        with scope(t=t, direction="forward", cell=self.rnn.cell, role=role):
            with scope(layer=0):
                x = self.embedding(tokens).named(f"y_{t}")
                if extra is not None:
                    x = concat([x, extra], axis=-1).named(f"[y_{t}, v]")
            states = stacked_step(self.rnn, x, states, t)
            with scope(layer=top):
                logits = linear(_top_h(states), self.head.weight, self.head.bias).named(f"o_{t}")
        return logits, states

    def forward(self, tgt_in, states, extra=None, role="decoder", time_axis=0):
        """Teacher forcing over the (T, B) tokens `tgt_in`: logits stacked on `time_axis`."""
        logits = []
        for t in range(tgt_in.shape[0]):
            o_t, states = self.step(tgt_in[t], states, t, extra, role)
            logits.append(o_t)
        with scope(role=role):
            return stack(logits, axis=time_axis).named("logits")

    def greedy(self, states, max_len, bos, batch, extra=None, role="decoder"):
        """Feed back the argmax from `bos` for `max_len` steps: tokens (T, B), logits (T, B, V)."""
        if not isinstance(max_len, (int, np.integer)) or max_len < 1:
            raise ValueError(f"greedy: max_len must be a positive integer, got {max_len!r}")
        token = np.full(batch, bos, dtype=np.int64)
        tokens, logits = [], []
        with no_grad():
            for t in range(max_len):
                o_t, states = self.step(token, states, t, extra, role)
                token = o_t.data.argmax(axis=-1)
                tokens.append(token)
                logits.append(o_t.data)
        return np.stack(tokens), np.stack(logits)


class Seq2Seq(Module):
    """N-vs-M encoder-decoder: `Seq2Seq(src_vocab, tgt_vocab, hidden_size, cell="lstm")`.

    forward(src (S, B), tgt_in (T, B)) -> logits (T, B, tgt_vocab), teacher forcing;
    greedy(src, max_len) -> tokens (max_len, B) (and logits with return_logits=True).
    Options: num_layers, embedding_dim (default hidden_size), reverse_source, bos (the
    token the decoder starts from), pad (source padding token), batch_first, nonlinearity.
    Parameters: encoder.embedding.weight, encoder.rnn.*, decoder.embedding.weight,
    decoder.rnn.*, decoder.head.weight/bias (V, b_V).
    """

    def __init__(
        self,
        src_vocab,
        tgt_vocab,
        hidden_size,
        cell="lstm",
        num_layers=1,
        embedding_dim=None,
        reverse_source=False,
        bos=0,
        pad=None,
        batch_first=False,
        nonlinearity="tanh",
    ):
        super().__init__()
        if not 0 <= bos < tgt_vocab:
            raise ValueError(
                f"Seq2Seq: bos={bos} is not a token of the {tgt_vocab}-token target vocabulary"
            )
        self.reverse_source = bool(reverse_source)
        self.bos, self.pad, self.batch_first = bos, pad, batch_first
        self.encoder = Encoder(
            src_vocab, hidden_size, cell, num_layers, embedding_dim, nonlinearity
        )
        self.decoder = Decoder(
            tgt_vocab, hidden_size, cell, num_layers, embedding_dim, 0, nonlinearity
        )
        # encoder and decoder have the same parameter names: label each with its path
        # (encoder.rnn.weight_hh_l0), so no two tensors in a picture share a label
        for name, param in self.named_parameters():
            param.label = name

    def source(self, src):
        """The (S, B) tokens the encoder reads: `src` itself, or reversed (see reverse_tokens)."""
        src = time_major_tokens(src, "Seq2Seq source", self.batch_first)
        return reverse_tokens(src, self.pad) if self.reverse_source else src

    def encode(self, src):
        """The encoder's final state per layer (the decoder's initial state)."""
        return self.encoder(self.source(src), pad=self.pad)

    def forward(self, src, tgt_in):
        """Teacher forcing: logits (T, B, V) ((B, T, V) with batch_first)."""
        tgt_in = time_major_tokens(tgt_in, "Seq2Seq tgt_in", self.batch_first)
        states = self.encode(src)
        if tgt_in.shape[1] != _top_h(states).shape[0]:
            raise ValueError(
                f"Seq2Seq: source batch {_top_h(states).shape[0]} != target batch {tgt_in.shape[1]}"
            )
        return self.decoder(tgt_in, states, time_axis=1 if self.batch_first else 0)

    def greedy(self, src, max_len, return_logits=False):
        """Greedy decoding from `bos`: tokens (max_len, B) int64 ((B, max_len) with batch_first).

        No graph is built. Cut each row at your end-of-sequence token yourself.
        """
        with no_grad():
            states = self.encode(src)
        batch = _top_h(states).shape[0]
        tokens, logits = self.decoder.greedy(states, max_len, self.bos, batch)
        if self.batch_first:
            tokens, logits = tokens.T, logits.transpose(1, 0, 2)
        return (tokens, logits) if return_logits else tokens
