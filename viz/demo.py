"""What `tinygrad-rnn demo` and `tinygrad-rnn render` draw: the lecture's model, unrolled.

paths, text = demo("tinygrad-rnn-demo")     # RNN and LSTM pictures and the |dE_3/dh_k| table
"""

import os

from tinygrad_rnn import lecture
from tinygrad_rnn.nn.recurrent import layer_class
from tinygrad_rnn.notation import label

from . import style, terminal
from .dot import to_dot
from .render import render

DEMO_STEPS = 4
DEMO_CELLS = (("rnn", "tanh RNN"), ("lstm", "LSTM"))
PNG_MAX_PIXELS = 6000


def describe(run):
    """A one-line title for a lecture run: cell, sizes, what was backpropagated."""
    c = run.config
    cell = layer_class(c["cell"]).title(c["activation"])
    parts = [f"{cell}, {c['steps']} steps, hidden {c['hidden']}"]
    if c["layers"] > 1:
        parts.append(f"{c['layers']} layers")
    if c["bidirectional"]:
        parts.append("bidirectional")
    if c["radius"] is not None:
        parts.append(f"W_hh radius {c['radius']:g}")
    if c.get("forget_bias") is not None:
        parts.append(forget_text(c["forget_bias"]))
    parts.append(f"loss {run.loss.label}, seed {c['seed']}")
    return ", ".join(parts)


def forget_text(bias):
    """'forget bias 2: f rests near 0.88' (sigmoid of the bias)."""
    return f"forget bias {bias:g}: f rests near {lecture.forget_rest(bias):.2f}"


def state_grad_norms(run):
    """|dE/dh_k| for k = 0..T-1 (last layer, forward direction)."""
    return [style.grad_norm(h.grad) for h in run.hidden_states()]


DEMO_FORGET_BIAS = 2.0


def demo(out_dir, seed=0, notation="pytorch", forget_bias=DEMO_FORGET_BIAS, grad_range=None):
    """Draw the lecture's 4-step tanh RNN and an LSTM with E_3's paths back to h_0.

    Writes `rnn.png`, `rnn.svg`, `lstm.png`, `lstm.svg` into `out_dir` (labels in
    `notation`: "pytorch", or "lecture" for s_t, U, W, V); returns the paths
    written and the text to print (a table of |dE_3/dh_k| for both cells).
    """
    paths, text, _ = run_demo(out_dir, seed, notation, forget_bias, grad_range)
    return paths, text


def run_demo(out_dir, seed=0, notation="pytorch", forget_bias=DEMO_FORGET_BIAS, grad_range=None):
    """`demo`, also returning the numbers as a dict (what `demo --json` prints):
    {"cells": {"rnn": {"grad_h": [...]}, "lstm": {"grad_h": [...], "grad_c": [...]}},
    "files": [...]}, lists ordered k = 0 .. 3. The LSTM's forget gates start at total bias
    `forget_bias` (the picture's title and the table say so); `grad_range` (lo, hi) in
    decades fixes the colour scale, else both pictures share one from their gradients."""
    runs = []
    for cell, _ in DEMO_CELLS:
        bias = forget_bias if "f" in layer_class(cell).Cell.gate_names else None
        run = lecture.build(cell=cell, steps=DEMO_STEPS, seed=seed, forget_bias=bias)
        run.loss.backward()
        runs.append(run)
    scale = grad_range if grad_range is not None else style.shared_range([r.loss for r in runs])
    last = DEMO_STEPS - 1
    paths = []
    for (cell, _), run in zip(DEMO_CELLS, runs):
        state = label(run.hidden_states()[0], notation)
        title = f"{describe(run)}: every path from E_{last} back to {state} is drawn thick"
        dot = to_dot(
            run.loss, bptt_paths=(last, 0), grad_range=scale, title=title, notation=notation
        )
        for fmt in ("png", "svg"):
            path = os.path.join(out_dir, f"{cell}.{fmt}")
            render(dot, path, fmt, max_pixels=PNG_MAX_PIXELS)
            paths.append(path)
    data = {"cells": {run.config["cell"]: grad_norms(run) for run in runs}, "files": paths}
    return paths, demo_table(runs, last, forget_bias), data


def grad_norms(run):
    """{"grad_h": |dE/dh_k|, and "grad_c": |dE/dc_k| for a cell with a cell state}."""
    norms = {"grad_h": state_grad_norms(run)}
    if run.model.Cell.has_cell_state:
        norms["grad_c"] = cell_grad_norms(run)
    return norms


def cell_grad_norms(run):
    """|dE/dc_k| for k = 0..T-1 (LSTM, last layer, forward direction)."""
    return [style.grad_norm(c.grad) for c in run.cell_states()]


def demo_table(runs, last, forget_bias=DEMO_FORGET_BIAS):
    """|dE_3/dh_k| for both cells and the LSTM's |dE_3/dc_k|, bars relative to each column."""
    rnn, lstm = runs
    columns = [state_grad_norms(rnn), state_grad_norms(lstm), cell_grad_norms(lstm)]
    lstm_name = "LSTM" if forget_bias is None else f"LSTM, {forget_text(forget_bias)}"
    headers = ["", "tanh RNN |dE/dh_k|", "", "LSTM |dE/dh_k|", "", "LSTM |dE/dc_k|", ""]
    rows = []
    for k in range(last, -1, -1):
        row = [f"h_{k}"]
        for column in columns:
            top = max(n for n in column if n is not None) or 1.0
            value = column[k]
            row += [terminal.sci(value), terminal.bar((value or 0.0) / top, width=12)]
        rows.append(row)
    ratio = [f"h_0/h_{last}"]
    for column in columns:
        ratio += [terminal.sci(column[0] / column[last]) if column[last] else "-", ""]
    rows.append(ratio)
    c_kept = columns[2][0] / columns[2][last] if columns[2][last] else 0.0
    h_kept = columns[0][0] / columns[0][last] if columns[0][last] else 0.0
    lines = [
        f"The lecture's {DEMO_STEPS}-step networks, loss E_{last} backpropagated through time:",
        f"the tanh RNN, and the {lstm_name}.",
        f"How much of E_{last}'s gradient reaches each state at step k:",
        "",
        terminal.table(headers, rows, align="l" + "ll" * len(columns)),
        "",
        f"The RNN keeps {100 * h_kept:.0f}% of it from h_{last} back to h_0; the LSTM's cell "
        f"path keeps {100 * c_kept:.0f}% from c_{last} to c_0",
        "(c_t = f_t * c_{t-1} + i_t * g_t: with f near 1 the gradient passes almost unchanged).",
        "At PyTorch's default initialisation (no forget bias) f rests near 0.5 and the cell",
        "path halves every step: see it with  tinygrad-rnn bptt --compare rnn,lstm --steps 8",
        "In the pictures lighter means smaller, on one colour scale for both.",
    ]
    return "\n".join(lines)
