"""What `tinygrad-rnn demo` and `tinygrad-rnn render` draw: the lecture's model, unrolled.

paths, text = demo("tinygrad-rnn-demo")     # RNN and LSTM pictures and the |dE_3/dh_k| table
"""

import os

from tinygrad_rnn import lecture

from . import colors, terminal
from .dot import to_dot
from .render import render

DEMO_STEPS = 4
DEMO_CELLS = (("rnn", "tanh RNN"), ("lstm", "LSTM"))
PNG_MAX_PIXELS = 6000


def describe(run):
    """A one-line title for a lecture run: cell, sizes, what was backpropagated."""
    c = run.config
    cell = c["cell"].upper() if c["cell"] != "rnn" else f"RNN ({c['activation']})"
    parts = [f"{cell}, {c['steps']} steps, hidden {c['hidden']}"]
    if c["layers"] > 1:
        parts.append(f"{c['layers']} layers")
    if c["bidirectional"]:
        parts.append("bidirectional")
    if c["radius"] is not None:
        parts.append(f"W_hh radius {c['radius']:g}")
    parts.append(f"loss {run.loss.label}, seed {c['seed']}")
    return ", ".join(parts)


def state_grad_norms(run):
    """|dE/dh_k| for k = 0..T-1 (last layer, forward direction)."""
    return [colors.grad_norm(h.grad) for h in run.hidden_states()]


def shared_range(runs):
    """One colour scale for several pictures, so their colours can be compared."""
    norms = []
    for run in runs:
        for p in run.parameters():
            norms.append(colors.grad_norm(p.grad))
        for states in run.states[-1]:
            for state in states:
                for node in state:
                    norms.append(colors.grad_norm(node.grad))
        norms.extend(colors.grad_norm(e.grad) for e in run.losses)
    return colors.decade_range(norms, span=12)


def demo(out_dir, seed=0, notation="pytorch"):
    """Draw the lecture's 4-step tanh RNN and an LSTM with E_3's paths back to h_0.

    Writes `rnn.png`, `rnn.svg`, `lstm.png`, `lstm.svg` into `out_dir` (labels in
    `notation`: "pytorch", or "lecture" for s_t, U, W, V); returns the paths
    written and the text to print (a table of |dE_3/dh_k| for both cells).
    """
    runs = []
    for cell, _ in DEMO_CELLS:
        run = lecture.build(cell=cell, steps=DEMO_STEPS, seed=seed)
        run.loss.backward()
        runs.append(run)
    grad_range = shared_range(runs)
    last = DEMO_STEPS - 1
    paths = []
    for (cell, _), run in zip(DEMO_CELLS, runs):
        state = "s_0" if notation == "lecture" and cell == "rnn" else "h_0"
        title = f"{describe(run)}: every path from E_{last} back to {state} is drawn thick"
        dot = to_dot(
            run.loss, bptt_paths=(last, 0), grad_range=grad_range, title=title, notation=notation
        )
        for fmt in ("png", "svg"):
            path = os.path.join(out_dir, f"{cell}.{fmt}")
            render(dot, path, fmt, max_pixels=PNG_MAX_PIXELS)
            paths.append(path)
    return paths, demo_table(runs, last)


def demo_table(runs, last):
    """The |dE_t/dh_k| table for the demo's cells, with bars relative to each column's max."""
    columns = [state_grad_norms(run) for run in runs]
    headers = ["k"]
    for _, name in DEMO_CELLS:
        headers += [name, ""]
    rows = []
    for k in range(last, -1, -1):
        row = [f"h_{k}"]
        for column in columns:
            top = max(n for n in column if n is not None) or 1.0
            value = column[k]
            row += [terminal.sci(value), terminal.bar((value or 0.0) / top, width=16)]
        rows.append(row)
    ratio = [f"h_0/h_{last}"]
    for column in columns:
        ratio += [terminal.sci(column[0] / column[last]) if column[last] else "-", ""]
    rows.append(ratio)
    lines = [
        f"The lecture's {DEMO_STEPS}-step networks, loss E_{last} backpropagated through time.",
        f"|dE_{last}/dh_k|, how much of E_{last}'s gradient reaches each hidden state h_k:",
        "",
        terminal.table(headers, rows, align="l" + "ll" * len(columns)),
        "",
        "In the pictures lighter means smaller: the thick paths from E_3 fade as they go",
        "back in time, step by step.",
    ]
    return "\n".join(lines)
