"""Limits before work: how big an unrolled graph will be, predicted from its options alone.

A command that would build a graph too large to hold (or to finish in reasonable time) says so
at once, with the numbers, instead of running out of memory minutes later.

The lecture model's node count is exactly bilinear in the number of steps T and layers L,

    nodes(T, L) = a + b T + c L + d T L

(each step of each layer adds the same ops; the head and loss add the same per step), so four
tiny builds (T, L in {1, 2}, hidden size 1) give a, b, c, d exactly. Memory is bounded from
above: every parameter's data and gradient, plus for every node at most batch x G x H
elements (G gates; the widest array a step makes) in data and gradient, in float64, and the
node's own Python objects.
"""

import os

from .nn.recurrent import layer_class

MAX_GRAPH_NODES = 400_000  # about half a minute to build and backpropagate on one core
MAX_VISITS = 600_000  # nodes x walks of an analysis (bptt: one walk per Jacobian row)
MEMORY_ENV = "TINYGRAD_RNN_MAX_MEMORY"  # bytes; default half of the physical memory
NODE_BYTES = 1000  # a node's Python objects (tensor, op, array headers), measured ~700


class TooLarge(ValueError):
    """A graph or a run that would exceed a limit; the message has the numbers and a way out."""


class Estimate:
    """Predicted `nodes` of the graph, `bytes` it needs at most, and `params` (elements)."""

    def __init__(self, nodes, bytes, params):
        self.nodes, self.bytes, self.params = int(nodes), int(bytes), int(params)

    def __repr__(self):
        return f"Estimate(nodes={self.nodes}, bytes={self.bytes}, params={self.params})"


def size_text(n):
    """A byte count for people: '512 B', '3.2 MB', '9.6 GB'."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000


def memory_limit():
    """The most memory a command may plan to use: $TINYGRAD_RNN_MAX_MEMORY bytes, else half of
    the physical memory (4 GB when that cannot be read)."""
    text = os.environ.get(MEMORY_ENV)
    if text:
        try:
            return int(float(text))
        except ValueError:
            raise ValueError(f"{MEMORY_ENV} must be a number of bytes, got {text!r}") from None
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, ValueError, OSError):
        return 4 * 10**9


def recurrent_params(cell, hidden, input_size, layers, bidirectional, proj=None):
    """Elements in an RNN/LSTM/GRU stack's weights and biases (PyTorch's shapes)."""
    g, dirs = layer_class(cell).Cell.gates, 2 if bidirectional else 1
    # layer 0 reads input_size features, each later one dirs * hidden: in closed form, so
    # that a huge --layers is refused at once rather than counted layer by layer
    first = dirs * g * hidden * (input_size + hidden + 2)
    rest = dirs * g * hidden * (dirs * hidden + hidden + 2)
    return first + (layers - 1) * rest if layers > 0 else 0


def lecture_size(
    cell="rnn",
    steps=4,
    hidden=3,
    input_size=2,
    layers=1,
    bidirectional=False,
    loss="last",
    batch=1,
    output_size=1,
):
    """The Estimate of `lecture.build(...)` with these options, without building it."""
    from .lecture import build, check_options

    loss = "all" if loss == "all" else "last"  # a single step's loss E_t draws no more
    check_options(cell, steps, hidden, input_size, layers, "tanh", None, "orthogonal", loss)
    from .autograd import topo_order

    count = {}
    for t in (1, 2):
        for n_layers in (1, 2):
            run = build(
                cell, steps=t, hidden=1, input_size=1, layers=n_layers,
                bidirectional=bidirectional, loss=loss,
            )  # fmt: skip
            count[t, n_layers] = len(topo_order([run.loss]))
    d = count[2, 2] - count[1, 2] - count[2, 1] + count[1, 1]
    b = count[2, 1] - count[1, 1] - d
    c = count[1, 2] - count[1, 1] - d
    a = count[1, 1] - b - c - d
    nodes = a + b * steps + c * layers + d * steps * layers
    dirs = 2 if bidirectional else 1
    params = recurrent_params(cell, hidden, input_size, layers, bidirectional)
    params += dirs * hidden * output_size + output_size
    gates = layer_class(cell).Cell.gates
    widest = batch * max(gates, 2) * hidden * dirs
    elements = params + nodes * widest + steps * batch * (input_size + gates * hidden)
    return Estimate(nodes, 16 * elements + NODE_BYTES * nodes, params)


def train_size(config, length):
    """An upper bound on one training step's (or the evaluation's) memory for a train config,
    with the predicted node count of one batch's graph (`train_nodes`) when it may be large."""
    cell, hidden, layers = config["cell"], config["hidden"], config["layers"]
    dirs = 2 if config["bidirectional"] else 1
    width = max(config["embed"], 16)
    params = recurrent_params(cell, hidden, width, layers, config["bidirectional"])
    params += 2 * dirs * hidden * 256  # the head (and a decoder's), up to 256 classes
    # one batch's graph: ops per step and layer (an LSTM has 16), at most k2 steps truncated
    steps = length if config.get("k1") is None else min(length, config["k2"])
    nodes = 20 * steps * layers * dirs
    predicted = nodes
    if 4 * nodes > MAX_GRAPH_NODES:  # near the limit: build the small models that say exactly
        predicted = train_nodes(config, length)
        nodes = max(nodes, predicted)
    width = layer_class(cell).Cell.gates * hidden * dirs
    # the training batch's graph, kept for backward; evaluation runs without a graph, holding
    # a few arrays per step
    elements = params + nodes * config["batch"] * width + 2 * length * config["eval_batch"] * width
    return Estimate(predicted, 16 * elements + NODE_BYTES * nodes, params)


