"""`tinygrad-rnn gradcheck` and the CLI's shared error handling."""

import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

import cli
from tinygrad_rnn import AnomalyError, GradcheckError, opcases
from tinygrad_rnn.ops import Op

ROOT = Path(__file__).resolve().parent.parent


def test_cli_gradcheck_prints_the_table_and_exits_0():
    result = CliRunner().invoke(cli.main, ["gradcheck"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["op", "case", "max", "error", "result"]
    rows = [line.split() for line in lines[1 : 1 + len(opcases.CASES)]]
    assert [r[0] for r in rows] == [c.name for c in opcases.CASES]
    assert all(r[2] == "PASS" and float(r[1]) < 1e-5 for r in rows)
    assert f"all {len(opcases.CASES)} op cases pass (seed 0)" in result.stdout


def test_cli_gradcheck_filter_and_list():
    result = CliRunner().invoke(cli.main, ["gradcheck", "-k", "softmax", "--seed", "5"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.stdout.splitlines()[1:] if "PASS" in line]
    assert names and all("softmax" in n for n in names)
    listed = CliRunner().invoke(cli.main, ["gradcheck", "--list", "-k", "getitem_int*"])
    assert listed.stdout.split() == [
        "getitem_int",
        "getitem_int_and_slice",
        "getitem_int_array_repeated",
    ]


def test_cli_gradcheck_no_match_is_a_clear_error():
    result = CliRunner().invoke(cli.main, ["gradcheck", "-k", "no-such-op"])
    assert result.exit_code != 0
    assert "no op case matches 'no-such-op'" in result.stderr
    assert "Traceback" not in result.output


class _Half(Op):
    """z = x^2 with half the right derivative."""

    __slots__ = ("x",)
    name = "half_square"

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, grad_out):
        return (grad_out * self.x,)


def test_cli_gradcheck_failure_exits_1_with_the_worst_elements(monkeypatch):
    broken = opcases.OpCase(
        "broken_square", lambda x: _Half.apply(x), lambda x: x * x, (opcases.P(3),)
    )
    monkeypatch.setattr(opcases, "CASES", [opcases.CASES[0], broken])
    result = CliRunner().invoke(cli.main, ["gradcheck"])
    assert result.exit_code == 1
    assert "broken_square" in result.stdout and "FAIL" in result.stdout
    assert "analytic" in result.stdout and "numeric" in result.stdout
    assert "1 of 2 op cases FAILED" in result.stdout


def _group_raising(exc):
    @click.group(cls=cli.Group)
    def group():
        pass

    @group.command()
    def boom():
        raise exc

    @group.command()
    def leave():
        click.get_current_context().exit(3)

    return group


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("matmul: inner sizes differ\n(input shapes (2, 3), (4, 5))"),
        TypeError("bad type"),
        RuntimeError("backward: not a scalar"),
        OSError(2, "No such file or directory"),
        GradcheckError("gradcheck: 3 differ\ntable", []),
        AnomalyError("detect_anomaly: nan"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_cli_library_errors_are_one_line_on_stderr_without_traceback(exc):
    result = CliRunner().invoke(_group_raising(exc), ["boom"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    assert result.stdout == ""
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_error_handler_reports_bugs_in_one_line_and_shows_them_on_request(monkeypatch):
    monkeypatch.delenv("TINYGRAD_RNN_DEBUG", raising=False)
    assert CliRunner().invoke(_group_raising(ValueError()), ["leave"]).exit_code == 3
    bug = CliRunner().invoke(_group_raising(KeyError("bug")), ["boom"])
    assert bug.exit_code == 1 and bug.stderr.count("\n") == 1
    assert "internal error, KeyError: 'bug'" in bug.stderr
    assert "--debug" in bug.stderr and "TINYGRAD_RNN_DEBUG=1" in bug.stderr
    monkeypatch.setenv("TINYGRAD_RNN_DEBUG", "1")
    shown = CliRunner().invoke(_group_raising(ValueError("x")), ["boom"])
    assert isinstance(shown.exception, ValueError)


def test_cli_debug_flag_shows_the_traceback(monkeypatch):
    monkeypatch.delenv("TINYGRAD_RNN_DEBUG", raising=False)

    def broken(*args, **kwargs):
        raise KeyError("inside")

    monkeypatch.setattr(opcases, "select", broken)
    quiet = CliRunner().invoke(cli.main, ["gradcheck"])
    assert quiet.exit_code == 1 and "internal error, KeyError" in quiet.stderr
    loud = CliRunner().invoke(cli.main, ["--debug", "gradcheck"])
    assert isinstance(loud.exception, KeyError)


def test_cli_every_command_help_has_an_example_and_a_seed():
    runner = CliRunner()
    assert "Examples:" in runner.invoke(cli.main, ["--help"]).stdout
    for name in cli.main.commands:
        text = runner.invoke(cli.main, [name, "--help"]).stdout
        assert "Example" in text and "tinygrad-rnn " + name in text, name
        assert "--seed" in text, name


def test_cli_runs_as_python_cli_py():
    out = subprocess.run(
        [sys.executable, "cli.py", "gradcheck", "-k", "sqrt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "sqrt" in out.stdout and "PASS" in out.stdout
    assert np.isfinite(float(out.stdout.splitlines()[1].split()[1]))


def test_cli_stops_quietly_when_the_reader_closes_the_pipe():
    # `tinygrad-rnn gradcheck | head -1`: the reader goes away; no "Error: Broken pipe"
    script = (
        "import sys, click, cli\n"
        "def gone(*args, **kwargs):\n"
        "    raise BrokenPipeError(32, 'Broken pipe')\n"
        "click.echo = gone\n"
        "sys.argv = ['tinygrad-rnn', 'gradcheck', '--list']\n"
        "cli.main()\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 141
    assert out.stderr == ""
