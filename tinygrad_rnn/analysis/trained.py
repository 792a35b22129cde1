"""A trained model on one real input from its task, unrolled like the lecture's model.

    trained = load("echo.npz", sample=3)           # the 4th sequence of the task's test set
    trained = load("text.npz", input="hello")      # or an input of your own
    trained.loss.backward()                         # then draw it, tabulate it, step through it

`load` returns a `TrainedRun`, which has the attributes the lecture's `LectureRun` has
(`config`, `model` = the recurrent layer, `states[layer][direction][t]`, `outputs`,
`losses`, `loss`, `named_parameters()`), so `render`, `bptt` and `step` take either. Each
step's input is its own node, labelled with the token it reads (`x_3 'h'`, `x_3 7`,
`x_3 time`), so pictures show the input under its step.

The loss is the training objective on this one sequence: E_t = cross_entropy(o_t, y_t) or
mean((o_t - y_t)^2) at each step (one E for an N-vs-1 task), E = the sum over the steps
that have a target. A typed input has targets where the task defines them from the input
(text: the next character; echo, copy, reverse: the rule); intent and tagging inputs have
no known answer, so their target is the model's own prediction (E then says how sure the
model is of it).
"""

import numpy as np

from ..autograd import no_grad, scope, topo_order
from ..nn import functional as F
from ..nn.recurrent import layer_class
from ..nn.shapes import SequenceGenerator
from ..tasks.models import Classifier, Generator, Tagger
from ..tensor import Tensor, stack
from ..train import Run, seed_sequence

__all__ = ["TrainedRun", "choose_sequence", "load", "token_labels", "unroll_task"]


class TrainedRun:
    """A task model's graph on a batch of one sequence (see the module docstring).

    `inputs[k]`: the node of input step k (the embedded vector for tokens); `labels[k]`:
    its token as text; `states`: None for encoder-decoder and generator models, whose
    recurrent stacks are stepped by hand (bptt needs one layer stack).
    """

    def __init__(self, run, config, inputs, labels, states, outputs, losses, loss, rnn):
        self.run, self.config, self.task = run, config, run.task
        self.inputs, self.labels = inputs, labels
        self.states, self.outputs, self.losses, self.loss = states, outputs, losses, loss
        self.model = rnn  # the nn.RNN/LSTM/GRU, as in LectureRun
        self.batch = None  # the Batch it read (set by `load`)
        # the layer's whole input (T, B, input_size), as LectureRun's x: the stacked x_k
        self.x = None

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_parameters(self):
        """The recurrent layer's parameters by their own names (weight_hh_l0, as bptt's short
        names expect), every other parameter with its module path (head.weight)."""
        named = list(self.run.model.named_parameters())
        prefix = next((n.rsplit(".", 1)[0] + "." for n, _ in named if "weight_hh_l0" in n), "")
        if self.states is None or not prefix:
            return named
        return [(n[len(prefix) :] if n.startswith(prefix) else n, p) for n, p in named]

    def hidden_states(self, layer=-1, direction=0):
        return [s[0] for s in self.states[layer][direction]]

    def cell_states(self, layer=-1, direction=0):
        if not layer_class(self.config["cell"]).Cell.has_cell_state:
            raise ValueError(f"cell_states: a {self.config['cell']} has no cell state c_t")
        return [s[1] for s in self.states[layer][direction]]

    def require_states(self, what):
        """Raise a clear error when `what` needs one recurrent layer stack and this is not one."""
        if self.states is None:
            raise ValueError(
                f"{what} reads one recurrent layer stack; a model of the '{self.task.name}' task "
                f"({self.task.shape}) steps its recurrent layers by hand: use render or step"
            )

    def title(self):
        c = self.config
        cell = layer_class(c["cell"]).title(c["activation"])
        text = " ".join(self.labels)
        if len(text) > 60:
            text = text[:57] + "..."
        return (
            f"trained {c['task']} {cell}, hidden {c['hidden']}, step {c['trained_steps']} "
            f"of {c['checkpoint']}, on {c['source']}: {text}; loss {self.loss.label}"
        )


