"""Regenerate the transcripts in docs/exercises.md and docs/exercises.zh.md.

    python docs/make_exercises_md.py

Every fenced block that starts with `$ tinygrad-rnn exercise ...` gets that command's
output as printed now. The commands of one page run in order, in one fresh folder (as a
learner would type them), with a copy of examples/exercises/ in it, so `start` writes
files that the next `check` reads. tests/test_exercises_docs.py fails when a block and
its command disagree. It also draws docs/img/exercise_rnn_transposed.png, the
`--picture` of examples/exercises/rnn_step_transposed.py.
"""

import os
import re
import shlex
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

PAGES = ("exercises.md", "exercises.zh.md")
BLOCK = re.compile(r"```text\n(\$ tinygrad-rnn exercise\b[^\n]*)\n.*?```", flags=re.S)


def run_command(line):
    """The output of one `$ tinygrad-rnn ...` line, run in the current folder."""
    from click.testing import CliRunner

    from cli import main

    argv = shlex.split(line[2:])
    return CliRunner().invoke(main, argv[1:], prog_name="tinygrad-rnn").output


def regenerate(text):
    """`text` with every transcript block's output replaced by what its command prints now."""
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        shutil.copytree(
            os.path.join(ROOT, "examples", "exercises"),
            os.path.join(folder, "examples", "exercises"),
        )
        os.chdir(folder)
        try:
            return BLOCK.sub(lambda m: f"```text\n{m.group(1)}\n{run_command(m.group(1))}```", text)
        finally:
            os.chdir(here)


PICTURE = os.path.join(HERE, "img", "exercise_rnn_transposed.png")


def picture(path=PICTURE):
    """The side-by-side picture of a wrong RNN step (W_hh transposed in dh_prev)."""
    from tinygrad_rnn import exercises
    from viz.side_by_side import side_by_side

    example = os.path.join(ROOT, "examples", "exercises", "rnn_step_transposed.py")
    result = exercises.check(3, example)
    titles = ("your gradient", "the true gradient")
    return side_by_side(*result.graphs, path, titles=titles)


def main_():
    for page in PAGES:
        path = os.path.join(HERE, page)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = regenerate(text)
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        print(f"{path}: {len(BLOCK.findall(text))} transcripts regenerated")
    print(f"{picture()}: drawn")


if __name__ == "__main__":
    main_()
