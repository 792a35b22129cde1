"""Limits before work: sizes predicted from the options, refused at once; bptt memory linear."""

import tracemalloc

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from tinygrad_rnn import bptt, lecture, limits, topo_order


@settings(max_examples=12, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    steps=st.integers(1, 6),
    layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    loss=st.sampled_from(["last", "all"]),
)
def test_lecture_size_predicts_the_node_count_exactly(cell, steps, layers, bidirectional, loss):
    options = dict(cell=cell, steps=steps, layers=layers, bidirectional=bidirectional, loss=loss)
    predicted = limits.lecture_size(**options)
    run = lecture.build(**options)
    assert predicted.nodes == len(topo_order([run.loss]))


def test_lecture_size_bounds_the_memory_from_above():
    options = dict(cell="gru", steps=12, hidden=32, batch=4)
    predicted = limits.lecture_size(**options)
    tracemalloc.start()
    run = lecture.build(**options)
    run.loss.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= predicted.bytes <= 10 * peak


@pytest.mark.parametrize(
    "args, words",
    [
        (["render", "--steps", "20000", "-o", "x.svg"], "about 200,015 nodes (limit --max-nodes"),
        (["render", "--hidden", "100000", "-o", "x.svg"], "GB of memory"),
        (["bptt", "--hidden", "100000"], "of memory"),
        (["bptt", "--steps", "20000", "--hidden", "64"], "walks of 80,011 nodes"),
        (["step", "--steps", "200000", "--commands", "q"], "800,011 nodes (limit 400,000)"),
        (["train", "--hidden", "100000"], "training this model would need up to"),
        (["train", "--batch", "1000000", "--hidden", "64"], "use a smaller --hidden"),
    ],
)
def test_too_large_is_refused_at_once_with_the_numbers(args, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)  # refused before building: ~0.1 s
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert words in result.stderr and "limit" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_memory_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(limits.MEMORY_ENV, "1000")
    with pytest.raises(limits.TooLarge, match=r"limit 1.0 kB"):
        limits.check(limits.lecture_size(steps=4), "the model", "smaller")
    monkeypatch.setenv(limits.MEMORY_ENV, "lots")
    with pytest.raises(ValueError, match="TINYGRAD_RNN_MAX_MEMORY must be a number"):
        limits.memory_limit()


def _bptt_peak(steps):
    run = lecture.build("rnn", steps=steps)
    tracemalloc.start()
    bptt.analyze(run)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_bptt_memory_grows_linearly_with_the_steps():
    small, large = _bptt_peak(150), _bptt_peak(600)
    # 4x the steps: linear would be 4x, quadratic 16x
    assert large < 6 * small, (small, large)