def load(path, input=None, sample=None, run=None):
    """The checkpoint at `path` (or an already loaded `run`) on one sequence: a `TrainedRun`."""
    run = Run.resume(path) if run is None else run
    task, model = run.task, run.model
    batch, labels = choose_sequence(run, input=input, sample=sample)
    if batch.y is None:
        # no known answer (intent, tagging): the model's own prediction is the target
        with no_grad():
            prediction = unroll_task(model, task, batch, labels, with_loss=False).outputs
        logits = np.stack([o.data for o in prediction])
        batch.y = logits.argmax(axis=-1) if task.per_step else logits[0].argmax(axis=-1)
    trained = unroll_task(model, task, batch, labels)
    trained.batch = batch
    config = dict(trained.config)
    config.update(
        {
            "task": task.name,
            "checkpoint": str(path),
            "trained_steps": run.step,
            "source": f"test sequence {sample or 0}" if input is None else "input",
            "seed": run.config["seed"],
        }
    )
    trained.config = config
    trained.run = run
    return trained


# ----- which sequence ---------------------------------------------------------------------


def choose_sequence(run, input=None, sample=None):
    """(Batch of one sequence, its input tokens as text): `input` typed by the user, or the
    `sample`-th sequence of the task's seeded test set (the batch `Run.evaluate` scores)."""
    from ..tasks.base import Batch

    task = run.task
    if input is not None and sample is not None:
        raise ValueError("give --input or --sample, not both")
    if input is None:
        size = run.config["eval_batch"]
        sample = 0 if sample is None else sample
        if not isinstance(sample, (int, np.integer)) or not 0 <= sample < size:
            raise ValueError(f"--sample must be in 0..{size - 1} (the test set), got {sample!r}")
        full = task.batch(size, seed_sequence(run.config["seed"], -1))
        pick = slice(sample, sample + 1)
        timed = (slice(None), pick)
        x = full.x[pick] if task.input == "class" else full.x[timed]
        y = full.y[timed] if task.per_step else full.y[pick]
        mask = None if full.mask is None else full.mask[timed]
        y_in = None if full.y_in is None else full.y_in[timed]
        return Batch(x, y, mask, y_in), token_labels(task, x)
    if not isinstance(input, str) or not input.strip():
        raise ValueError("--input is empty")
    x, y, mask, y_in = _parse_input(task, input)
    return Batch(x, y, mask, y_in), token_labels(task, x)


def _symbols(task, text):
    """'3 1 4' or '3,1,4' -> symbol ids 1..n_symbols, or an error naming the bad ones."""
    parts = text.replace(",", " ").split()
    bad = [p for p in parts if not p.isdigit() or not 1 <= int(p) <= task.n_symbols]
    if bad:
        raise ValueError(
            f"--input: unknown tokens {bad} for '{task.name}' (symbols are 1..{task.n_symbols}, "
            "separated by spaces)"
        )
    return np.array([int(p) for p in parts], dtype=np.int64)


