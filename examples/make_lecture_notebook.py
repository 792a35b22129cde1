"""Write examples/lecture.ipynb: the lecture's walk through RNNs as a notebook, outputs stripped.

    python examples/make_lecture_notebook.py

The cells are below, in the lecture's order; tests/test_notebook.py runs the notebook with
nbclient and checks that it shows pictures and tables inline. Edit here, not in the .ipynb.
"""

import os

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))

CELLS = [
    (
        "md",
        """# The lecture, runnable: RNN, BPTT, vanishing gradients, LSTM, GRU

Every cell runs the tool on the lecture's own small models. Pictures show inline
(`viz.draw`), BPTT reports as tables. Labels follow the lecture (`notation="lecture"`:
s_t, U, W, V); [docs/lecture.md](../docs/lecture.md) has the table that maps them to
PyTorch's names (中文版: [docs/lecture.zh.md](../docs/lecture.zh.md)).""",
    ),
    ("code", "import numpy as np\n\nimport viz\nfrom tinygrad_rnn import bptt, lecture, optim"),
    (
        "md",
        """## The RNN and its shared U, W, V

s_t = f(U x_t + W s_{t-1}), o_t = V s_t, one loss E_t per step. The same U, W, V are used
at every step: each dashed box is one step's use of a weight, showing that step's share
of its gradient. The thick lines are every path from E_3 back to s_0.""",
    ),
    (
        "code",
        """run = lecture.build("rnn", steps=4)
run.loss.backward()
viz.draw(run.loss, notation="lecture", bptt_paths=(3, 0))""",
    ),
    (
        "md",
        """## The forward pass, in the order it ran

Every node records when it was made (`Tensor.seq`). Sorted by it, the graph replays the
forward pass: step 0's nodes, then step 1's, as in the lecture's animation. The stepper
page (`tinygrad-rnn step --notation lecture --html walk.html`) walks it node by node.""",
    ),
    (
        "code",
        """from viz.graph import namer
from viz.html import forward_order

order = forward_order(run.loss)
name = namer(order, "lecture")
print(" -> ".join(name(n) for n in order if n.op is not None and name(n)))""",
    ),
    (
        "md",
        """## BPTT: the sum over k

dE_3/dW = sum_k dE_3/ds_3 ds_3/ds_k d+s_k/dW. `bptt.analyze` measures every factor;
the table's |term_k| column is how much of W's gradient came through step k.""",
    ),
    ("code", 'bptt.analyze(lecture.build("rnn", steps=8, radius=0.9))'),
    (
        "md",
        """## Vanishing and exploding gradients

With W's spectral norm 0.5 each step back multiplies the gradient by at most 0.5: it
vanishes (梯度消失). A linear RNN with norm 1.5 makes it grow (梯度爆炸).""",
    ),
    (
        "code",
        """for radius, activation in ((0.5, "tanh"), (1.5, "linear")):
    report = bptt.analyze(lecture.build("rnn", steps=12, radius=radius, activation=activation))
    print(f"radius {radius}, {activation}: rate {report.rate:.3g} per step, {report.verdict}")""",
    ),
    (
        "md",
        """## The cure for exploding: clip the gradient at a threshold v (梯度裁剪)

If ||g|| > v, g <- g v / ||g||: the direction stays, the length becomes v.""",
    ),
    (
        "code",
        """run = lecture.build("rnn", steps=12, radius=1.5, activation="linear")
run.loss.backward()
before = optim.clip_grad_norm_(run.parameters(), max_norm=1.0)
after = np.sqrt(sum((p.grad**2).sum() for p in run.parameters()))
print(f"||g|| before {before:.4g}, after {after:.4g}")""",
    ),
    (
        "md",
        """## LSTM: the gates step by step

f_t forgets (遗忘门), i_t lets the candidate C~_t in (输入门), o_t lets the memory out
(输出门); C_t = f_t C_{t-1} + i_t C~_t is the cell state. The prediction is ŷ_t.""",
    ),
    (
        "code",
        """run = lecture.build("lstm", steps=2)
run.loss.backward()
viz.draw(run.loss, notation="lecture")""",
    ),
    (
        "md",
        """Along the cell state the gradient is multiplied by f_t, not by W: the LSTM's
gradient fades more slowly than the RNN's: its rate per step is closer to 1.""",
    ),
    (
        "code",
        """for cell in ("rnn", "lstm", "gru"):
    report = bptt.analyze(lecture.build(cell, steps=20, seed=1))
    print(f"{cell:5s} rate {report.rate:.3g} per step: {report.verdict}")""",
    ),
    (
        "md",
        """## Bidirectional and stacked (双向循环神经网络)

Two RNNs read the sequence in both directions; o_t reads [s_t, s'_t]. One box per step
(`detail="cell"`) keeps the picture small.""",
    ),
    (
        "code",
        """run = lecture.build("rnn", steps=3, bidirectional=True, layers=2)
run.loss.backward()
viz.draw(run.loss, detail="cell", notation="lecture")""",
    ),
    (
        "md",
        """## Save a picture, read the DOT

`.save("rnn.png")` writes svg, png or dot by the suffix; `.dot` is the text.""",
    ),
    (
        "code",
        """picture = viz.draw(lecture.build("gru", steps=2).loss)
print(picture.dot.splitlines()[0], "...", len(picture.dot.splitlines()), "lines")""",
    ),
]


def notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, source in CELLS:
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(make(source))
    for k, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{k}"  # stable ids: the file only changes when a cell does
    return nb


def main():
    path = os.path.join(HERE, "lecture.ipynb")
    nbformat.write(notebook(), path)
    print(f"wrote {path} ({len(CELLS)} cells, no outputs)")


if __name__ == "__main__":
    main()
