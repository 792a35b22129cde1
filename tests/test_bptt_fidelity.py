"""bptt tells the truth: input_grad_norm and cell_path_norm are the real gradients, a dead
chain is called dead, and sigma_max = 1/gamma cannot explode."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from tinygrad_rnn import Tensor, bptt, lecture
from tinygrad_rnn.nn import functional as F


def reference_input_grad(run, loss):
    """dE/dx by a second forward pass with x as a leaf that requires grad (no analysis code)."""
    x = Tensor(run.x.data, requires_grad=True)
    output = run.model(x)[0]
    steps = run.config["steps"]
    picked = range(steps) if loss == "all" else [steps - 1 if loss == "last" else loss]
    total = None
    for t in picked:
        o_t = F.linear(output[t], run.head.weight, run.head.bias)
        e_t = F.mse_loss(o_t, Tensor(run.targets[t]))
        total = e_t if total is None else total + e_t
    total.backward()
    return x.grad


@settings(max_examples=12, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    steps=st.integers(1, 5),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    loss=st.sampled_from(["last", "all", 0, 1, 2, 3, 4]),
    seed=st.integers(0, 50),
)
def test_input_grad_norm_is_the_gradient_at_each_input(
    cell, steps, layers, bidirectional, loss, seed
):
    if isinstance(loss, int):
        loss = min(loss, steps - 1)
    run = lecture.build(
        cell, steps=steps, hidden=2, layers=layers, bidirectional=bidirectional, seed=seed
    )
    report = bptt.analyze(run, loss=loss)
    expected = reference_input_grad(run, loss)
    for k, row in enumerate(report.rows):
        assert row.input_grad_norm == pytest.approx(np.linalg.norm(expected[k]), abs=1e-13)
        assert (row.cell_path_norm is not None) == (cell == "lstm")
    if isinstance(loss, int) and not bidirectional:
        # a step after the loss cannot teach it anything
        assert all(r.input_grad_norm == 0.0 for r in report.rows[loss + 1 :])


def test_cell_path_norm_is_the_product_of_forget_gates():
    run = lecture.build("lstm", steps=6, hidden=3, forget_bias=2.0, seed=4)
    report = bptt.analyze(run)
    # c_t = f_t * c_{t-1} + i_t * g_t: the first product's first input is f_t
    f = [c.inputs[0].inputs[0] for c in run.cell_states()]
    assert [g.label for g in f] == [f"f_{t}" for t in range(6)]
    f = [g.data.reshape(-1) for g in f]
    for row in report.rows:
        product = np.prod([f[j] for j in range(row.k + 1, 6)], axis=0)
        assert row.cell_path_norm == pytest.approx(np.max(np.abs(product)), rel=1e-10)
    d = report.to_dict()
    assert all("cell_path_norm" in r and "input_grad_norm" in r for r in d["rows"])
    gru = bptt.analyze(lecture.build("gru", steps=3)).to_dict()
    assert all("cell_path_norm" not in r and r["input_grad_norm"] > 0 for r in gru["rows"])


def test_dead_relu_chain_is_vanishing_exactly_zero_not_stable():
    run = lecture.build("rnn", steps=8, activation="relu", radius=1.0, seed=0)
    report = bptt.analyze(run)
    assert [r.jacobian_norm for r in report.rows[:7]] == [0.0] * 7
    assert report.verdict == "vanishing (exactly zero: dead units)"
    assert report.rate == 0.0
    text = CliRunner().invoke(
        main, ["bptt", "--activation", "relu", "--radius", "1.0", "--steps", "8"]
    )
    assert "verdict vanishing (exactly zero: dead units)" in text.output
    assert "verdict stable" not in text.output


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 200), steps=st.integers(2, 6), radius=st.sampled_from([0.5, 1.0]))
def test_verdict_is_dead_exactly_when_some_chain_norm_is_zero(seed, steps, radius):
    run = lecture.build("rnn", steps=steps, activation="relu", radius=radius, seed=seed)
    report = bptt.analyze(run)
    chain = [r.jacobian_norm for r in report.rows[:-1]]
    assert (report.verdict == bptt.DEAD) == any(v == 0.0 for v in chain)
    assert report.verdict in bptt.VERDICTS


@pytest.mark.parametrize(
    "activation,radius,word",
    [
        ("tanh", 1.0, "cannot explode"),
        ("relu", 1.0, "cannot explode"),
        ("sigmoid", 4.0, "cannot explode"),
        ("tanh", 0.9, "must vanish"),
        ("tanh", 1.1, "exploding is possible"),
        ("sigmoid", 4.5, "exploding is possible"),
    ],
)
def test_bound_at_one_over_gamma_reads_cannot_explode(activation, radius, word):
    args = ["bptt", "--activation", activation, "--radius", str(radius), "--steps", "4"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    bound_line = next(line for line in result.output.splitlines() if line.startswith("bound"))
    assert word in bound_line
    if word == "cannot explode":
        assert "exploding is possible" not in result.output


def test_bptt_json_and_compare_carry_input_grad_norm():
    runner = CliRunner()
    rows = json.loads(runner.invoke(main, ["bptt", "--json", "--cell", "lstm"]).stdout)["rows"]
    assert all(r["input_grad_norm"] > 0 and r["cell_path_norm"] > 0 for r in rows)
    result = runner.invoke(main, ["bptt", "--compare", "rnn,lstm,gru", "--steps", "5"])
    assert result.exit_code == 0, result.output
    assert "input_grad_norm |dE_T/dx_k|" in result.output
    table = json.loads(runner.invoke(main, ["bptt", "--json", "--compare", "rnn,lstm"]).stdout)
    assert all("input_grad_norm" in r for report in table for r in report["rows"])


def test_plot_series_carry_input_grad_norm(tmp_path):
    pytest.importorskip("matplotlib")
    from viz.plots import decay_series, jacobian_decay

    report = bptt.analyze(lecture.build("lstm", steps=5))
    label, distances, norms, bounds, inputs = decay_series("lstm", report)
    by_k = {report.T - d: v for d, v in zip(distances, inputs)}
    assert by_k == {r.k: r.input_grad_norm for r in report.rows if r.k in by_k}
    out = jacobian_decay([(label, distances, norms, bounds, inputs)], str(tmp_path / "d.png"))
    with open(out, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
