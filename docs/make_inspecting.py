"""Regenerate docs/inspecting.md and its pictures (docs/img/inspect_*.png) from real runs.

    python docs/make_inspecting.py          (a few minutes on one core)

Every command shown in the page is run here, as written, through the CLI, in a scratch
folder: the training runs first, then the views of the trained models. The pictures are
copied into docs/img; the numbers quoted in the text are measured from the same runs.
"""

import json
import os
import re
import shlex
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

README = os.path.join(ROOT, "README.md")

TRAIN = [
    "tinygrad-rnn train --task echo --cell gru --hidden 32 --length 20 --steps 300 --lr 0.02 "
    "--save echo.npz",
    "tinygrad-rnn train --task adding --length 20 --cell lstm --steps 600 --save adding.npz",
    "tinygrad-rnn train --task text --text README.md --cell lstm --hidden 64 --steps 600 "
    "--sample-every 200 --save text.npz",
    "tinygrad-rnn train --task adding --length 20 --cell rnn --steps 600 --clip 1.0 "
    "--eval-every 25 --log rnn.jsonl",
    "tinygrad-rnn train --task adding --length 20 --cell lstm --steps 600 --clip 1.0 "
    "--eval-every 25 --log lstm.jsonl",
]
VIEWS = {
    "echo": "tinygrad-rnn connectivity --load echo.npz --sample 0 -o inspect_echo.png",
    "adding": "tinygrad-rnn gates --load adding.npz --sample 0 -o inspect_adding_gates.png",
    "text": 'tinygrad-rnn gates --load text.npz --input "The gradient of the loss" '
    "-o inspect_text_gates.png",
    "plot": "tinygrad-rnn plot rnn.jsonl lstm.jsonl -o inspect_training.png",
    "render": 'tinygrad-rnn render --load text.npz --input "RNN" -o inspect_text_graph.png',
}


def run(command):
    """Run a `tinygrad-rnn ...` command line through the CLI; return what it printed."""
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, shlex.split(command)[1:])
    if result.exit_code != 0:
        raise SystemExit(f"{command} failed:\n{result.output}")
    return result.stdout


def json_of(command):
    return json.loads(run(command.split(" -o ")[0] + " --json"))


def main_():
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    scratch = tempfile.mkdtemp(prefix="inspecting-")
    shutil.copy(README, os.path.join(scratch, "README.md"))
    old = os.getcwd()
    os.chdir(scratch)
    try:
        outputs = {}
        for command in TRAIN:
            print(f"$ {command}", flush=True)
            outputs[command] = run(command)
        for key, command in VIEWS.items():
            print(f"$ {command}", flush=True)
            outputs[key] = run(command)
        facts = measure()
        for name in os.listdir(scratch):
            if name.startswith("inspect_") and name.endswith(".png"):
                shutil.copy(name, os.path.join(HERE, "img", name))
    finally:
        os.chdir(old)
        shutil.rmtree(scratch, ignore_errors=True)
    text = PAGE.format(
        train="\n".join(f"    {c}" for c in TRAIN),
        **{f"cmd_{k}": v for k, v in VIEWS.items()},
        samples=samples(outputs[TRAIN[2]]),
        **facts,
    )
    with open(os.path.join(HERE, "inspecting.md"), "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote docs/inspecting.md")


def samples(printed):
    # the sample lines (a repr: quoted with ' or "), not the evaluation lines
    lines = [line for line in printed.splitlines() if re.match(r"step \d+: ['\"]", line)]
    return "\n".join(f"    {line}" for line in lines)


def measure():
    """The numbers the page quotes, from the trained models."""
    echo = np.array(json_of(VIEWS["echo"])["matrix"])
    rows = range(5, echo.shape[0])
    peaks = sum(int(np.argmax(echo[t])) == t - 5 for t in rows)
    above = np.triu(echo, 1)
    gates = json_of(VIEWS["adding"])
    inputs = gates["inputs"]
    marked = [k for k, text in enumerate(inputs) if text.endswith("*")]
    i_gate = np.array(gates["i"])
    f_gate, c = np.array(gates["f"]), np.array(gates["c"])
    step_c = np.abs(np.diff(c, axis=1, prepend=0.0)).mean(axis=0)  # mean |c_t - c_(t-1)|
    mean_i = i_gate.mean(axis=0)
    unit = int(np.argmax(i_gate[:, marked].mean(axis=1) - i_gate.mean(axis=1)))
    others = [k for k in range(len(inputs)) if k not in marked]
    from tinygrad_rnn.analysis.runlog import read_log

    rnn, lstm = read_log("rnn.jsonl"), read_log("lstm.jsonl")
    return {
        "echo_peaks": peaks,
        "echo_rows": len(rows),
        "echo_zero": "exactly 0" if (above == 0).all() else "NOT zero",
        "marked": ", ".join(str(k) for k in marked),
        "unit": unit,
        "unit_marked": ", ".join(f"{i_gate[unit, k]:.2f}" for k in marked),
        "unit_other": f"{i_gate[unit, others].mean():.2f}",
        "mean_marked": f"{mean_i[marked].mean():.2f}",
        "mean_other": f"{mean_i[others].mean():.2f}",
        "mean_f": f"{f_gate.mean():.2f}",
        "f_range": f"{f_gate.min():.2f} to {f_gate.max():.2f}",
        "c_marked": f"{step_c[marked].mean():.3f}",
        "c_other": f"{step_c[others].mean():.3f}",
        "rnn_eval": f"{rnn.eval[-1]:.3g}",
        "lstm_eval": f"{lstm.eval[-1]:.3g}",
        "baseline": f"{rnn.baseline:.3g}",
        "rnn_clipped": len(rnn.clipped),
        "lstm_clipped": len(lstm.clipped),
    }


