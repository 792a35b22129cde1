"""Regenerate the transcripts in docs/debugging.md (and docs/img/step_frame.png).

    python docs/make_debugging_md.py

Every fenced block that starts with `$ python ...` or `$ tinygrad-rnn step ...` gets that
command's output as printed now, run from the repository root (the pdb sessions go through
examples/scripted_pdb.py; the step session's `g` writes the picture). The test
tests/test_debugging_docs.py fails when a block and its command disagree.
"""

import os
import re
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

BLOCK = re.compile(r"```text\n(\$ (?:python|tinygrad-rnn step)\b[^\n]*)\n.*?```", flags=re.S)


def output_of(argv):
    if argv[0] == "python":
        done = subprocess.run(
            [sys.executable, *argv[1:]], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
        return done.stdout
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, argv[1:])
    if result.exit_code != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {result.output}")
    return result.output


def fill(match):
    command = match.group(1)
    return f"```text\n{command}\n{output_of(shlex.split(command[2:]))}```"


def main_():
    os.chdir(ROOT)  # the step session writes inside its -o, relative to the root
    path = os.path.join(HERE, "debugging.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    new, count = BLOCK.subn(fill, text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)
    print(f"{path}: {count} transcripts regenerated")


if __name__ == "__main__":
    main_()
