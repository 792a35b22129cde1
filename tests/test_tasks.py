"""Synthetic tasks: shapes as described, seeds reproducible, baselines computed correctly."""

import math

import numpy as np
import pytest

from tinygrad_rnn.tasks import TASKS, make_task

TEXT = "the quick brown fox jumps over the lazy dog. " * 20


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def _make(name, text_file):
    return make_task(name, path=text_file) if name == "text" else make_task(name)


def _arrays(batch):
    return [a for a in (batch.x, batch.y, batch.mask, batch.y_in) if a is not None]


@pytest.mark.parametrize("name", list(TASKS))
def test_task_batch_shapes_match_description(name, text_file):
    task = _make(name, text_file)
    B = 5
    batch = task.batch(B, seed=0)
    T = getattr(task, "length", None)
    if name == "adding1997":  # the 1997 task's length is random in [T, T + T/10]
        assert T <= batch.x.shape[0] <= T + T // 10
        T = batch.x.shape[0]
    if task.input == "float":
        assert batch.x.shape == (T, B, task.n_in) and batch.x.dtype == np.float64
    elif task.input == "tokens":
        assert batch.x.shape == (T, B) and batch.x.dtype.kind == "i"
        assert 0 <= batch.x.min() and batch.x.max() < task.n_in
    else:
        assert batch.x.shape == (B,) and batch.x.max() < task.n_in
    expected_y = ((T,) if task.per_step else ()) + (B,)
    if task.output == "float":
        assert batch.y.shape == expected_y + (task.n_out,)
    else:
        assert batch.y.shape == expected_y and batch.y.dtype.kind == "i"
        assert 0 <= batch.y.min() and batch.y.max() < task.n_out
    if batch.mask is not None:
        assert batch.mask.shape == batch.y.shape and batch.mask.dtype == bool
    if batch.y_in is not None:
        assert batch.y_in.shape == batch.y.shape
    described = task.describe()
    assert set(described) == {"task", "shape", "input", "output", "metric", "baseline"}
    assert described["shape"] in ("N-vs-1", "N-vs-N", "N-vs-M", "1-vs-N")


@pytest.mark.parametrize("name", list(TASKS))
def test_task_seed_reproducible(name, text_file):
    task = _make(name, text_file)
    a, b, c = task.batch(16, 3), task.batch(16, 3), task.batch(16, [3, 1])
    for x, y in zip(_arrays(a), _arrays(b)):
        np.testing.assert_array_equal(x, y)
    assert not all(np.array_equal(x, y) for x, y in zip(_arrays(a), _arrays(c)))
    # a task rebuilt from its config makes the same data
    again = make_task(**task.config())
    for x, y in zip(_arrays(a), _arrays(again.batch(16, 3))):
        np.testing.assert_array_equal(x, y)


