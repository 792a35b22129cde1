"""'beats the baseline' only when the margin is larger than the evaluation's noise."""

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from tinygrad_rnn.tasks import make_task


def one_hot_logits(tokens, n):
    return np.eye(n)[tokens] * 5.0


@settings(max_examples=15, deadline=None)
@given(
    name=st.sampled_from(["echo", "copy", "adding", "sine", "tagging", "intent", "text"]),
    batch=st.integers(2, 40),
    seed=st.integers(0, 1000),
)
def test_standard_error_is_the_spread_of_per_sequence_scores(name, batch, seed):
    task = make_task(name)
    data = task.batch(batch, seed)
    rng = np.random.default_rng(seed)
    if task.output == "float":
        prediction = data.y + rng.normal(size=data.y.shape)
    else:
        prediction = rng.normal(size=data.y.shape + (task.n_out,))
    sums, counts = task.score_parts(prediction, data)
    assert sums.shape == counts.shape == (batch,)
    assert sums.sum() / counts.sum() == pytest.approx(task.score(prediction, data), rel=1e-12)
    error = task.standard_error(prediction, data)
    if np.all(counts == counts[0]):
        expected = np.std(sums / counts, ddof=1) / np.sqrt(batch)
        assert error == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert error >= 0


def test_chance_is_at_the_baseline_and_real_skill_beats_it():
    task = make_task("echo", length=20)
    data = task.batch(512, 0)
    rng = np.random.default_rng(1)
    guess = one_hot_logits(rng.integers(1, task.n_out, size=data.y.shape), task.n_out)
    metric, error = task.score(guess, data), task.standard_error(guess, data)
    assert abs(metric - task.baseline) < 3 * error  # a guess is chance
    assert task.compare(metric, error) == "at"
    # a hair above chance, but well inside the noise: the 0.1264 against 0.125
    assert task.compare(task.baseline + 0.0014, 0.0037) == "at"
    perfect = one_hot_logits(data.y, task.n_out)
    assert task.compare(task.score(perfect, data), task.standard_error(perfect, data)) == "beats"
    wrong = one_hot_logits(np.zeros_like(data.y), task.n_out)  # token 0 is never a symbol
    assert task.compare(task.score(wrong, data), task.standard_error(wrong, data)) == "worse"
    adding = make_task("adding")
    assert adding.compare(0.16, 0.01) == "at" and adding.compare(0.01, 0.001) == "beats"


def test_train_cli_does_not_call_chance_beating_the_baseline():
    result = CliRunner().invoke(
        main,
        ["train", "--task", "echo", "--length", "8", "--steps", "2", "--batch", "4"]
        + ["--hidden", "4", "--eval-batch", "64"],
    )
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert "standard error over 64 sequences" in last
    assert "at the baseline (chance)" in last and "beats" not in last
