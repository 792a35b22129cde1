"""docs/exercises.md and docs/exercises.zh.md show real output: every `$ tinygrad-rnn
exercise` block is run again, in order, in a fresh folder, and must print exactly what the
page shows."""

import importlib.util
import os

import pytest

from viz.render import RenderError, find_engine

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _maker():
    path = os.path.join(ROOT, "docs", "make_exercises_md.py")
    spec = importlib.util.spec_from_file_location("make_exercises_md", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _engine():
    try:
        find_engine()
    except RenderError:
        return False
    return True


@pytest.mark.skipif(not _engine(), reason="the --picture transcript needs a layout engine")
@pytest.mark.parametrize("page", ["exercises.md", "exercises.zh.md"])
def test_exercises_docs_transcripts_are_what_the_commands_print(page):
    maker = _maker()
    with open(os.path.join(ROOT, "docs", page), encoding="utf-8") as f:
        text = f.read()
    assert len(maker.BLOCK.findall(text)) >= 8
    for needed in ("exercise list", "check 8 examples/exercises/lstm_wrong_forget_gate.py"):
        assert needed in text
    assert "all in gate f" in text and "did your loop skip k=0?" in text
    assert maker.regenerate(text) == text, f"run python docs/make_exercises_md.py ({page})"


def test_exercises_docs_python_blocks_run():
    with open(os.path.join(ROOT, "docs", "exercises.md"), encoding="utf-8") as f:
        text = f.read()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/exercises.md", "exec"), {})
