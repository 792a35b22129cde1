"""Packaging and layering: the console script, and imports that point one way only."""

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

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


def _build_wheel(tmp_path):
    """Build the project's wheel from a copy of its sources (the checkout stays clean)."""
    import shutil

    root = Path(__file__).resolve().parent.parent
    src = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in ("tinygrad_rnn", "viz"):
        shutil.copytree(root / name, src / name, ignore=skip)
    for name in ("pyproject.toml", "README.md", "cli.py", "cli_types.py"):
        shutil.copy(root / name, src / name)
    out = tmp_path / "wheel"
    base = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(src)]
    # without build isolation when the installed setuptools can (fast, offline); else isolated
    for command in (base[:5] + ["--no-build-isolation"] + base[5:], base):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode == 0:
            return next(out.glob("*.whl")), root
    pytest.fail(f"pip wheel failed:\n{done.stderr[-2000:]}")


def test_wheel_holds_every_module_the_default_text_and_one_version(tmp_path):
    import zipfile

    import tinygrad_rnn

    wheel, root = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {
        str(p.relative_to(root)).replace("\\", "/")
        for folder in ("tinygrad_rnn", "viz")
        for p in (root / folder).rglob("*")
        if p.suffix in (".py", ".txt", ".html", ".css", ".js") and "__pycache__" not in p.parts
    }
    missing = sorted(sources - names)
    assert not missing, f"not in the wheel: {missing}"
    assert {"cli.py", "cli_types.py", "tinygrad_rnn/data/text.txt"} <= names
    dist = f"tinygrad_rnn-{tinygrad_rnn.__version__}.dist-info"
    metadata = zipfile.ZipFile(wheel).read(f"{dist}/METADATA").decode()
    assert f"\nVersion: {tinygrad_rnn.__version__}\n" in metadata
    entry_points = zipfile.ZipFile(wheel).read(f"{dist}/entry_points.txt").decode()
    assert "tinygrad-rnn = cli:main" in entry_points


def test_version_option_prints_the_package_version():
    from click.testing import CliRunner

    import cli
    import tinygrad_rnn

    result = CliRunner().invoke(cli.main, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip().endswith(tinygrad_rnn.__version__)
