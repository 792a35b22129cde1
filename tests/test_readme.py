"""README.md stays true: its Python blocks run as written, its set-up commands are the product's."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks():
    return FENCE.findall(README.read_text(encoding="utf-8"))


def _python_blocks():
    return [body for lang, body in _blocks() if lang == "python"]


def test_readme_first_block_is_the_setup_commands():
    lang, body = _blocks()[0]
    assert body.splitlines() == [
        "pip install -e . && tinygrad-rnn demo",
        "pip install -e '.[test]' && pytest",
    ]


def test_readme_has_a_python_example():
    assert _python_blocks()


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_readme_python_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here
    code = compile(_python_blocks()[index], f"README.md python block {index + 1}", "exec")
    # the check is the block itself: any exception or failed `assert` in it fails the test
    exec(code, {"__name__": "__readme__"})