def train_nodes(config, length):
    """The node count of one training batch's graph (the largest alive at once), predicted.

    As `lecture_size`: the count does not depend on the hidden size, the embedding or the
    batch, and is bilinear in steps T and layers L, so four builds at hidden size 1 and batch
    1 (T in {8, 9}, L in {1, 2}) give it; a task of fixed-length data is built at its own
    length (L in {1, 2}). Truncated BPTT (k1, k2) keeps a graph of at most k2 steps.
    """
    steps = length if config.get("k1") is None else min(length, config["k2"])
    t = 8  # the builds' steps: t and t + 1 (some tasks need a few steps to be themselves)
    n = {(s, k): _batch_graph_nodes(config, s, k) for s in (t, t + 1) for k in (1, 2)}
    if n[t, 1] == n[t + 1, 1] and n[t, 2] == n[t + 1, 2]:
        steps = t  # a task of fixed length: the count does not change with T
    d = n[t + 1, 2] - n[t, 2] - n[t + 1, 1] + n[t, 1]
    b = n[t + 1, 1] - n[t, 1] - d
    c = n[t, 2] - n[t, 1] - t * d
    a = n[t, 1] - t * b - c - t * d
    layers = config["layers"]
    return a + b * steps + c * layers + d * steps * layers


def _batch_graph_nodes(config, steps, layers):
    """Nodes of the loss graph of a hidden-size-1, batch-1 model of `config`'s structure."""
    from .autograd import topo_order
    from .tasks import make_task
    from .tasks.models import Classifier, Tagger, build_model
    from .train import loss_count, sequence_loss

    options = {"path": config["text"]} if config["task"] == "text" else {}
    try:
        task = make_task(config["task"], length=steps, **options)
    except ValueError:  # a task without a length option (intent, tagging, generate)
        task = make_task(config["task"], **options)
    model = build_model(
        task,
        cell=config["cell"],
        hidden=1,
        layers=layers,
        bidirectional=config["bidirectional"],
        nonlinearity=config["nonlinearity"],
        embed=1,
        reverse_source=config["reverse_source"],
    )
    batch = task.batch(1, 0)
    if isinstance(model, (Tagger, Classifier)):
        prediction = model.read(batch.x)[0]
    else:
        prediction = model(batch.x, batch.y_in)
    loss = sequence_loss(task, prediction, batch.y, batch.mask, loss_count(task, batch))
    return len(topo_order([loss]))


def check_training(config, task):
    """Refuse at once (TooLarge) a training config whose batch graph or memory is too large
    for `task`, with the numbers and the options that make it smaller."""
    length = getattr(task, "length", None) or 100
    estimate = train_size(config, length)
    if estimate.bytes > memory_limit() or estimate.nodes <= MAX_GRAPH_NODES:
        advice = "use a smaller --hidden, --layers, --batch or --eval-batch"
        return check(estimate, "training this model", advice)
    steps = length if config.get("k1") is None else min(length, config["k2"])
    k = max(1, min(100, steps * MAX_GRAPH_NODES // estimate.nodes // 2))
    if config.get("k1") is not None:
        advice = f"use a smaller --k2 (e.g. --k1 {min(k, config['k1'])} --k2 {k}) or --layers"
    elif task.shape in ("N-vs-1", "N-vs-N") and not config["bidirectional"]:
        advice = f"use a smaller --length or --layers, or truncated BPTT (e.g. --k1 {k} --k2 {k})"
    else:
        advice = "use a smaller --length or --layers"
    return check(estimate, f"one training batch's graph (T = {length})", advice)


def check(estimate, what, advice, max_nodes=MAX_GRAPH_NODES, max_bytes=None):
    """Raise TooLarge when `estimate` exceeds a limit: '<what> would ... ; <advice>'."""
    max_bytes = memory_limit() if max_bytes is None else max_bytes
    if estimate.bytes > max_bytes:
        raise TooLarge(
            f"{what} would need up to {size_text(estimate.bytes)} of memory "
            f"(limit {size_text(max_bytes)}, set by ${MEMORY_ENV}); {advice}"
        )
    if estimate.nodes > max_nodes:
        raise TooLarge(
            f"{what} would have {estimate.nodes:,} nodes (limit {max_nodes:,}); {advice}"
            if max_nodes != MAX_VISITS
            else f"{what} would visit {estimate.nodes:,} nodes (limit {max_nodes:,}); {advice}"
        )
    return estimate


def check_lecture(model, extra_bytes=0, walks=1):
    """Refuse at once a lecture model too large to build (TooLarge, with the numbers).

    `model`: `lecture.build`'s options (cell, steps, hidden, ...; others are ignored);
    `extra_bytes`: what an analysis keeps besides the graph; `walks`: how many times it walks
    the whole graph (bptt: once per row of dh_T/dh_k), checked against MAX_VISITS.
    """
    sizes = ("cell", "steps", "hidden", "input_size", "layers", "bidirectional", "loss")
    estimate = lecture_size(**{k: model[k] for k in sizes if k in model})
    estimate.bytes += extra_bytes
    advice = "use fewer --steps or --layers, or a smaller --hidden"
    check(estimate, "the unrolled model", advice)
    if walks > 1:
        visits = Estimate(estimate.nodes * walks, 0, 0)
        what = f"the analysis ({walks} walks of {estimate.nodes:,} nodes)"
        check(visits, what, advice, max_nodes=MAX_VISITS)
    return estimate
