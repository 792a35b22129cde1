"""`tinygrad-rnn train` and `sample` through click's CliRunner, with tiny budgets."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from cli import main
from tinygrad_rnn.tasks import TASKS

TEXT = "to be or not to be, that is the question. " * 30

# a few steps per task, sized so that the loss clearly falls within them
BUDGET = {
    "adding": ["--length", "10", "--steps", "25", "--hidden", "8"],
    "adding1997": ["--length", "10", "--steps", "25", "--hidden", "8"],
    "copy": ["--length", "4", "--steps", "25", "--hidden", "16", "--lr", "0.03"],
    "reverse": ["--length", "4", "--steps", "25", "--hidden", "16", "--lr", "0.03"],
    # echo must first learn to hold a symbol for 5 steps: a slower start
    "echo": ["--length", "8", "--steps", "60", "--hidden", "16", "--lr", "0.05"],
    "intent": ["--steps", "25", "--hidden", "16", "--lr", "0.03"],
    "tagging": ["--steps", "25", "--hidden", "16", "--lr", "0.03"],
    "generate": ["--steps", "25", "--hidden", "16", "--lr", "0.03"],
    "sine": ["--length", "12", "--steps", "25", "--hidden", "8"],
    "text": ["--length", "12", "--steps", "25", "--hidden", "16", "--lr", "0.03"],
}


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return str(path)


def _train(args, tmp_path, name="log.jsonl"):
    log = tmp_path / name
    result = CliRunner().invoke(
        main, ["train", *args, "--batch", "8", "--eval-batch", "32", "--log", str(log)]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in log.read_text().splitlines()]
    return result, records


def test_train_budget_covers_every_task():
    assert set(BUDGET) == set(TASKS)


@pytest.mark.parametrize("task", list(TASKS))
def test_train_each_task_loss_decreases(task, tmp_path, text_file):
    args = ["--task", task, *BUDGET[task]]
    if task == "text":
        args += ["--text", text_file]
    result, records = _train(args, tmp_path)
    steps = int(args[args.index("--steps") + 1])
    assert [r["step"] for r in records] == list(range(1, steps + 1))
    assert all({"step", "loss", "grad_norm", "clipped"} <= set(r) for r in records)
    losses = [r["loss"] for r in records]
    assert np.mean(losses[-5:]) < 0.9 * np.mean(losses[:5])
    assert "vs baseline" in result.output and f"{steps} steps in" in result.output


def test_train_clip_counts_and_logs_clipped_steps(tmp_path):
    args = ["--task", "sine", "--length", "10", "--steps", "6", "--hidden", "8", "--clip", "0.01"]
    result, records = _train(args, tmp_path)
    assert all(r["clipped"] and r["grad_norm"] > 0.01 for r in records)
    assert "6 clipped" in result.output


def test_train_reports_divergence_and_clipping_cures_it(tmp_path):
    args = ["--task", "sine", "--length", "40", "--cell", "rnn", "--activation", "linear"]
    args += ["--radius", "1.5", "--optim", "sgd", "--lr", "0.05", "--steps", "20", "--hidden", "8"]
    result, records = _train(args, tmp_path)
    assert "diverged at step" in result.output
    assert records[-1]["loss"] is None or records[-1]["grad_norm"] is None
    result, records = _train([*args, "--clip", "1.0"], tmp_path, "clipped.jsonl")
    assert "diverged" not in result.output and len(records) == 20


def test_train_resume_continues_the_same_run(tmp_path):
    common = ["--task", "sine", "--length", "10", "--hidden", "6", "--k1", "3", "--k2", "5"]
    _, straight = _train([*common, "--steps", "8", "--seed", "3"], tmp_path, "straight.jsonl")
    ckpt = str(tmp_path / "half.npz")
    _, first = _train([*common, "--steps", "4", "--seed", "3", "--save", ckpt], tmp_path, "a.jsonl")
    result, rest = _train(["--load", ckpt, "--steps", "8"], tmp_path, "b.jsonl")
    assert "resuming" in result.output and "at step 4 of 8" in result.output
    assert first + rest == straight


def test_train_bad_checkpoint_is_one_line_and_loses_nothing(tmp_path):
    ckpt = tmp_path / "run.npz"
    runner = CliRunner()
    ok = runner.invoke(
        main,
        [
            "train",
            "--task",
            "sine",
            "--length",
            "8",
            "--hidden",
            "4",
            "--steps",
            "2",
            "--save",
            str(ckpt),
        ],
    )
    assert ok.exit_code == 0, ok.output
    saved = ckpt.read_bytes()
    # a model option that contradicts the checkpoint
    result = runner.invoke(
        main, ["train", "--load", str(ckpt), "--hidden", "9", "--save", str(ckpt)]
    )
    assert result.exit_code == 1
    assert "does not match --hidden 9 (it was trained with 4)" in result.output
    assert "Traceback" not in result.output
    assert ckpt.read_bytes() == saved
    # a damaged file
    broken = tmp_path / "broken.npz"
    broken.write_bytes(saved[: len(saved) // 3])
    result = runner.invoke(main, ["train", "--load", str(broken), "--save", str(broken)])
    assert result.exit_code == 1 and "not a readable checkpoint" in result.output
    assert broken.read_bytes() == saved[: len(saved) // 3]


def test_train_rejects_bad_options_in_one_line():
    runner = CliRunner()
    result = runner.invoke(main, ["train", "--k1", "5", "--k2", "2"])
    assert result.exit_code == 1 and "1 <= k1 <= k2" in result.output
    result = runner.invoke(main, ["train", "--task", "copy", "--bidirectional", "--steps", "1"])
    assert result.exit_code == 1 and "decodes left to right" in result.output
    result = runner.invoke(main, ["train", "--task", "intent", "--length", "5"])
    assert result.exit_code == 1 and "does not take length" in result.output


def test_train_and_sample_help_have_examples():
    for command in ("train", "sample"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output and "--seed" in result.output


def test_sample_text_and_generate_models(tmp_path, text_file):
    runner = CliRunner()
    text_ckpt = str(tmp_path / "text.npz")
    args = ["train", "--task", "text", "--text", text_file, "--length", "8", "--steps", "3"]
    assert runner.invoke(main, [*args, "--hidden", "8", "--save", text_ckpt]).exit_code == 0
    result = runner.invoke(main, ["sample", "--load", text_ckpt, "--prime", "to be", "-n", "40"])
    assert result.exit_code == 0, result.output
    line = result.output.rstrip("\n")
    assert line.startswith("to be") and len(line) == 45 and set(line) <= set(TEXT)
    again = runner.invoke(main, ["sample", "--load", text_ckpt, "--prime", "to be", "-n", "40"])
    assert again.output == result.output  # same seed, same sample

    spell = str(tmp_path / "spell.npz")
    args = ["train", "--task", "generate", "--steps", "3", "--hidden", "8", "--save", spell]
    assert runner.invoke(main, args).exit_code == 0
    result = runner.invoke(main, ["sample", "--load", spell, "--class", "three", "--class", "one"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [ln.split(" -> ")[0] for ln in lines] == ["three", "one"]

    bad = runner.invoke(main, ["sample", "--load", spell, "--class", "eleven"])
    assert bad.exit_code == 1 and "unknown class 'eleven'" in bad.output


def test_text_checkpoint_notices_a_changed_text(tmp_path, text_file, monkeypatch):
    runner = CliRunner()
    ckpt = str(tmp_path / "text.npz")
    args = ["train", "--task", "text", "--text", text_file, "--length", "8", "--steps", "1"]
    assert runner.invoke(main, [*args, "--hidden", "4", "--save", ckpt]).exit_code == 0
    monkeypatch.chdir(tmp_path.parent)  # the stored path is absolute: any directory works
    assert runner.invoke(main, ["sample", "--load", ckpt, "-n", "5"]).exit_code == 0
    with open(text_file, "a", encoding="utf-8") as f:
        f.write("XYZ")
    result = runner.invoke(main, ["sample", "--load", ckpt, "-n", "5"])
    assert result.exit_code == 1 and "vocabulary is not the one" in result.output


def test_sample_rejects_other_tasks(tmp_path):
    ckpt = str(tmp_path / "adding.npz")
    runner = CliRunner()
    args = ["train", "--task", "adding", "--length", "5", "--steps", "1", "--save", ckpt]
    assert runner.invoke(main, args).exit_code == 0
    result = runner.invoke(main, ["sample", "--load", ckpt])
    assert result.exit_code == 1 and "sample needs a 'text'" in result.output
