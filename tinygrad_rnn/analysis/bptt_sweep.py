"""BPTT measured over several models at once: what `tinygrad-rnn bptt` computes.

    found = sweep(compare=["rnn", "lstm"], radii=[0.5, 1.0], steps=30)   # 4 lecture models
    found = sweep(load="echo.npz", sample=3)                             # one trained model
    for m in found:
        print(m.label, m.report.verdict, m.clip)

Each model gets one `bptt.analyze` report and, with `max_norm`, what `clip_grad_norm_` did
to its gradient (`bptt.clip_effect`). Every option is checked, and every lecture model's size
(graph and Jacobian walks, see `limits`), before the first model is built.
"""

from .. import lecture, limits
from ..nn.recurrent import layer_class
from . import bptt, unrolled

__all__ = ["DIRECTIONS", "Measured", "sweep"]

DIRECTIONS = ("forward", "reverse")
MODEL_DEFAULTS = dict(
    cell="rnn", steps=4, hidden=3, input_size=2, layers=1, bidirectional=False,
    activation="tanh", radius=None, init="orthogonal", loss="last", forget_bias=None,
)  # fmt: skip


class Measured:
    """One model's measurement: `label` (the cell or task, with `r=R` in a radius sweep),
    `report` (a `bptt.Report`), `clip` ((total norm before, after, |dE/dP| before, after) of
    clipping to `max_norm`, or None)."""

    def __init__(self, label, report, clip=None):
        self.label, self.report, self.clip = label, report, clip


def sweep(
    load=None, input=None, sample=None, given=(), seed=0, param="weight_hh", layer=0,
    direction="forward", scalar=False, compare=None, radii=None, max_norm=None, **model,
):  # fmt: skip
    """A list of `Measured`, one per cell of `compare` (else `model["cell"]`) and radius of
    `radii` (else `model["radius"]`), or one for the trained model at `load`.

    `model`: the lecture options (`MODEL_DEFAULTS`); `scalar` sets hidden 1 (rnn only) for
    the chain of factors w f'(a_j); `load`, `input`, `sample`, `given`: see
    `unrolled.load_trained` (a trained model's loss is its training loss E unless "loss" is
    in `given`); `param`, `layer`, `direction` ("forward"/"reverse"): the tabulated terms.
    """
    model = {**MODEL_DEFAULTS, **model}
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be forward or reverse, got {direction!r}")
    for name, value in (("compare", compare), ("radii", radii)):
        if value is not None and not isinstance(value, (list, tuple)):
            raise TypeError(f"{name} must be a list, got {type(value).__name__} {value!r}")
    cells, sweep_radii, loss = compare or [model["cell"]], radii or [model["radius"]], model["loss"]
    if scalar:
        if len(cells) != 1 or not _cell(cells[0]).has_nonlinearity:
            raise ValueError("--scalar follows the lecture's chain through an RNN: use --cell rnn")
        model["hidden"] = 1
    trained = unrolled.load_trained(load, input, sample, loss, given)
    if trained is not None:
        if compare or radii or scalar:
            raise ValueError(
                "--compare, --radii and --scalar build lecture models, not with --load"
            )
        trained.require_states("bptt")
        cells, sweep_radii = [trained.config["task"]], [None]
        loss = loss if "loss" in given else None  # None: the training objective E
    forgets = trained is None and any("f" in _cell(c).gate_names for c in cells)
    if model["forget_bias"] is not None and not forgets:
        raise ValueError("--forget-bias applies to the lstm cell only: add --cell lstm")
    if trained is None:
        for cell in cells:
            check_size(cell, model)
    found = []
    for cell in cells:
        for radius in sweep_radii:
            run = trained or _lecture(cell, radius, model, seed, compared=bool(compare))
            index = DIRECTIONS.index(direction)
            report = bptt.analyze(run, loss=loss, param=param, layer=layer, direction=index)
            label = cell if len(sweep_radii) == 1 else f"{cell} r={radius:g}"
            clip = None if max_norm is None else bptt.clip_effect(run, report.param, max_norm)
            found.append(Measured(label, report, clip))
    return found


def check_size(cell, model):
    """`limits.check_lecture` for one analysis: the graph, the T Jacobians dh_T/dh_k kept
    (rows x rows each, rows = H per state: 2H for an LSTM's (h, c); doubled when
    bidirectional) and one graph walk per Jacobian row."""
    options = ("steps", "hidden", "input_size", "layers", "activation", "radius", "init")
    lecture.check_options(cell, *(model[k] for k in options), "last")  # each named; the loss
    # is checked against the model by bptt.analyze
    states = len(_cell(cell).state_names)
    rows = model["hidden"] * states * (2 if model["bidirectional"] else 1)
    sized = {**model, "cell": cell, "loss": "last"}
    limits.check_lecture(sized, extra_bytes=24 * model["steps"] * rows * rows, walks=rows + 4)


def _lecture(cell, radius, model, seed, compared):
    """The lecture model of `cell` with W_hh at `radius`; in a comparison, only a cell with
    a choice of nonlinearity (rnn) takes the activation, only one with a forget gate (lstm)
    the forget bias."""
    options = {**model, "cell": cell, "radius": radius}
    options["loss"] = "all" if model["loss"] == "all" else "last"
    if compared and not _cell(cell).has_nonlinearity:
        options["activation"] = "tanh"
    if "f" not in _cell(cell).gate_names:
        options["forget_bias"] = None
    return lecture.build(seed=seed, **options)


def _cell(name):
    """The cell class called `name` ("rnn", "lstm", "gru")."""
    return layer_class(name).Cell
