"""The library's shape modules, built and driven for a task: `build_model(task, ...)`.

    N-vs-N  nn.SequenceTagger      a prediction at every step (tagging, sine, text)
    N-vs-1  nn.SequenceClassifier  one prediction from the final state(s) (adding, intent)
    1-vs-N  nn.SequenceGenerator   class (one-hot) -> initial state -> tokens (generate)
    N-vs-M  nn.Seq2Seq             encoder -> decoder, `reverse_source` (copy, reverse)

Every model's prediction is shaped like the task's targets (logits with the class axis
last, or values), so `task.score(prediction, batch)` applies directly. The readers
(tagger, classifier) remember the unroll of their last call: truncated BPTT restarts a
later chunk from the state of any step in it (`state_after`).
"""

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..tensor import Tensor


class _Remembering:
    """Mixin for the readers: keep the last `rnn.unroll` result (it holds every h_t)."""

    last_unrolled = None

    def unroll(self, x, hx=None):
        unrolled = super().unroll(x, hx)
        # not a module or parameter: set past Module.__setattr__, so nothing registers it
        object.__setattr__(self, "last_unrolled", unrolled)
        return unrolled

    def read(self, x, hx=None):
        """(prediction, unroll) for inputs x (floats cast to the model's dtype, or tokens)."""
        if self.vocab_size is None:
            x = Tensor(np.asarray(x, dtype=self.head.weight.data.dtype))
        prediction = self(x, hx)
        unrolled = self.last_unrolled
        object.__setattr__(self, "last_unrolled", None)  # don't keep the graph alive
        return prediction, unrolled

    def predict(self, batch):
        with no_grad():
            return self.read(batch.x)[0].data


class Tagger(_Remembering, nn.SequenceTagger):
    per_step = True


class Classifier(_Remembering, nn.SequenceClassifier):
    per_step = False


def state_after(unrolled, t):
    """The state after step t of a unidirectional unroll, as the next unroll's `hx`:
    h (L, B, H) or the LSTM's (h, c), detached (plain arrays: truncation cuts here)."""
    per_layer = [layer[0][t] for layer in unrolled.states]
    arrays = [np.stack([s[k].data for s in per_layer]) for k in range(len(per_layer[0]))]
    return tuple(Tensor(a) for a in arrays) if len(arrays) == 2 else Tensor(arrays[0])


class Generator(nn.SequenceGenerator):
    """1-vs-N on class ids: v = one-hot(class) conditions the initial state."""

    def one_hot(self, classes):
        return np.eye(self.input_size, dtype=self.decoder.head.weight.data.dtype)[classes]

    def forward(self, classes, tgt_in):
        return super().forward(self.one_hot(np.asarray(classes)), tgt_in)

    def predict(self, batch):
        return self.greedy(self.one_hot(batch.x), batch.y.shape[0], return_logits=True)[1]

    def sample(self, classes, steps, temperature=1.0, rng=None):
        """Tokens (steps, B) fed back one by one: argmax at temperature 0, else sampled."""
        v = self._vector(self.one_hot(np.asarray(classes)))
        token = np.full(len(classes), self.bos, dtype=np.int64)
        tokens = []
        with no_grad():
            states = self.initial_states(v)
            for t in range(steps):
                logits, states = self.decoder.step(token, states, t, self._extra(v))
                token = pick(logits.data, temperature, rng)
                tokens.append(token)
        return np.stack(tokens)


class Translator(nn.Seq2Seq):
    def predict(self, batch):
        return self.greedy(batch.x, batch.y.shape[0], return_logits=True)[1]


def pick(logits, temperature=0.0, rng=None):
    """argmax (temperature 0) or a sample from softmax(logits / temperature), per row."""
    if isinstance(temperature, bool) or not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
    if temperature <= 0:
        return logits.argmax(axis=-1)
    with np.errstate(over="ignore", invalid="ignore"):
        z = logits / temperature
    if not np.all(np.isfinite(z)):  # a temperature so small it overflows: the argmax
        return logits.argmax(axis=-1)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    u = rng.random((p.shape[0], 1))
    # inverse CDF, vectorised over rows; min() guards against rounding past the last bin
    return np.minimum((p.cumsum(axis=-1) < u).sum(axis=-1), p.shape[-1] - 1)


def continue_text(model, task, prime, length, temperature=1.0, rng=None):
    """Read `prime`, then sample `length` characters one at a time from a text model."""
    return "".join(stream_text(model, task, prime, length, temperature, rng))


def stream_text(model, task, prime, length, temperature=1.0, rng=None):
    """`continue_text` as a generator of characters: each is yielded as soon as it is
    sampled, so a long sample can be printed while it is made, in constant memory.
    Everything is checked when it is called, before the first character."""
    if model.rnn.bidirectional:
        raise ValueError("a bidirectional model reads the future: it cannot generate text")
    if not prime:
        raise ValueError("the prime is empty: give the model at least one character to read")
    pick(np.zeros((1, 1)), temperature, rng)  # checks the temperature
    return _stream(model, task, task.encode(prime), length, temperature, rng)


def _stream(model, task, ids, length, temperature, rng):
    with no_grad():
        logits, unrolled = model.read(ids[:, None])
        state = state_after(unrolled, -1)
        for _ in range(length):
            token = pick(logits.data[-1], temperature, rng)
            yield task.decode(token[:1])
            logits, unrolled = model.read(token[None, :], state)
            state = state_after(unrolled, -1)


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
    """The shape module for `task` (see the module docstring)."""
    options = dict(cell=cell, num_layers=layers, nonlinearity=nonlinearity)
    if task.shape in ("N-vs-1", "N-vs-N"):
        reader = Tagger if task.per_step else Classifier
        tokens = task.input == "tokens"
        return reader(
            embed if tokens else task.n_in,
            hidden,
            task.n_out,
            bidirectional=bidirectional,
            vocab_size=task.n_in if tokens else None,
            **options,
        )
    if bidirectional:
        raise ValueError(
            f"task '{task.name}' decodes left to right: --bidirectional applies to "
            "the N-vs-1 and N-vs-N tasks"
        )
    if task.shape == "1-vs-N":
        return Generator(task.n_in, hidden, task.n_out, embedding_dim=embed, **options)
    return Translator(
        task.n_in,
        task.n_out,
        hidden,
        embedding_dim=embed,
        reverse_source=reverse_source,
        **options,
    )
