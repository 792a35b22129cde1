"""Regenerate the transcripts (and the figure) in docs/bptt.md from the real command.

    python docs/make_bptt_md.py [--trained]

(--trained also retrains the two small models of "After training" and refreshes that part.)

Every fenced block that starts with `$ tinygrad-rnn bptt ...` gets that command's output as
printed now; tests/test_bptt_cli.py fails when a block and the command disagree.
"""

import os
import re
import shlex
import sys

from click.testing import CliRunner

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from cli import main  # noqa: E402

BLOCK = re.compile(r"```text\n(\$ tinygrad-rnn bptt\b[^\n]*)\n.*?```", flags=re.S)
FIGURE = ["bptt", "--compare", "rnn,lstm,gru", "--steps", "30", "--radii", "0.5,1.0"]


def run(argv):
    result = CliRunner().invoke(main, argv)
    if result.exit_code != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {result.output}")
    return result.output


def fill(match):
    command = match.group(1)
    return f"```text\n{command}\n{run(shlex.split(command[2:])[1:])}```"


TRAINED = re.compile(r"<!-- trained -->\n.*?<!-- /trained -->", flags=re.S)
TRAIN = "train --task adding --length 20 --hidden 32 --steps 600 --cell {cell} --save {cell}.npz"


def trained_section():
    """Train an LSTM and a tanh RNN on the adding problem (about a minute each), then read
    |dE/dx_k| of one test sequence from `bptt --load`: the transcripts and a table of the
    marked steps. Not checked by the tests (it trains); rerun this script to refresh it."""
    import tempfile

    from tinygrad_rnn.analysis.trained import load

    parts, rows = [], {}
    with tempfile.TemporaryDirectory() as folder:
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            for cell in ("lstm", "rnn"):
                train = TRAIN.format(cell=cell)
                out = run(shlex.split(train)).strip().splitlines()
                probe = f"bptt --load {cell}.npz --sample 0"
                table = run(shlex.split(probe))
                parts.append(f"$ tinygrad-rnn {train}\n{out[-2]}\n{out[-1]}\n")
                parts.append(f"$ tinygrad-rnn {probe}\n{table}")
                trained = load(f"{cell}.npz", sample=0)
                report = __import__("tinygrad_rnn").bptt.analyze(trained)
                rows[cell] = [r.input_grad_norm for r in report.rows]
                markers = trained.batch.x[:, 0, 1]
        finally:
            os.chdir(cwd)
    marked = [k for k, m in enumerate(markers) if m == 1.0]
    lines = ["| step k | marker | LSTM `input_grad_norm` | tanh RNN `input_grad_norm` |"]
    lines.append("|---|---|---|---|")
    for k in sorted(set(marked) | {len(markers) - 1}):
        flag = "marked" if k in marked else "last step"
        lines.append(f"| {k} | {flag} | {rows['lstm'][k]:.3g} | {rows['rnn'][k]:.3g} |")
    block = "```text\n" + "".join(parts) + "```"
    return "<!-- trained -->\n" + block + "\n\n" + "\n".join(lines) + "\n<!-- /trained -->"


def main_():
    path = os.path.join(HERE, "bptt.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = BLOCK.sub(fill, text)
    if "--trained" in sys.argv:
        section = trained_section()
        text = TRAINED.sub(lambda _: section, text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    figure = os.path.join(HERE, "img", "bptt_decay.png")
    run([*FIGURE, "--plot", figure])
    print(f"rewrote {path} and {figure}")


if __name__ == "__main__":
    main_()
