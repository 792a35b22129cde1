"""The trained-model views through the CLI: --load on render/bptt/step, connectivity, gates,
plot, and train's --sample-every / --eval-every lines."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from tinygrad_rnn.tasks import TASKS
from tinygrad_rnn.train import Run, make_config

TEXT = "to be or not to be, that is the question. " * 30
NEW_COMMANDS = ("connectivity", "gates", "plot")


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """Checkpoints of small (one-step) models, written once per module: name -> path."""
    folder = tmp_path_factory.mktemp("ckpts")
    corpus = folder / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    made = {}

    def get(name, **options):
        if name not in made:
            task = options.pop("task", name)
            extra = {"text": str(corpus)} if task == "text" else {}
            config = {"hidden": 5, "embed": 4, "eval_batch": 8, "steps": 1, **options, **extra}
            run = Run(make_config(task=task, **config))
            run.fit()
            made[name] = str(run.save(folder / f"{name}.npz"))
        return made[name]

    return get


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_render_load_draws_the_trained_model_with_its_tokens(ckpt, tmp_path):
    out = tmp_path / "g.dot"
    result = invoke("render", "--load", ckpt("text"), "--input", "to be", "-o", out)
    assert result.exit_code == 0, result.output
    dot = out.read_text()
    for t, token in enumerate(["'t'", "'o'", "' '", "'b'"]):
        assert f"x_{t} {token}" in dot
    assert "trained text LSTM" in dot


@pytest.mark.parametrize("name", ["copy", "generate", "adding", "intent"])
def test_render_and_step_load_any_task(ckpt, tmp_path, name):
    options = {"length": 5} if name in ("copy", "adding") else {}
    path = ckpt(name, **options)
    result = invoke("render", "--load", path, "--sample", 2, "-o", tmp_path / "g.dot")
    assert result.exit_code == 0, result.output
    result = invoke("step", "--load", path, "--sample", 2, "--commands", "n 2; w; q")
    assert result.exit_code == 0 and "step 2/" in result.output, result.output


def test_bptt_load_reports_the_trained_model(ckpt):
    path = ckpt("echo", length=7)
    result = invoke("bptt", "--load", path, "--sample", 1, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert len(report["rows"]) == 7 and report["sum_check_error"] < 1e-12
    result = invoke("bptt", "--load", ckpt("copy", length=5))
    assert result.exit_code == 1 and "use render or step" in result.output


def test_render_load_highlights_a_path_to_an_input(ckpt, tmp_path):
    path = ckpt("echo", length=7)
    out = tmp_path / "g.dot"
    result = invoke("render", "--load", path, "--input", "1 2 3 4 5 6 7", "--highlight",
                    "E_6:x_1 2", "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    result = invoke("step", "--load", path, "--input", "1 2 3 4 5 6 7", "--commands",
                    "b 'x_1 2'; c; p 'x_1 2'; q")  # fmt: skip
    assert result.exit_code == 0 and "x_1 2" in result.output, result.output


def test_load_options_clash_and_need_load(ckpt):
    result = invoke("render", "--load", ckpt("echo", length=7), "--cell", "gru")
    assert result.exit_code == 1 and "--cell" in result.output and "Traceback" not in result.output
    result = invoke("bptt", "--sample", 3)
    assert result.exit_code == 1 and "add --load" in result.output


def test_connectivity_json_is_the_matrix_and_the_inputs(ckpt):
    result = invoke("connectivity", "--load", ckpt("echo", length=7), "--input", "1 2 3 4 5 6 7")
    assert result.exit_code == 0 and "t \\ k" in result.output, result.output
    result = invoke(
        "connectivity", "--load", ckpt("echo", length=7), "--input", "1 2 3 4 5 6 7", "--json"
    )
    data = json.loads(result.output)
    assert set(data) == {"matrix", "inputs"} and data["inputs"] == list("1234567")
    matrix = np.array(data["matrix"])
    assert matrix.shape == (7, 7) and (matrix[np.triu_indices(7, 1)] == 0).all()


def test_connectivity_compare_and_picture(ckpt, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "both.png"
    a, b = ckpt("echo", length=7), ckpt("echo_gru", task="echo", length=7, cell="gru")
    result = invoke("connectivity", "--load", a, "--compare", b, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 2 and out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("cell", "keys"), [("lstm", "ifoch"), ("gru", "rznh"), ("rnn", "h")])
def test_gates_json_keys_are_exactly_the_cells(ckpt, tmp_path, cell, keys):
    path = ckpt(f"echo_{cell}", task="echo", length=7, cell=cell)
    result = invoke("gates", "--load", path, "--sample", 0, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == [*keys, "inputs"]
    assert all(np.array(data[k]).shape == (5, 7) for k in keys)


def test_gates_picture(ckpt, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "gates.png"
    result = invoke("gates", "--load", ckpt("text"), "--input", "to be or", "-o", out)
    assert result.exit_code == 0 and out.read_bytes()[:4] == b"\x89PNG", result.output


@pytest.mark.parametrize("command", ["connectivity", "gates", "render", "bptt", "step"])
def test_views_errors_are_one_line(ckpt, tmp_path, command):
    missing = invoke(command, "--load", tmp_path / "nothere.npz")
    assert missing.exit_code != 0 and "does not exist" in missing.output
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    result = invoke(command, "--load", other)
    assert result.exit_code == 1 and "not a tinygrad_rnn checkpoint" in result.output
    result = invoke(command, "--load", ckpt("echo", length=7), "--input", "1 2 banana 3 4 5 6")
    assert result.exit_code == 1 and "banana" in result.output
    for r in (missing, result):
        assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1


def test_connectivity_refuses_a_generate_model(ckpt):
    result = invoke("connectivity", "--load", ckpt("generate"))
    assert result.exit_code == 1 and "needs an input sequence" in result.output


@pytest.mark.parametrize("command", NEW_COMMANDS)
def test_new_commands_help_has_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Example" in result.output
    assert f"tinygrad-rnn {command} " in result.output


def test_plot_reads_the_logs_of_every_task(tmp_path):
    pytest.importorskip("matplotlib")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    logs = []
    for task in TASKS:
        log = tmp_path / f"{task}.jsonl"
        args = ["train", "--task", task, "--steps", 2, "--hidden", 4, "--embed", 4]
        args += ["--batch", 4, "--eval-batch", 8, "--eval-every", 1, "--log", log]
        if task in ("adding", "adding1997", "sine", "echo", "copy", "reverse", "text"):
            args += ["--length", 6 if task != "echo" else 7]
        if task == "text":
            args += ["--text", corpus]
        assert invoke(*args).exit_code == 0
        logs.append(log)
    out = tmp_path / "all.png"
    result = invoke("plot", *logs, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    for task in TASKS:
        assert f"{task}: 2 steps" in result.output
    record = json.loads((tmp_path / "adding.jsonl").read_text().splitlines()[-1])
    assert record["metric"] == "MSE" and record["baseline"] == pytest.approx(1 / 6)


def test_plot_bad_log_is_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("hello\n")
    result = invoke("plot", bad, "-o", tmp_path / "x.png")
    assert result.exit_code == 1 and "line 1" in result.output and "Traceback" not in result.output


def test_train_prints_samples_and_evaluations(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    args = ["train", "--task", "text", "--text", corpus, "--length", 6, "--steps", 4]
    args += ["--hidden", 4, "--batch", 4, "--eval-batch", 8]
    result = invoke(*args, "--sample-every", 2, "--eval-every", 2)
    assert result.exit_code == 0, result.output
    assert "step 2: test bits/char" in result.output and "step 4: test bits/char" in result.output
    samples = [line for line in result.output.splitlines() if line.startswith("step 2: '")]
    assert len(samples) == 1 and len(samples[0]) > 20
    spelled = invoke("train", "--task", "generate", "--steps", 2, "--hidden", 4, "--batch", 4,
                     "--eval-batch", 8, "--sample-every", 1)  # fmt: skip
    assert spelled.exit_code == 0 and "step 1: zero -> " in spelled.output
    refused = invoke("train", "--task", "sine", "--steps", 1, "--sample-every", 1)
    assert refused.exit_code == 1 and "text and generate" in refused.output
