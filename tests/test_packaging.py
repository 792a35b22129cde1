"""Packaging and layering: the console script, and imports that point one way only."""

import re
import subprocess
import sys
from importlib import metadata

import pytest


def _modules_after(statement):
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_library_imports_numpy_only():
    loaded = _modules_after("import tinygrad_rnn")
    for heavy in ("viz", "cli", "click", "graphviz", "matplotlib", "torch"):
        assert heavy not in loaded, f"import tinygrad_rnn pulled in {heavy}"


def test_viz_imports_graphviz_only_when_drawing():
    loaded = _modules_after("import viz")
    assert "graphviz" not in loaded
    assert "matplotlib" not in loaded


def test_console_script_points_at_cli_main():
    try:
        dist = metadata.distribution("tinygrad-rnn")
    except metadata.PackageNotFoundError:
        pytest.fail("tinygrad-rnn is not installed: run pip install -e '.[test]'")
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
    assert scripts.get("tinygrad-rnn") == "cli:main"


def test_runtime_dependencies_include_a_layout_engine():
    requires = metadata.requires("tinygrad-rnn") or []
    # "graphviz>=0.20" -> "graphviz"; requirements of extras carry a marker and are left out
    names = {re.split(r"[\s;\[<>=!~]", r, maxsplit=1)[0] for r in requires if "extra" not in r}
    assert {"numpy", "click", "graphviz", "graphviz-pure"} <= names