PAGE = """# Inspecting a trained model

Every other page looks at the lecture's untrained model on random inputs. Here the model is
trained and the input is real: which inputs does output t depend on, what did the gates
learn to do, how did the gradient behave during training. Each view is one command on a
checkpoint from `tinygrad-rnn train --save`. Generated by `python docs/make_inspecting.py`
from the runs below (every number on this page is measured from them):

{train}

Any of these commands picks its input with `--sample N` (the N-th sequence of the task's
seeded test set, the one `train` scores) or `--input` (text, words or symbol ids, for the
token tasks); `--json` prints the numbers instead.

## Which inputs does each output depend on: `connectivity`

    {cmd_echo}

![echo GRU: connectivity](img/inspect_echo.png)

The echo task asks for each symbol again 5 steps later (y_t = x_(t-5)). Row t is output o_t,
column k is input x_k (its embedded vector), the colour ||d o_t / d x_k|| on a log scale
(for class outputs the logits are centred first: softmax ignores a common shift). The
trained model's rows peak at k = t - 5 in {echo_peaks} of the {echo_rows} rows that have a
target: it learned to look back exactly 5 steps, and the dark diagonal band below the main
diagonal is that memory. Above the diagonal every entry is {echo_zero} (white): a
unidirectional model cannot see the future, and the view computes the matrix with the
engine's own backward pass (one pass for the whole matrix: the sequence is copied into a
batch, one row per output element), so those zeros are exact, not small. A bidirectional
model fills both triangles; an N-vs-1 model (adding, intent) has one row. `--compare
other.npz` draws two models side by side on one colour scale.

## What the gates do: `gates`

    {cmd_adding}

![adding LSTM: gates](img/inspect_adding_gates.png)

The adding problem marks two of the 20 inputs (under the steps: each value, starred where
it is marked; here steps {marked}) and asks for the sum of the two marked values. One row per
hidden unit, one column per step; the gates are in [0, 1] (white closed, dark blue open), c
and h in red and blue. Unit {unit}'s input gate opens at the marked steps ({unit_marked})
and stays near {unit_other} elsewhere; averaged over all units the input gate is
{mean_marked} at the marked steps and {mean_other} at the others. The forget gate averages
{mean_f} (from {f_range}), and the cell state moves by {c_marked} per unit at a marked step
against {c_other} at an unmarked one: the model writes at the markers and carries what it
wrote. The values are the graph's own nodes (`i_3`, `f_3`, `c_3`, ...) of the forward pass.

The same view of the character model (trained on this project's README), on a sentence of
your own:

    {cmd_text}

![text LSTM: gates on a sentence](img/inspect_text_gates.png)

Karpathy's cell-state pictures are the `c` panel: look for units whose colour flips at
spaces or stays on inside a word. While it trained, `--sample-every 200` printed what it
had learned so far (60 characters, primed with the text's first character):

{samples}

## The trained graph itself: `render --load`

`render`, `bptt` and `step` take `--load` too: the trained model on one input, each step's
input its own node labelled with its token (`x_0 'R'`), so the picture reads left to right
under the input:

    {cmd_render}

![text LSTM: the graph on "RNN"](img/inspect_text_graph.png)

`tinygrad-rnn bptt --load echo.npz --sample 0` tabulates the trained model's sum over k,
and `tinygrad-rnn step --load text.npz --input "RNN"` steps through its backward pass.

## How the gradient behaved during training: `plot`

    {cmd_plot}

![adding T = 20: tanh RNN vs LSTM](img/inspect_training.png)

The training loss, the test metric (every 25 steps) against the task's baseline (dashed:
always predicting 1 has MSE {baseline}), and the global gradient norm on a log scale
(Pascanu et al.'s picture), with every step that `--clip 1.0` clipped marked x. After 600
steps the LSTM's test MSE is {lstm_eval} and the tanh RNN's {rnn_eval} (the baseline is
{baseline}); the RNN had {rnn_clipped} clipped steps, the LSTM {lstm_clipped}. `plot`
reads the `--log` of any task; runs logged without `--eval-every` get the loss and gradient
panels only.
"""


if __name__ == "__main__":
    main_()
