"""Regenerate the transcripts (and the figure) in docs/bptt.md from the real command.

    python docs/make_bptt_md.py

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


def main_():
    path = os.path.join(HERE, "bptt.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = BLOCK.sub(fill, text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    figure = os.path.join(HERE, "img", "bptt_decay.png")
    run([*FIGURE, "--plot", figure])
    print(f"rewrote {path} and {figure}")


if __name__ == "__main__":
    main_()