def test_adding_two_markers_one_per_half_and_target_is_their_sum():
    task = make_task("adding", length=20)
    batch = task.batch(500, seed=1)
    values, markers = batch.x[..., 0], batch.x[..., 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    np.testing.assert_array_equal(markers.sum(axis=0), 2.0)
    np.testing.assert_array_equal(markers[:10].sum(axis=0), 1.0)
    assert values.min() >= 0.0 and values.max() < 1.0
    np.testing.assert_allclose(batch.y[:, 0], (values * markers).sum(axis=0))


def test_adding_baseline_is_one_sixth():
    task = make_task("adding", length=10)
    assert task.baseline == pytest.approx(1 / 6)
    batch = task.batch(200_000, seed=2)
    # always predicting 1: the MSE is Var(u_a + u_b) = 1/6, within sampling error
    constant = task.score(np.ones_like(batch.y), batch)
    assert constant == pytest.approx(1 / 6, abs=0.003)
    # and 1 is the best constant: the mean of the target
    assert batch.y.mean() == pytest.approx(1.0, abs=0.005)


@pytest.mark.parametrize("name", ["copy", "reverse"])
def test_copy_and_reverse_targets(name):
    task = make_task(name, length=6, n_symbols=5)
    batch = task.batch(50, seed=0)
    expected = batch.x[::-1] if name == "reverse" else batch.x
    np.testing.assert_array_equal(batch.y, expected)
    np.testing.assert_array_equal(batch.y_in[1:], batch.y[:-1])
    assert (batch.y_in[0] == 0).all() and batch.x.min() >= 1
    assert task.baseline == pytest.approx(1 / 5)
    guess = np.random.default_rng(0).integers(1, 6, size=(6, 20000))
    big = task.batch(20000, seed=1)
    assert np.mean(guess == big.y) == pytest.approx(task.baseline, abs=0.01)


def test_echo_target_is_the_input_delay_steps_earlier():
    task = make_task("echo", length=10, delay=3, n_symbols=5)
    batch = task.batch(40, seed=0)
    np.testing.assert_array_equal(batch.y[3:], batch.x[:-3])
    assert not batch.mask[:3].any() and batch.mask[3:].all()
    assert task.baseline == pytest.approx(1 / 5)
    with pytest.raises(ValueError, match="length must be an integer >= 4"):
        make_task("echo", length=3, delay=3)


def test_intent_sentences_and_baseline():
    task = make_task("intent")
    assert "ask_time" in task.intents and len(task.intents) >= 4
    ids = task.encode("what time is it")
    rows = {tuple(r) for r in task.table[task.offsets[0] : task.offsets[0] + task.counts[0]]}
    assert tuple(ids) in rows  # the lecture's example is an ask_time sentence
    batch = task.batch(20000, seed=0)
    # left padding: the last step always holds a word
    assert (batch.x[-1] != 0).all()
    majority = np.bincount(batch.y).max() / batch.y.size
    assert task.baseline == pytest.approx(majority, abs=0.01)
    assert task.decode(task.encode("Hello how are you")) == "hello how are you"
    with pytest.raises(ValueError, match="unknown words"):
        task.encode("what is love")


def test_tagging_mask_ambiguity_and_baseline():
    task = make_task("tagging")
    batch = task.batch(20000, seed=0)
    assert (batch.x[batch.mask] != 0).all() and (batch.x[~batch.mask] == 0).all()
    # the mask is a prefix of every column (words first, padding after)
    assert (np.diff(batch.mask.astype(int), axis=0) <= 0).all()
    book = task.vocab.index("book")
    tags = set(batch.y[batch.mask & (batch.x == book)])
    assert tags == {task.tags.index("NOUN"), task.tags.index("VERB")}
    # recompute the per-word-majority baseline independently, with a loop over words
    fit = task.batch(20000, seed=5)
    correct = 0
    for w in range(1, len(task.vocab)):
        seen = fit.y[fit.mask & (fit.x == w)]
        best = np.bincount(seen, minlength=len(task.tags)).argmax()
        correct += np.sum(batch.y[batch.mask & (batch.x == w)] == best)
    assert task.baseline == pytest.approx(correct / batch.mask.sum(), abs=0.01)
    assert 0.5 < task.baseline < 1.0


def test_generate_spells_the_class_and_positional_baseline():
    task = make_task("generate")
    batch = task.batch(300, seed=0)
    for b in range(300):
        assert task.decode(batch.y[:, b]) == task.words[batch.x[b]]
        assert batch.mask[:, b].sum() == len(task.words[batch.x[b]]) + 1
    np.testing.assert_array_equal(batch.y_in[1:], batch.y[:-1])
    big = task.batch(50000, seed=1)
    hits = total = 0
    for t in range(task.length):
        tokens = big.y[t][big.mask[t]]
        hits += np.bincount(tokens).max()
        total += tokens.size
    assert task.baseline == pytest.approx(hits / total, abs=0.01)


def test_sine_target_is_next_value_and_persistence_baseline():
    task = make_task("sine", length=30)
    batch = task.batch(4000, seed=0)
    np.testing.assert_array_equal(batch.y[:-1], batch.x[1:])
    persistence = task.score(batch.x, batch)
    assert task.baseline == pytest.approx(persistence, rel=0.05)
    # persistence is beatable: the noise floor sigma^2 is far below it
    assert task.noise**2 < task.baseline / 5


def test_text_round_trip_targets_and_unigram_baseline(text_file):
    task = make_task("text", length=12, path=text_file)
    assert task.decode(task.encode(TEXT)) == TEXT
    batch = task.batch(64, seed=0)
    np.testing.assert_array_equal(batch.y[:-1], batch.x[1:])
    counts = {c: TEXT.count(c) for c in set(TEXT)}
    entropy = -sum(n / len(TEXT) * math.log2(n / len(TEXT)) for n in counts.values())
    assert task.baseline == pytest.approx(entropy, rel=1e-12)
    V = len(task.vocab)
    assert task.score(np.zeros((12, 64, V)), batch) == pytest.approx(math.log2(V))
    # logits = log unigram frequencies score the unigram entropy on a large sample
    freq = np.array([counts[c] for c in task.vocab]) / len(TEXT)
    big = task.batch(20000, seed=1)
    logits = np.broadcast_to(np.log(freq), big.y.shape + (V,))
    assert task.score(logits, big) == pytest.approx(task.baseline, rel=0.01)


def test_text_default_ships_inside_the_package():
    from pathlib import Path

    import tinygrad_rnn
    from tinygrad_rnn.tasks.language import TextTask, default_text_path

    package = Path(tinygrad_rnn.__file__).resolve().parent
    assert default_text_path().parent.parent == package and default_text_path().is_file()
    task = TextTask(length=8)
    assert task.path == str(default_text_path()) and len(task.vocab) > 20


def test_make_task_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="unknown task 'adder'.*adding"):
        make_task("adder")
    with pytest.raises(ValueError, match="does not take length"):
        make_task("intent", length=10)
    with pytest.raises(ValueError, match="length must be an integer >= 2"):
        make_task("adding", length=1)
    with pytest.raises(FileNotFoundError, match="no such file"):
        make_task("text", path=tmp_path / "missing.txt")
    short = tmp_path / "short.txt"
    short.write_text("abc")
    with pytest.raises(ValueError, match="fewer than length"):
        make_task("text", path=short, length=8)
    # options given as None take the defaults (what the CLI passes for unset flags)
    assert make_task("adding", length=None).length == 50
