"""`tinygrad-rnn bptt`: the table, --json with the issue's fields, sweeps, clipping, errors."""

import json
import os
import re
import shlex
import sys

import pytest
from click.testing import CliRunner

from cli import main

DOCS = os.path.join(os.path.dirname(__file__), "..", "docs", "bptt.md")
ROW_FIELDS = {
    "k",
    "grad_norm",
    "jacobian_norm",
    "bound",
    "contribution_norm",
    "contribution_share",
    "input_grad_norm",
}
TOP_FIELDS = {
    "rows",
    "sum_check_error",
    "rate",
    "verdict",
    "cell",
    "steps",
    "radius",
    "sigma_max",
    "spectral_radius",
}


def bptt(*args):
    return CliRunner().invoke(main, ["bptt", *args])


def test_bptt_cli_table_has_one_row_per_step_and_a_summary():
    result = bptt("--steps", "5", "--radius", "0.9")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("k "))
    for name in ("|dE_T/dh_k|", "|dh_T/dh_k|_2", "bound", "|term_k|", "share"):
        assert name in lines[head]
    assert [line.split()[0] for line in lines[head + 1 : head + 6]] == ["0", "1", "2", "3", "4"]
    assert "max |difference|" in lines[head + 6] and "verdict vanishing" in lines[head + 6]


def test_bptt_cli_json_parses_and_carries_the_fields():
    result = bptt("--json", "--steps", "6", "--activation", "linear", "--radius", "1.5")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == TOP_FIELDS
    assert all(set(row) == ROW_FIELDS for row in report["rows"])
    assert [row["k"] for row in report["rows"]] == list(range(6))
    assert report["verdict"] == "exploding"
    assert report["cell"] == "rnn" and report["steps"] == 6 and report["radius"] == 1.5
    assert report["sigma_max"] == pytest.approx(1.5)
    assert report["rate"] == pytest.approx(1.5)
    assert report["sum_check_error"] < 1e-12
    lstm = json.loads(bptt("--json", "--cell", "lstm").stdout)
    assert all(row["bound"] is None for row in lstm["rows"])


def test_bptt_cli_compare_and_radii_sweep():
    result = bptt("--compare", "rnn,lstm,gru", "--radii", "0.5,1.5", "--steps", "5")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("k "))
    assert header.split()[1:] == [
        "rnn",
        "r=0.5",
        "rnn",
        "r=1.5",
        "lstm",
        "r=0.5",
        "lstm",
        "r=1.5",
        "gru",
        "r=0.5",
        "gru",
        "r=1.5",
    ]
    reports = json.loads(bptt("--compare", "rnn,gru", "--json", "--steps", "5").stdout)
    assert [r["cell"] for r in reports] == ["rnn", "gru"]


def test_bptt_cli_scalar_lists_the_factors_and_the_running_product():
    result = bptt("--scalar", "--steps", "5")
    assert result.exit_code == 0, result.output
    assert "w * f'(a_j)" in result.output
    chain = re.search(r"running product: (.*)", result.output).group(1)
    assert len(chain.split(" -> ")) == 4


def test_bptt_cli_clip_shows_before_and_after():
    result = bptt("--clip", "0.01", "--steps", "5")
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("clip_grad_norm_"))
    assert re.search(r"-> 1\.00e-02", line)


def test_bptt_cli_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "decay.png"
    result = bptt("--compare", "rnn,lstm", "--steps", "6", "--plot", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bptt_cli_plot_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    result = bptt("--plot", str(tmp_path / "x.png"))
    assert result.exit_code == 1
    assert "pip install 'tinygrad-rnn[plot]'" in result.output
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--steps", "0"], "--steps must be >= 1, got 0"),
        (["--cell", "transformer"], "--cell must be one of rnn, lstm, gru, got 'transformer'"),
        (["--radius", "0"], "--radius must be > 0"),
        (["--radius", "-1.5"], "--radius must be > 0"),
        (["--compare", "rnn,cnn"], "--compare must be one of rnn, lstm, gru, got 'cnn'"),
        (["--radii", "0.5,x"], "--radii must be a number, got 'x'"),
        (["--loss", "7"], "loss must be"),
        (["--scalar", "--cell", "gru"], "--scalar"),
        (["--direction", "reverse"], "needs a bidirectional model"),
        (["--clip", "-1"], "--clip must be > 0"),
    ],
)
def test_bptt_cli_bad_options_exit_nonzero_with_one_line(args, message):
    result = bptt(*args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]


def transcripts():
    """The `$ tinygrad-rnn bptt ...` blocks of docs/bptt.md: (argv, printed output)."""
    with open(DOCS, encoding="utf-8") as f:
        text = f.read()
    found = []
    for block in re.findall(r"```text\n(\$ tinygrad-rnn bptt\b.*?)```", text, flags=re.S):
        command, _, output = block.partition("\n")
        found.append((shlex.split(command[2:])[1:], output))
    return found


def test_docs_bptt_transcripts_are_what_the_command_prints():
    found = transcripts()
    assert found, "docs/bptt.md shows no `$ tinygrad-rnn bptt` transcript"
    for argv, expected in found:
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 0, result.output
        assert result.output == expected, " ".join(argv)


@pytest.mark.parametrize("option", ["--radius", "--radii"])
def test_bptt_a_radius_too_large_for_a_finite_bound_prints_inf(option):
    """(gamma sigma_max)^(T-k) overflows a float at radius 1e308: the bound is inf, not
    an internal error (found by the CLI fuzzer)."""
    result = CliRunner().invoke(main, ["bptt", "--cell", "rnn", option, "1e308"])
    assert result.exit_code == 0, result.output
    assert " inf " in result.output and "verdict" in result.output


def test_bptt_geometric_bound_overflows_to_inf():
    from tinygrad_rnn.analysis.bptt import geometric

    assert geometric(0.5, 3) == 0.125 and geometric(1e308, 1) == 1e308
    assert geometric(1e308, 2) == float("inf") and geometric(1e-308, 2) == 0.0
