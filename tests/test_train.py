"""Training: truncated BPTT against the engine's per-step decomposition, checkpoints, resume."""

import json

import numpy as np
import pytest

from tinygrad_rnn import nn, topo_order
from tinygrad_rnn.checkpoint import CheckpointError, load_checkpoint, restore, save_checkpoint
from tinygrad_rnn.tasks import make_task
from tinygrad_rnn.tasks.models import build_model
from tinygrad_rnn.train import Run, backward_batch, loss_count, make_config, sequence_loss


def _model(task, cell="rnn", layers=1, hidden=5, seed=0):
    nn.manual_seed(seed)
    return build_model(task, cell=cell, hidden=hidden, layers=layers)


def _grads(model):
    return {n: None if p.grad is None else p.grad.copy() for n, p in model.named_parameters()}


def _tbptt_grads(model, task, batch, k1, k2):
    model.zero_grad()
    backward_batch(model, task, batch, k1, k2)
    return _grads(model)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("k", [8, 11])
def test_tbptt_with_k_at_least_T_equals_full_bptt(cell, k):
    task = make_task("sine", length=8)
    batch = task.batch(3, seed=0)
    model = _model(task, cell, layers=2)
    full = _tbptt_grads(model, task, batch, None, None)
    truncated = _tbptt_grads(model, task, batch, k, k)
    for name in full:
        np.testing.assert_array_equal(truncated[name], full[name])


def _window_start(s, T, k1, k2):
    """First step whose term a loss at step s keeps: its chunk's end minus k2."""
    chunk_end = min((s // k1 + 1) * k1, T)
    return max(0, chunk_end - k2)


def _truncated_terms(model, task, batch, k1, k2):
    """The truncated gradient, computed independently: build the full graph once per loss
    term L_s, backpropagate it fully, and keep only the per-step terms (edges into each
    parameter, grouped by the `t` tag of the consumer node) with t inside the window."""
    T = batch.x.shape[0]
    count = loss_count(task, batch)
    params = dict(model.named_parameters())
    owner = {id(p): n for n, p in params.items()}
    total = {n: np.zeros_like(p.data) for n, p in params.items()}
    losses = range(T) if task.per_step else [T - 1]
    for s in losses:
        model.zero_grad()
        prediction, _ = model.read(batch.x)
        if task.per_step:
            loss = sequence_loss(task, prediction[s : s + 1], batch.y[s : s + 1], None, count)
        else:
            loss = sequence_loss(task, prediction, batch.y, None, count)
        loss.backward()
        first = _window_start(s, T, k1, k2)
        for node in topo_order([loss]):
            t = node.tags.get("t")
            for inp, edge in zip(node.inputs, node.edge_grads()):
                name = owner.get(id(inp))
                if name is None or edge is None:
                    continue
                if name.startswith("head."):
                    total[name] += edge  # the read-out is not recurrent: never truncated
                elif t is not None:
                    if t >= first:
                        total[name] += edge
                elif node.label == "X W_ih^T":
                    # layer 0 projects all steps in one node; its step-t slice `x_t W_ih^T`
                    # (tagged t) holds the gradient of step t, whose term is g_t^T x_t
                    x = node.inputs[0].data
                    slices = [
                        c
                        for c in topo_order([loss])
                        if node in c.inputs and c.tags.get("t", -1) >= first
                    ]
                    for c in slices:
                        g = c.grad
                        step = c.tags["t"]
                        total[name] += (
                            (g.T @ x[step]) if name.startswith("rnn.weight") else g.sum(0)
                        )
    return total


@pytest.mark.parametrize(
    "cell,layers,k1,k2",
    [("rnn", 1, 2, 2), ("rnn", 2, 3, 5), ("lstm", 1, 4, 4), ("lstm", 2, 3, 7), ("gru", 1, 2, 6)],
)
def test_tbptt_equals_sum_of_truncated_per_step_terms(cell, layers, k1, k2):
    task = make_task("sine", length=10)
    batch = task.batch(2, seed=1)
    model = _model(task, cell, layers)
    truncated = _tbptt_grads(model, task, batch, k1, k2)
    expected = _truncated_terms(model, task, batch, k1, k2)
    full = _tbptt_grads(model, task, batch, None, None)
    for name in truncated:
        np.testing.assert_allclose(truncated[name], expected[name], rtol=1e-10, atol=1e-13)
    # and truncation really changed the recurrent gradient
    assert not np.allclose(truncated["rnn.weight_hh_l0"], full["rnn.weight_hh_l0"])


def test_tbptt_n_vs_1_backpropagates_the_last_k2_steps_only():
    task = make_task("adding", length=9)
    batch = task.batch(4, seed=2)
    model = _model(task, "lstm")
    truncated = _tbptt_grads(model, task, batch, 2, 4)
    expected = _truncated_terms(model, task, batch, 2, 4)
    for name in truncated:
        np.testing.assert_allclose(truncated[name], expected[name], rtol=1e-10, atol=1e-13)


def test_tbptt_options_are_checked():
    with pytest.raises(ValueError, match="1 <= k1 <= k2"):
        make_config(k1=5, k2=3)
    assert make_config(k1=4)["k2"] == 4 and make_config(k2=6)["k1"] == 6
    with pytest.raises(ValueError, match="not to 'copy'"):
        Run(make_config(task="copy", k1=2, hidden=4))
    task = make_task("sine", length=6)
    nn.manual_seed(0)
    model = build_model(task, cell="rnn", hidden=3, bidirectional=True)
    with pytest.raises(ValueError, match="unidirectional"):
        backward_batch(model, task, task.batch(2, 0), 2, 2)
    with pytest.raises(ValueError, match="unidirectional"):
        backward_batch(model, task, task.batch(2, 0), 2, 6)
    backward_batch(model, task, task.batch(2, 0), 6, 6)  # one chunk: full BPTT is fine


# ----- runs, checkpoints, resuming -------------------------------------------------------------

SMALL = dict(task="sine", length=12, hidden=6, batch=4, steps=6, eval_batch=16)


def _params(run):
    return {n: p.data.copy() for n, p in run.model.named_parameters()}


@pytest.mark.parametrize("optim", ["adam", "sgd", "adagrad", "rmsprop"])
def test_resume_from_checkpoint_is_bit_for_bit(tmp_path, optim):
    config = make_config(**SMALL, optim=optim, k1=4, k2=6, clip=0.5)
    straight = Run(config)
    records = straight.fit()

    first = Run(config)
    head = first.fit(steps=3)
    path = first.save(tmp_path / "run.npz")
    resumed = Run.resume(path)
    assert resumed.step == 3
    tail = resumed.fit()
    assert head + tail == records
    for name, value in _params(straight).items():
        np.testing.assert_array_equal(_params(resumed)[name], value)
    assert resumed.evaluate() == straight.evaluate()


def test_checkpoint_holds_params_optimizer_and_config(tmp_path):
    run = Run(make_config(**SMALL))
    run.fit(steps=2)
    path = run.save(tmp_path / "c.npz")
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        assert "param/rnn.weight_hh_l0" in data.files
        assert any(k.startswith("optim/") and k.endswith("/exp_avg") for k in data.files)
    assert meta["config"]["hidden"] == 6 and meta["step"] == 2
    checkpoint = load_checkpoint(path)
    assert checkpoint.optimizer["state"][0]["step"] == 2


def test_resume_rejects_a_different_model(tmp_path):
    run = Run(make_config(**SMALL))
    path = run.save(tmp_path / "c.npz")
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match=r"--hidden 8 \(it was trained with 6\)"):
        Run.resume(path, hidden=8)
    with pytest.raises(CheckpointError, match="holds adam state, not sgd"):
        Run.resume(path, optim="sgd")
    assert path.read_bytes() == before
    # training options may change on resume
    assert Run.resume(path, steps=9, lr=0.5).optimizer.param_groups[0]["lr"] == 0.5


def test_restore_checks_everything_before_changing_anything(tmp_path):
    small = Run(make_config(**SMALL))
    path = small.save(tmp_path / "c.npz")
    other = Run(make_config(**{**SMALL, "hidden": 7}))
    before = _params(other)
    with pytest.raises(
        CheckpointError,
        match=r"'rnn.weight_hh_l0' has shape \(24, 6\) in the checkpoint, \(28, 7\)",
    ):
        restore(load_checkpoint(path), other.model, other.optimizer)
    for name, value in _params(other).items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda b: b[: len(b) // 2], "not a readable checkpoint"),
        (lambda b: b"garbage" * 10, "not a readable checkpoint"),
    ],
)
def test_corrupted_checkpoint_gives_clear_error_and_loses_nothing(tmp_path, damage, message):
    run = Run(make_config(**SMALL))
    path = run.save(tmp_path / "c.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(damage(path.read_bytes()))
    kept = broken.read_bytes()
    with pytest.raises(CheckpointError, match=message):
        Run.resume(broken)
    assert broken.read_bytes() == kept


def test_npz_that_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.ones(2))
    with pytest.raises(CheckpointError, match="not a tinygrad_rnn checkpoint"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.npz")


def test_save_is_atomic(tmp_path, monkeypatch):
    run = Run(make_config(**SMALL))
    path = run.save(tmp_path / "c.npz")
    before = path.read_bytes()
    run.fit(steps=2)

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, run.model, run.optimizer, run.config, run.step)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npz"]


