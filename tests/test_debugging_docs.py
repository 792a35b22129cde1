"""docs/debugging.md shows real output: every `$ command` block is run again and compared."""

import os
import re
import shlex
import subprocess
import sys

import pytest
from click.testing import CliRunner
from engines import has_engine

from cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs", "debugging.md")


def transcripts(program):
    """(argv, expected output) of each ```text block that starts with `$ program ...`."""
    with open(DOCS, encoding="utf-8") as f:
        text = f.read()
    found = []
    for block in re.findall(r"```text\n\$ (.*?)```", text, flags=re.S):
        command, _, output = block.partition("\n")
        argv = shlex.split(command)
        if argv[0] == program:
            found.append((argv[1:], output))
    return found


def test_debugging_docs_python_transcripts_are_current():
    found = transcripts("python")
    # two pdb sessions (a loop over steps, a hook) and two anomaly reports
    assert len(found) == 4, [argv[:2] for argv, _ in found]
    for argv, expected in found:
        # the pdb sessions and the anomaly reports, as a reader would run them
        result = subprocess.run(
            [sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert without_line_numbers(result.stdout) == without_line_numbers(expected), argv[:2]


def without_line_numbers(text):
    """`file.py(158)` (pdb) and `file.py:36` (anomaly reports) with the number out: an edit
    elsewhere in the library moves those lines, not what the transcript shows."""
    return re.sub(r"\.py:\d+", ".py:N", re.sub(r"\.py\(\d+\)", ".py(N)", text))


@pytest.mark.skipif(not has_engine(), reason="no Graphviz layout engine (the session runs g)")
def test_debugging_docs_cli_transcript_is_current(tmp_path, monkeypatch):
    found = transcripts("tinygrad-rnn")
    assert found, "docs/debugging.md shows no `$ tinygrad-rnn step` transcript"
    monkeypatch.chdir(tmp_path)  # `g` writes inside -o, relative to here
    for argv, expected in found:
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 0, result.output
        assert result.output == expected
