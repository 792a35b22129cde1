"""`tinygrad-rnn exercise`: list, show, start, check (exit 0/1, --picture), solution."""

import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from engines import has_engine

from cli import main
from tinygrad_rnn import exercises


def run(*args):
    return CliRunner().invoke(main, ["exercise", *args])


def test_exercise_cli_list_and_show_in_both_languages():
    listed = run("list")
    assert listed.exit_code == 0
    titles = [ln for ln in listed.output.splitlines() if not ln.startswith("    ")]
    assert len(titles) == len(exercises.EXERCISES) >= 10
    zh = run("list", "--lang", "zh")
    assert "LSTM 单步的反向传播" in zh.output
    shown = run("show", "8")
    assert shown.exit_code == 0 and "c = f * c_prev + i * g" in shown.output
    assert "tinygrad-rnn exercise check 8 exercise08_lstm_step.py" in shown.output
    shown_zh = run("show", "8", "--lang", "zh")
    assert "遗忘门" in shown_zh.output and "dc_prev = dc * f" in shown_zh.output


@pytest.mark.parametrize(
    "args", [["show", "0"], ["show", "99"], ["show", "x"], ["list", "--lang", "fr"]]
)
def test_exercise_cli_bad_arguments_are_one_line_usage_errors(args):
    result = run(*args)
    assert result.exit_code == 2
    assert result.output.startswith("Error:") and len(result.output.strip().splitlines()) == 1


def test_exercise_cli_start_check_and_solution(tmp_path):
    mine = tmp_path / "mine.py"
    started = run("start", "3", "-o", str(mine))
    assert started.exit_code == 0 and mine.read_text() == exercises.get(3).starter
    again = run("start", "3", "-o", str(mine))
    assert again.exit_code == 1 and "exists; use --force" in again.output
    failed = run("check", "3", str(mine))
    assert failed.exit_code == 1
    assert "rnn_step_backward: dx is wrong" in failed.output
    assert "index" in failed.output and "expected" in failed.output
    assert "first departs from the true one at time step t=3" in failed.output
    solution = run("solution", "3")
    assert solution.exit_code == 0 and solution.output == exercises.get(3).solution
    assert run("solution", "3", "-o", str(mine), "--force").exit_code == 0
    passed = run("check", "3", str(mine))
    assert passed.exit_code == 0 and passed.output.strip().endswith("correct")


def test_exercise_cli_broken_file_is_one_line_and_exit_1(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("def rnn_step_backward(:\n")
    result = run("check", "3", str(broken))
    assert result.exit_code == 1
    assert "SyntaxError" in result.output and "Traceback" not in result.output
    no_picture = run("check", "3", str(broken), "--picture", str(tmp_path / "b.svg"))
    assert no_picture.exit_code == 1 and "no picture" in no_picture.output
    assert not (tmp_path / "b.svg").exists()
    missing = run("check", "3", str(tmp_path / "nope.py"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_exercise_cli_picture_only_for_unrolled_exercises(tmp_path):
    mine = tmp_path / "mine.py"
    mine.write_text(exercises.get(1).solution)
    result = run("check", "1", str(mine), "--picture", str(tmp_path / "p.svg"))
    assert result.exit_code == 2 and "exercises 3, 8, 9 have" in result.output
    result = run("check", "3", str(mine), "--picture", str(tmp_path / "p.pdf"))
    assert result.exit_code == 2 and "FILE.svg or FILE.png" in result.output
    assert not (tmp_path / "p.svg").exists()


@pytest.mark.skipif(not has_engine(), reason="no Graphviz layout engine")
def test_exercise_cli_picture_draws_both_gradients(tmp_path):
    mine = tmp_path / "mine.py"
    mine.write_text(exercises.get(9).solution.replace("dz = dh_next * (h_prev - n)", "dz = 0 * n"))
    picture = tmp_path / "gru.svg"
    result = run("check", "9", str(mine), "--picture", str(picture))
    assert result.exit_code == 1 and "gate z" in result.output
    text = picture.read_text()
    root = ET.fromstring(text)
    assert len(root.findall("{http://www.w3.org/2000/svg}svg")) == 2
    assert "your gradient" in text and "the true gradient" in text
    assert text.count(">GRUStep<") == 8  # one node per step, in each drawing


@pytest.mark.skipif(not has_engine(), reason="no Graphviz layout engine")
def test_exercise_cli_picture_as_png(tmp_path):
    pytest.importorskip("PIL")
    from PIL import Image

    mine = tmp_path / "mine.py"
    mine.write_text(exercises.get(3).starter)
    picture = tmp_path / "rnn.png"
    result = run("check", "3", str(mine), "--picture", str(picture))
    assert result.exit_code == 1 and picture.exists()
    with Image.open(picture) as image:
        assert image.width > 2 * image.height  # two unrolled graphs, side by side


def test_exercise_picture_scale_covers_every_step_share():
    import math

    from viz.style import grad_norm, shared_range

    path_result = exercises.check(3, _solution_file(3))
    lo, hi = shared_range(path_result.graphs)
    for root in path_result.graphs:
        step_nodes = [n for n in _nodes(root) if n.op is not None and n.op.name == "RNNStep"]
        shares = [grad_norm(g) for n in step_nodes for g in n.edge_grads() if g is not None]
        assert all(10**lo <= s <= 10**hi for s in shares if s and math.isfinite(s))


def _nodes(root):
    from tinygrad_rnn import topo_order

    return topo_order([root])


def _solution_file(number):
    import tempfile

    folder = tempfile.mkdtemp()
    path = f"{folder}/solution.py"
    with open(path, "w") as f:
        f.write(exercises.get(number).solution)
    return path


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_exercise_start_file_respects_the_umask(tmp_path, umask):
    import os

    previous = os.umask(umask)
    try:
        path = exercises.write_file(1, str(tmp_path / "e1.py"))
    finally:
        os.umask(previous)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