def test_float32_run_keeps_float32(tmp_path):
    run = Run(make_config(**SMALL, dtype="float32"))
    run.fit(steps=2)
    assert all(p.data.dtype == np.float32 for _, p in run.params)
    assert all(p.grad.dtype == np.float32 for _, p in run.params)
    resumed = Run.resume(run.save(tmp_path / "f.npz"))
    assert all(p.data.dtype == np.float32 for _, p in resumed.params)


def test_exploding_linear_rnn_diverges_without_clipping_and_trains_with_it():
    config = dict(
        task="sine", length=40, cell="rnn", nonlinearity="linear", radius=1.5, hidden=8,
        optim="sgd", lr=0.05, steps=20, batch=8, eval_batch=16,
    )  # fmt: skip
    run = Run(make_config(**config))
    records = run.fit()
    assert run.diverged is not None and records[-1].get("diverged")
    clipped = Run(make_config(**config, clip=1.0))
    records = clipped.fit()
    assert clipped.diverged is None and all(r["clipped"] for r in records[:3])
    assert np.isfinite(records[-1]["loss"])


def test_lstm_solves_the_adding_problem_where_a_tanh_rnn_does_not():
    """The lecture's claim on a small budget (T = 20, 600 Adam steps; the full T = 50 runs
    are in benchmarks/classic.py): the LSTM gets far under the 1/6 baseline, the RNN not."""
    config = dict(task="adding", length=20, hidden=32, optim="adam", lr=0.01, steps=600)
    lstm = Run(make_config(**config, cell="lstm"))
    lstm.fit()
    rnn = Run(make_config(**config, cell="rnn"))
    rnn.fit()
    assert lstm.evaluate() < 0.01
    assert rnn.evaluate() > 0.1