def _parse_input(task, text):
    """(x, y, mask, y_in) of a typed input, batch axis of size 1 (y None: no known answer)."""
    name = task.name
    if name == "text":
        try:
            ids = task.encode(text)
        except ValueError as exc:
            raise ValueError(f"--input: {exc}") from None
        if ids.size < 2:
            raise ValueError("--input: a text model needs at least 2 characters (reads all but "
                             "the last, predicts each next one)")  # fmt: skip
        return ids[:-1, None], ids[1:, None], None, None
    if name == "echo":
        x = _symbols(task, text)
        if x.size <= task.delay:
            raise ValueError(f"--input: echo repeats after {task.delay} steps: give more tokens")
        y = np.zeros_like(x)
        y[task.delay :] = x[: -task.delay]
        mask = np.arange(x.size) >= task.delay
        return x[:, None], y[:, None], mask[:, None], None
    if name in ("copy", "reverse"):
        x = _symbols(task, text)
        y = x[::-1].copy() if name == "reverse" else x.copy()
        y_in = np.concatenate([[0], y[:-1]])
        return x[:, None], y[:, None], None, y_in[:, None]
    if name == "intent":
        try:
            x = task.encode(text)
        except ValueError as exc:
            raise ValueError(f"--input: {exc}") from None
        return x[:, None], None, None, None
    if name == "tagging":
        index = {w: k for k, w in enumerate(task.vocab)}
        words = text.lower().split()
        unknown = [w for w in words if w not in index or w == task.vocab[0]]
        if unknown:
            raise ValueError(
                f"--input: unknown words {unknown}; the vocabulary is {task.vocab[1:]}"
            )
        x = np.array([index[w] for w in words], dtype=np.int64)
        return x[:, None], None, np.ones((x.size, 1), dtype=bool), None
    if name == "generate":
        word = text.strip()
        if word not in task.words:
            raise ValueError(f"--input: unknown class {word!r} (classes: {', '.join(task.words)})")
        k = task.words.index(word)
        y = task.table[k][:, None]
        y_in = np.concatenate([[0], task.table[k][:-1]])[:, None]
        return np.array([k]), y, task.table_mask[k][:, None], y_in
    raise ValueError(
        "--input takes tokens or text; "
        f"a model of the '{name}' task reads numbers: choose one of its "
        "test sequences with --sample N"
    )


def token_labels(task, x):
    """The input of each step as short text: 'h' for characters, words, symbol ids, numbers
    (the adding problem's value, starred where the marker is set: 0.42*)."""
    if task.input == "class":
        return [task.words[int(k)] if hasattr(task, "words") else str(int(k)) for k in x]
    x = np.asarray(x)[:, 0]
    if task.name in ("adding", "adding1997"):
        return [f"{value:.2f}" + ("*" if marker else "") for value, marker in x]  # * marked
    if task.input == "float":
        return [", ".join(f"{v:.2f}".rstrip("0").rstrip(".") for v in row) for row in x]
    vocab = getattr(task, "vocab", None)
    if vocab is None:
        return [str(int(k)) for k in x]
    if task.name == "text":
        names = {" ": "' '", "\n": "'\\n'", "\t": "'\\t'"}
        return [names.get(vocab[k], f"'{vocab[k]}'") for k in x]
    return [vocab[k] for k in x]


# ----- the graph ---------------------------------------------------------------------------


def unroll_task(model, task, batch, labels, with_loss=True):
    """Run a task model on `batch` (any batch size), every step's input its own node.

    Readers (tagger, classifier) embed each step's tokens in `scope(t=t)` and unroll their
    layer on the stacked inputs, so `inputs[k]` is x_k exactly as the layer reads it.
    Encoder-decoders and generators build their own steps; their input nodes are found by
    label and renamed with their tokens.
    """
    stacked = None
    if isinstance(model, (Tagger, Classifier)):
        inputs, states, outputs, rnn, stacked = _read(model, task, batch.x, labels)
    else:
        inputs, states, outputs, rnn = _decode(model, task, batch, labels)
    losses, loss = _losses(task, outputs, batch) if with_loss else ([], None)
    layers = len(states) if states is not None else rnn.num_layers
    config = {
        "cell": rnn.cell,
        "steps": len(outputs) if task.per_step else len(inputs),
        "hidden": rnn.hidden_size,
        "input_size": rnn.input_size,
        "layers": layers,
        "bidirectional": rnn.num_directions == 2,
        "activation": rnn.nonlinearity,
        "radius": None,
        "init": None,
        "loss": "all" if task.per_step and len(losses) > 1 else "last",
        "batch": np.shape(batch.x)[1] if task.input != "class" else len(batch.x),
    }
    trained = TrainedRun(
        _Bare(task, model), config, inputs, labels, states, outputs, losses, loss, rnn
    )
    trained.x = stacked
    return trained


