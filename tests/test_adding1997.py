"""adding1997 is Hochreiter & Schmidhuber's Experiment 4, rule by rule, with its success
test (wrong_fraction) and its stopping criterion."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from tinygrad_rnn.tasks import make_task
from tinygrad_rnn.train import Run, make_config


@settings(max_examples=25, deadline=None)
@given(T=st.integers(22, 300), batch=st.integers(1, 64), seed=st.integers(0, 10**6))
def test_every_sequence_follows_the_papers_rules(T, batch, seed):
    task = make_task("adding1997", length=T)
    data = task.batch(batch, seed)
    L = data.x.shape[0]
    assert data.x.shape == (L, batch, 2) and data.y.shape == (batch, 1)
    assert T <= L <= T + T // 10
    values, markers = data.x[..., 0], data.x[..., 1]
    assert np.all((values >= -1) & (values <= 1))
    assert set(np.unique(markers)) <= {-1.0, 0.0, 1.0}
    for b in range(batch):
        m, v = markers[:, b], values[:, b]
        marked = np.flatnonzero(m == 1.0)
        assert len(marked) == 2  # exactly two pairs marked 1
        assert marked[0] < 10  # one among the first ten
        assert marked[1] < T // 2 - 1  # the other among the first T/2 - 1
        assert m[0] == (1.0 if 0 in marked else -1.0)  # first pair: -1 unless marked
        assert m[-1] == -1.0  # the final pair: -1
        assert np.all(m[1:-1][~np.isin(np.arange(1, L - 1), marked)] == 0.0)
        if 0 in marked:
            assert v[0] == 0.0  # the very first pair marked: X1 = 0
        x1, x2 = v[marked]
        assert data.y[b, 0] == pytest.approx(0.5 + (x1 + x2) / 4.0, abs=1e-15)
        assert 0.0 <= data.y[b, 0] <= 1.0


def test_both_marker_orders_and_lengths_all_occur():
    task = make_task("adding1997", length=40)
    lengths = {task.batch(1, s).x.shape[0] for s in range(200)}
    assert lengths == set(range(40, 45))  # every length in [T, T + T/10]
    data = task.batch(4000, 7)
    first = np.argmax(data.x[..., 1] == 1.0, axis=0)
    assert np.mean(first == 0) > 0.05  # the first pair gets marked now and then


def test_baseline_is_the_mse_of_predicting_one_half():
    task = make_task("adding1997", length=30)
    data = task.batch(200_000, 1)
    empirical = float(np.mean((data.y - 0.5) ** 2))
    assert task.baseline == pytest.approx(empirical, rel=0.01)
    assert task.score(np.full(data.y.shape, 0.5), data) == pytest.approx(task.baseline, rel=0.01)


def test_wrong_fraction_counts_errors_of_at_least_0_04():
    task = make_task("adding1997", length=30)
    data = task.batch(8, 0)
    offsets = np.array([0.0, 0.01, -0.039, 0.0399, 0.04, -0.05, 0.3, -1.0])[:, None]
    found = task.extra_metrics(data.y + offsets, data)
    assert found == {"wrong_fraction": pytest.approx(4 / 8)}
    assert task.extra_metrics(data.y, data)["wrong_fraction"] == 0.0


def test_stopping_criterion_needs_2000_recent_sequences_all_right_and_low_error():
    run = Run(make_config(task="adding1997", length=22, hidden=4, batch=4, steps=1))
    assert run.stopping_criterion()["holds"] is False  # nothing trained yet
    run.recent_errors = np.full(2000, 0.03)
    assert run.stopping_criterion() == {
        "holds": True,
        "sequences": 2000,
        "wrong": 0,
        "mse": pytest.approx(0.0009),
    }
    run.recent_errors[5] = 0.04
    assert run.stopping_criterion()["holds"] is False
    assert "does not hold" in run.stopping_line()
    run.recent_errors = np.full(1999, 0.0)
    assert "not reached" in run.stopping_line()
    assert Run(make_config(task="adding", length=10, hidden=4, steps=1)).stopping_line() is None


def test_train_logs_wrong_fraction_and_ends_with_the_stopping_criterion(tmp_path):
    log = tmp_path / "run.jsonl"
    args = ["train", "--task", "adding1997", "--length", "22", "--hidden", "4", "--steps", "4"]
    args += ["--batch", "8", "--eval-every", "2", "--eval-batch", "64", "--log", str(log)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("1997 stopping criterion")
    records = [json.loads(line) for line in log.read_text().splitlines()]
    evals = [r for r in records if "eval" in r]
    assert [r["step"] for r in evals] == [2, 4]
    assert all(0.0 <= r["wrong_fraction"] <= 1.0 for r in evals)
    # the trainer's own error window holds what it saw: 4 batches of 8
    run = Run(make_config(task="adding1997", length=22, hidden=4, batch=8, steps=4))
    run.fit()
    assert len(run.recent_errors) == 32
