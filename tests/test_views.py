"""Trained-model views (tinygrad_rnn.analysis): a model on a real input, connectivity, gates."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_rnn import jacobian
from tinygrad_rnn.analysis import connectivity as conn
from tinygrad_rnn.analysis import gates as gates_mod
from tinygrad_rnn.analysis import trained as trained_mod
from tinygrad_rnn.analysis.runlog import read_log
from tinygrad_rnn.train import Run, make_config

TEXT = "to be or not to be, that is the question. " * 30


def _run(task, tmp_path_factory=None, **options):
    """A small untrained model of `task` (the views read any model; training is not needed
    for their exact properties)."""
    extra = {}
    if task == "text":
        path = tmp_path_factory.mktemp("text") / "corpus.txt"
        path.write_text(TEXT, encoding="utf-8")
        extra["text"] = str(path)
    config = {"hidden": 5, "embed": 4, "eval_batch": 8, "steps": 1, **options}
    return Run(make_config(task=task, **config, **extra))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    made = {}

    def get(task, **options):
        key = (task, tuple(sorted(options.items())))
        if key not in made:
            made[key] = _run(task, tmp_path_factory, **options)
        return made[key]

    return get


# ----- a trained model on one input ---------------------------------------------------------


@pytest.mark.parametrize(
    "task", ["adding", "echo", "copy", "intent", "tagging", "generate", "sine", "text"]
)
def test_trained_load_every_task_builds_a_graph_with_token_labels(task, runs):
    run = runs(task, length=6) if task in ("adding", "echo", "sine", "text") else runs(task)
    trained = trained_mod.load(None, sample=1, run=run)
    trained.loss.backward()
    assert np.isfinite(trained.loss.data).all() and trained.loss.grad is not None
    assert trained.inputs and all(" " in node.label for node in trained.inputs)
    assert all(node.grad is not None for node in trained.inputs)
    for t, node in enumerate(trained.inputs[: len(trained.labels)]):
        name = f"x_{t}" if task != "generate" else "v"
        assert node.label == f"{name} {trained.labels[t]}" and trained.labels[t]
    # the test-set sequence is the one evaluate() scores
    full = run.task.batch(
        run.config["eval_batch"], trained_mod.seed_sequence(run.config["seed"], -1)
    )
    x = full.x[1:2] if task == "generate" else full.x[:, 1:2]
    np.testing.assert_array_equal(trained.batch.x, x)


def test_trained_input_parsing_per_task(runs):
    echo = trained_mod.load(None, input="1 2 3 4 5 6 7", run=runs("echo", length=6))
    assert echo.labels == list("1234567") and echo.loss.label == "E"
    np.testing.assert_array_equal(echo.batch.y[5:, 0], [1, 2])
    text = trained_mod.load(None, input="to be", run=runs("text", length=6))
    assert text.labels == ["'t'", "'o'", "' '", "'b'"]  # reads all but the last character
    intent = trained_mod.load(None, input="what time is it", run=runs("intent"))
    assert intent.labels[-4:] == ["what", "time", "is", "it"] and intent.loss.label == "E"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet="abcxyz09 -", min_size=1, max_size=4), min_size=1, max_size=6))
def test_trained_unknown_tokens_are_named(tmp_path_factory, words):
    run = _ECHO_FOR_FUZZ.setdefault("run", _run("echo", None, length=6))
    text = " ".join(words)
    bad = [w for w in text.replace(",", " ").split() if not (w.isdigit() and 1 <= int(w) <= 8)]
    if not text.strip():
        return
    if bad:
        with pytest.raises(ValueError, match="unknown tokens") as info:
            trained_mod.load(None, input=text, run=run)
        assert repr(bad[0]) in str(info.value)
    else:
        trained_mod.load(None, input=text + " 1 1 1 1 1", run=run)


_ECHO_FOR_FUZZ = {}


@pytest.mark.parametrize(
    ("task", "text", "message"),
    [
        ("intent", "what time is it maybe", "unknown words"),
        ("tagging", "the dog sees a unicorn", "unknown words"),
        ("generate", "eleven", "unknown class"),
        ("adding", "0.5 1", "--sample"),
        ("echo", "1 2 3", "after 5 steps"),
    ],
)
def test_trained_bad_input_is_a_clear_error(runs, task, text, message):
    run = runs(task, length=6) if task in ("adding", "echo") else runs(task)
    with pytest.raises(ValueError, match=message):
        trained_mod.load(None, input=text, run=run)


def test_trained_sample_out_of_range_names_the_test_set(runs):
    with pytest.raises(ValueError, match=r"--sample must be in 0\.\.7"):
        trained_mod.load(None, sample=8, run=runs("echo", length=6))


# ----- connectivity ----------------------------------------------------------------------------


def _reference(trained):
    """||d o_t / d x_k|| by `jacobian` on the batch-of-one graph, logits centred."""
    rows = []
    for o in trained.outputs:
        n = o.shape[-1]
        centre = np.eye(n) - (1.0 / n if trained.task.output == "classes" else 0.0)
        row = []
        for x in trained.inputs:
            J = jacobian(o, x).reshape(n, -1)
            row.append(np.linalg.norm(centre @ J))
        rows.append(row)
    return np.array(rows)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("task", ["echo", "intent", "sine"])
def test_connectivity_equals_jacobian(runs, cell, task):
    run = runs(task, cell=cell, length=6) if task != "intent" else runs(task, cell=cell)
    trained = trained_mod.load(None, sample=2, run=run)
    result = conn.connectivity(trained)
    np.testing.assert_allclose(result.matrix, _reference(trained), rtol=1e-10, atol=1e-13)
    assert result.to_dict()["inputs"] == trained.labels


def test_connectivity_equals_finite_differences_on_float_input(runs):
    run = runs("sine", cell="gru", length=5)
    trained = trained_mod.load(None, sample=0, run=run)
    matrix = conn.connectivity(trained).matrix
    x = trained.batch.x.astype(np.float64)
    eps = 1e-6

    def outputs(xx):
        from tinygrad_rnn.tasks.base import Batch

        with trained_mod.no_grad():
            graph = trained_mod.unroll_task(
                run.model, run.task, Batch(xx, None), trained.labels, False
            )
        return np.stack([o.data for o in graph.outputs])  # (T, 1, 1)

    for k in range(x.shape[0]):
        up, down = x.copy(), x.copy()
        up[k] += eps
        down[k] -= eps
        column = np.abs((outputs(up) - outputs(down)) / (2 * eps)).reshape(-1)
        np.testing.assert_allclose(matrix[:, k], column, rtol=1e-5, atol=1e-8)


@settings(max_examples=12, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    layers=st.integers(1, 2),
    task=st.sampled_from(["echo", "tagging", "sine"]),
    sample=st.integers(0, 7),
)
def test_connectivity_unidirectional_is_exactly_zero_above_the_diagonal(
    runs, cell, layers, task, sample
):
    options = {"cell": cell, "layers": layers}
    if task != "tagging":
        options["length"] = 6
    matrix = conn.connectivity(trained_mod.load(None, sample=sample, run=runs(task, **options)))
    matrix = matrix.matrix
    assert matrix.shape[0] == matrix.shape[1]
    assert (np.triu(matrix, 1) == 0.0).all()  # exactly zero, not small
    assert (np.diag(matrix) > 0).all() and (np.tril(matrix) > 0).sum() > matrix.shape[0]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_connectivity_bidirectional_fills_both_sides(runs, cell):
    run = runs("tagging", cell=cell, bidirectional=True)
    matrix = conn.connectivity(trained_mod.load(None, sample=0, run=run)).matrix
    above, below = np.triu_indices(len(matrix), 1), np.tril_indices(len(matrix), -1)
    assert (matrix[above] > 0).all() and (matrix[below] > 0).all()


@pytest.mark.parametrize("task", ["intent", "adding"])
def test_connectivity_n_vs_1_has_one_row(runs, task):
    run = runs(task, length=7) if task == "adding" else runs(task)
    result = conn.connectivity(trained_mod.load(None, sample=3, run=run))
    assert result.matrix.shape == (1, len(result.inputs)) and result.rows == ["o"]
    assert (result.matrix > 0).all()


def test_connectivity_refuses_a_model_without_an_input_sequence(runs):
    with pytest.raises(ValueError, match="needs an input sequence"):
        conn.connectivity(trained_mod.load(None, sample=0, run=runs("generate")))


# ----- gates -----------------------------------------------------------------------------------


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _recompute(trained, layer):
    """Every gate of one layer, recomputed in numpy from the parameters and the layer's input."""
    rnn, cell = trained.model, trained.config["cell"]
    w_ih, w_hh, b_ih, b_hh = (p.data for p in rnn.layer_parameters(layer, 0))
    if layer == 0:
        xs = [x.data for x in trained.inputs]
    else:
        xs = [s[0].data for s in trained.states[layer - 1][0]]
    H = trained.config["hidden"]
    h, c = np.zeros((1, H)), np.zeros((1, H))
    tables = {}
    for x in xs:
        xw, hw = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if cell == "lstm":
            a = xw + hw
            i, f = _sigmoid(a[:, :H]), _sigmoid(a[:, H : 2 * H])
            g, o = np.tanh(a[:, 2 * H : 3 * H]), _sigmoid(a[:, 3 * H :])
            c = f * c + i * g
            h = o * np.tanh(c)
            step = {"i": i, "f": f, "o": o, "c": c, "h": h}
        elif cell == "gru":
            r = _sigmoid(xw[:, :H] + hw[:, :H])
            z = _sigmoid(xw[:, H : 2 * H] + hw[:, H : 2 * H])
            n = np.tanh(xw[:, 2 * H :] + r * hw[:, 2 * H :])
            h = (1 - z) * n + z * h
            step = {"r": r, "z": z, "n": n, "h": h}
        else:
            h = np.tanh(xw + hw)
            step = {"h": h}
        for name, value in step.items():
            tables.setdefault(name, []).append(value[0])
    return {name: np.stack(cols, axis=1) for name, cols in tables.items()}


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layer", [0, 1])
def test_gates_equal_the_graph_nodes(runs, cell, layer):
    trained = trained_mod.load(None, sample=4, run=runs("echo", cell=cell, layers=2, length=6))
    result = gates_mod.gates(trained, layer=layer)
    assert list(result.tables) == list(gates_mod.GATES[cell])
    assert set(result.to_dict()) == {*gates_mod.GATES[cell], "inputs"}
    expected = _recompute(trained, layer)
    for name, table in result.tables.items():
        assert table.shape == (5, 6)
        np.testing.assert_allclose(table, expected[name], rtol=1e-12, atol=1e-14)
    # and they are the very nodes: h is the unrolled layer's h_t
    h_nodes = [s[0].data[0] for s in trained.states[layer][0]]
    np.testing.assert_array_equal(result.tables["h"], np.stack(h_nodes, axis=1))