class _Bare:
    """Stands in for a `Run` until `load` attaches the real one."""

    def __init__(self, task, model):
        self.task, self.model, self.step = task, model, 0


def _read(model, task, x, labels):
    dtype = model.head.weight.data.dtype
    inputs = []
    for t in range(len(x)):
        with scope(t=t, layer=0, role="input"):
            if model.vocab_size is not None:
                node = model.embedding(np.asarray(x[t]))
            else:
                node = Tensor(np.asarray(x[t], dtype=dtype), requires_grad=True)
            inputs.append(node.named(f"x_{t} {labels[t]}"))
    with scope(role="input"):
        X = stack(inputs, axis=0).named("x")
    unrolled = model.rnn.unroll(X)
    top, layer, cell = unrolled.states[-1], model.rnn.num_layers - 1, model.rnn.cell
    outputs = []
    if isinstance(model, Tagger):
        for t in range(len(x)):
            with scope(t=t, layer=layer, cell=cell, role="output"):
                h_t = top[0][t][0]
                if len(top) == 2:
                    h_t = _joined([h_t, top[1][t][0]], f"[{h_t.label}, {top[1][t][0].label}]")
                outputs.append(model._output(h_t, f"o_{t}"))
    else:
        with scope(layer=layer, cell=cell, role="output"):
            h = top[0][len(x) - 1][0]
            if len(top) == 2:
                h = _joined([h, top[1][0][0]], f"[{h.label}, {top[1][0][0].label}]")
            outputs.append(model._output(h, "o"))
    return inputs, unrolled.states, outputs, model.rnn, X


def _joined(parts, label):
    from ..tensor import concat

    return concat(parts, axis=-1).named(label)


def _decode(model, task, batch, labels):
    """Encoder-decoder (copy, reverse) or generator (generate): teacher forcing on y_in."""
    if isinstance(model, Generator):
        # the class as a one-hot leaf that requires grad, so it is drawn and differentiable
        v = Tensor(model.one_hot(np.asarray(batch.x)), requires_grad=True, label=f"v {labels[0]}")
        logits = SequenceGenerator.forward(model, v, batch.y_in)
        return [v], None, list(logits.inputs), model.decoder.rnn
    logits = model(batch.x, batch.y_in)
    outputs = list(logits.inputs)  # the stack of o_0 .. o_{T-1}
    order = topo_order([logits])
    found = {}
    for node in order:
        t = node.tags.get("t")
        if node.tags.get("role") == "encoder" and node.label == f"x_{t}":
            found[t] = node
    inputs = [found[t] for t in range(len(labels))]
    for t, node in enumerate(inputs):
        node.named(f"x_{t} {labels[t]}")
    return inputs, None, outputs, model.encoder.rnn


def _losses(task, outputs, batch):
    """E_t per output (E for N-vs-1) and their sum over the steps that have a target."""
    losses = []
    for t, o_t in enumerate(outputs):
        y_t = batch.y[t] if task.per_step else batch.y
        with scope(t=t, role="output") if task.per_step else scope(role="output"):
            if task.output == "float":
                target = Tensor(np.asarray(y_t, dtype=o_t.data.dtype), label=f"y_{t}")
                e_t = F.mse_loss(o_t, target)
            else:
                e_t = F.cross_entropy(o_t, np.asarray(y_t))
        losses.append(e_t.named(f"E_{t}" if task.per_step else "E"))
    counted = [
        e for t, e in enumerate(losses) if batch.mask is None or np.asarray(batch.mask)[t].any()
    ]
    if len(counted) == 1:
        return losses, counted[0]
    with scope(role="loss"):
        root = counted[0]
        for e_t in counted[1:]:
            root = root + e_t
    return losses, root.named("E")
