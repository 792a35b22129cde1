"""docs/inspecting.md: every picture exists, every command names real options, and it is
the page docs/make_inspecting.py writes (its commands are the script's)."""

import os
import re
import shlex

import pytest

from cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")


def page():
    with open(os.path.join(DOCS, "inspecting.md"), encoding="utf-8") as f:
        return f.read()


def commands():
    return [shlex.split(line.strip()) for line in page().splitlines()
            if line.startswith("    tinygrad-rnn ")]  # fmt: skip


def test_inspecting_docs_pictures_exist():
    pictures = re.findall(r"\]\((img/[^)]+)\)", page())
    assert len(pictures) >= 5
    for picture in pictures:
        with open(os.path.join(DOCS, picture), "rb") as f:
            assert f.read(4) == b"\x89PNG", picture


@pytest.mark.parametrize("argv", commands(), ids=lambda argv: " ".join(argv[1:3]))
def test_inspecting_docs_commands_use_real_options(argv):
    command = main.commands[argv[1]]
    known = {name for p in command.params for name in getattr(p, "opts", [])}
    used = [a for a in argv[2:] if a.startswith("-")]
    assert set(used) <= known, set(used) - known


def test_inspecting_docs_commands_are_the_scripts():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_inspecting", os.path.join(DOCS, "make_inspecting.py")
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    shown = {" ".join(argv) for argv in commands()}
    for command in [*script.TRAIN, *script.VIEWS.values()]:
        assert " ".join(shlex.split(command)) in shown, command