def test_gates_reverse_direction_and_bad_layer(runs):
    trained = trained_mod.load(None, sample=0, run=runs("tagging", cell="lstm", bidirectional=True))
    result = gates_mod.gates(trained, layer=0, direction="reverse")
    c_rev = [s[1].data[0] for s in trained.states[0][1]]
    np.testing.assert_array_equal(result.tables["c"], np.stack(c_rev, axis=1))
    with pytest.raises(ValueError, match="--layer must be in 0..0"):
        gates_mod.gates(trained, layer=3)
    # a one-way model: the message says why, not "must be one of forward"
    with pytest.raises(ValueError, match="--direction reverse: the model is unidirectional"):
        gates_mod.gates(trained_mod.load(None, sample=0, run=runs("intent")), direction="reverse")


# ----- logs --------------------------------------------------------------------------------------


def test_read_log_keeps_the_last_record_of_a_step_and_names_bad_lines(tmp_path):
    path = tmp_path / "run.jsonl"
    path.write_text(
        '{"step": 1, "loss": 1.0, "grad_norm": 2.0, "clipped": true}\n'
        '{"step": 2, "loss": null, "grad_norm": null, "clipped": false}\n'
        '{"step": 2, "loss": 0.5, "grad_norm": 1.0, "clipped": false, "eval": 0.3, '
        '"metric": "MSE", "baseline": 0.1667}\n'
    )
    log = read_log(path)
    assert log.steps == [1, 2] and log.loss == [1.0, 0.5] and log.clipped == [1]
    assert log.eval == [0.3] and log.metric == "MSE" and log.baseline == 0.1667
    path.write_text('{"step": 1}\nnot json\n')
    with pytest.raises(ValueError, match="line 2: not JSON"):
        read_log(path)
    path.write_text('{"loss": 1}\n')
    with pytest.raises(ValueError, match="line 1"):
        read_log(path)


# ----- a trained echo model -------------------------------------------------------------------


@pytest.fixture(scope="module")
def echo_run():
    """A GRU trained on echo (y_t = x_(t-5)) just long enough to learn it (~85% accuracy)."""
    run = Run(make_config(task="echo", cell="gru", hidden=32, length=20, lr=0.02, steps=200))
    run.fit()
    return run


def test_connectivity_of_a_trained_echo_model_peaks_at_the_delay(echo_run):
    hits = []
    for sample in range(4):
        matrix = conn.connectivity(trained_mod.load(None, sample=sample, run=echo_run)).matrix
        assert (matrix[np.triu_indices(20, 1)] == 0.0).all()
        hits += [int(np.argmax(matrix[t])) == t - 5 for t in range(5, 20)]
    assert np.mean(hits) > 0.6, np.mean(hits)


def test_connectivity_refuses_an_input_too_long_to_compute(runs, monkeypatch):
    monkeypatch.setattr(conn, "MAX_WORK", 100)
    trained = trained_mod.load(None, input="1 2 3 4 5 6 7 8", run=runs("echo", length=6))
    with pytest.raises(ValueError, match="at most 3 steps"):
        conn.connectivity(trained)
