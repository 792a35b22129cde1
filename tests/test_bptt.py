"""bptt: the per-step terms sum to the engine's gradient, Jacobians are right, verdicts hold."""

import numpy as np
import pytest

from tinygrad_rnn import Tensor, bptt, grad, lecture, no_grad
from tinygrad_rnn.nn.recurrent import cell_step

SHORT = ("weight_hh", "weight_ih", "bias_hh", "bias_ih")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("loss", [2, "all"])
def test_decomposition_sums_to_engine_gradient(cell, loss):
    run = lecture.build(cell, steps=5, hidden=3, layers=2, bidirectional=True, seed=3)
    report = bptt.analyze(run, loss=loss)
    named = dict(run.named_parameters())
    for layer in range(2):
        for sfx in ("", "_reverse"):
            for short in SHORT:
                name = f"{short}_l{layer}{sfx}"
                terms = report.terms[name]
                assert set(terms) <= set(range(5))  # every use belongs to a step
                total = sum(terms.values())
                assert np.max(np.abs(total - named[name].grad)) <= 1e-12
                assert np.abs(named[name].grad).max() > 0
    assert report.sum_check_error <= 1e-12
    assert max(report.sum_errors.values()) == report.sum_check_error


def test_decomposition_terms_are_the_lecture_partials():
    # term_k(W_hh) = (dE/da_k)^T h_{k-1} and term_k(W_ih) = (dE/da_k)^T x_k: the immediate
    # partial at step k times what reached a_k; W_ih reaches step k only through the slice
    # of the untimed projection X W_ih^T, so this checks its attribution too
    run = lecture.build("rnn", steps=4, hidden=3, loss="last", seed=1)
    report = bptt.analyze(run)
    h = run.hidden_states()
    a = [h_k.inputs[0] for h_k in h]
    delta = grad(run.loss, a)
    previous = [np.zeros((1, 3))] + [h_k.data for h_k in h[:-1]]
    for k in range(4):
        assert np.allclose(report.terms["weight_hh_l0"][k], delta[k].T @ previous[k], atol=1e-15)
        assert np.allclose(report.terms["weight_ih_l0"][k], delta[k].T @ run.x.data[k], atol=1e-15)


def _rerun(run, k, T, state):
    """s_T from s_k = `state` (flat array), stepping layer 0 forward again without a graph."""
    cfg = run.config
    w_ih, w_hh, b_ih, b_hh = run.model.layer_parameters(0, 0)
    hidden = cfg["hidden"]
    parts = [Tensor(p.reshape(1, hidden)) for p in np.split(state, len(state) // hidden)]
    s = tuple(parts) if cfg["cell"] == "lstm" else parts[0]
    with no_grad():
        for t in range(k + 1, T + 1):
            xw = Tensor(run.x.data[t] @ w_ih.data.T + b_ih.data)
            s = cell_step(cfg["cell"], xw, s, w_hh, b_hh, "_fd", cfg["activation"])
    s = s if cfg["cell"] == "lstm" else (s,)
    return np.concatenate([p.data.ravel() for p in s])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_jacobians_match_finite_differences(cell):
    run = lecture.build(cell, steps=6, hidden=3, seed=2)
    report = bptt.analyze(run)
    seq = run.states[0][0]
    T, eps = 5, 1e-6
    for k in (0, 2, 4):
        s_k = np.concatenate([node.data.ravel() for node in seq[k]])
        numeric = np.zeros((s_k.size, s_k.size))
        for j in range(s_k.size):
            up, down = s_k.copy(), s_k.copy()
            up[j] += eps
            down[j] -= eps
            numeric[:, j] = (_rerun(run, k, T, up) - _rerun(run, k, T, down)) / (2 * eps)
        analytic = report.state_jacobians[k] if cell == "lstm" else report.jacobians[k]
        assert np.allclose(analytic, numeric, atol=1e-8), k
        assert report.rows[k].jacobian_norm == pytest.approx(np.linalg.norm(numeric[:3, :3], 2))
        if cell == "lstm":
            norm = np.linalg.norm(numeric, 2)
            assert report.state_jacobian_norms[k] == pytest.approx(norm, rel=1e-6)


def test_lstm_step_jacobians_multiply_to_the_full_one_and_cell_path_is_the_forget_gate():
    run = lecture.build("lstm", steps=6, hidden=3, seed=9)
    report = bptt.analyze(run)
    product = np.eye(6)
    for j in range(5, 0, -1):
        product = product @ report.step_jacobians[j]
        assert np.allclose(product, report.state_jacobians[j - 1], atol=1e-14)
    # h_j = o_j * tanh(c_j) and c_j = f_j * c_{j-1} + i_j * g_j: read f_j off the graph
    cells = [h.inputs[1].inputs[0] for h in run.hidden_states()]
    gates = [c.inputs[0].inputs[0] for c in cells]
    assert [g.label for g in gates] == [f"f_{j}" for j in range(6)]
    gates = [g.data[0] for g in gates]
    for j in range(1, 6):
        assert np.allclose(report.step_jacobians[j][3:, 3:], np.diag(gates[j]), atol=1e-15)
    for k in range(6):
        expected = np.prod(np.stack(gates[k + 1 : 6]), axis=0).max() if k < 5 else 1.0
        assert report.cell_path_norms[k] == pytest.approx(expected, rel=1e-12)


def test_scalar_rnn_jacobian_is_the_closed_form_product():
    run = lecture.build("rnn", steps=7, hidden=1, radius=0.9, seed=4)
    report = bptt.analyze(run)
    w = run.model.weight_hh_l0.data[0, 0]
    s = [h.data[0, 0] for h in run.hidden_states()]
    T = 6
    for k in range(T + 1):
        closed = np.prod([w * (1 - s[j] ** 2) for j in range(k + 1, T + 1)])
        assert report.jacobians[k][0, 0] == pytest.approx(closed, rel=1e-12, abs=1e-300)
    # the chain lists the factors from T backwards, each product = dh_T/dh_{j-1}
    assert [link.j for link in report.scalar] == [6, 5, 4, 3, 2, 1]
    for link in report.scalar:
        assert link.factor == pytest.approx(w * (1 - s[link.j] ** 2))
        assert link.product == pytest.approx(report.jacobians[link.j - 1][0, 0], rel=1e-12)
    assert report.scalar_error < 1e-15


@pytest.mark.parametrize("radius,init", [(0.7, "orthogonal"), (1.3, "orthogonal"), (1.3, "random")])
def test_tanh_rnn_bound_holds_at_every_k(radius, init):
    run = lecture.build("rnn", steps=15, hidden=4, radius=radius, init=init, seed=5)
    report = bptt.analyze(run)
    assert report.sigma_max == pytest.approx(radius)
    for row in report.rows:
        assert row.bound == pytest.approx(radius ** (14 - row.k))
        assert row.jacobian_norm <= row.bound * (1 + 1e-12)
    if init == "random":
        assert report.spectral_radius < report.sigma_max


def test_radius_half_decays_monotonically_and_vanishes():
    run = lecture.build("rnn", steps=20, hidden=4, radius=0.5, seed=6)
    report = bptt.analyze(run)
    norms = [row.jacobian_norm for row in report.rows]  # k = 0..T, so T-k falls
    assert all(a < b for a, b in zip(norms, norms[1:]))
    assert report.pascanu_vanishing is True
    assert report.verdict == "vanishing"
    assert report.rate < 0.5


def test_linear_rnn_at_radius_one_and_a_half_explodes():
    run = lecture.build("rnn", steps=12, hidden=4, activation="linear", radius=1.5, seed=7)
    report = bptt.analyze(run)
    for row in report.rows:
        assert row.jacobian_norm == pytest.approx(1.5 ** (11 - row.k), rel=1e-10)
    assert report.rate == pytest.approx(1.5)
    assert report.verdict == "exploding"
    assert report.pascanu_vanishing is False


def test_lstm_forget_gate_open_keeps_cell_path_while_rnn_vanishes():
    # the lecture's claim: c_t = f * c_{t-1} + i * g with f ~ 1 carries the gradient back
    # 50 steps, where the tanh RNN's product of 50 factors below 1 has died out
    steps = 51
    lstm = lecture.build("lstm", steps=steps, hidden=3, radius=0.9, forget_bias=20.0, seed=0)
    report = bptt.analyze(lstm)
    cc = report.cell_path_norms
    assert all(abs(cc[k] - 1.0) < 1e-4 for k in range(steps)), cc
    rnn = lecture.build("rnn", steps=steps, hidden=3, radius=0.9, seed=0)
    assert bptt.analyze(rnn).rows[0].jacobian_norm < 1e-2


def test_to_dict_has_exactly_the_issue_fields():
    report = bptt.analyze(lecture.build("gru", steps=4))
    d = report.to_dict()
    assert set(d) == {
        "rows",
        "sum_check_error",
        "rate",
        "verdict",
        "cell",
        "steps",
        "radius",
        "sigma_max",
        "spectral_radius",
    }
    assert [set(r) for r in d["rows"]] == [
        {
            "k",
            "grad_norm",
            "jacobian_norm",
            "bound",
            "contribution_norm",
            "contribution_share",
            "input_grad_norm",
        }
    ] * 4
    assert all(r["bound"] is None for r in d["rows"])  # no bound for a gated cell
    assert sum(r["contribution_share"] for r in d["rows"]) == pytest.approx(1.0)
    assert d["verdict"] in bptt.VERDICTS


def test_loss_at_a_middle_step_and_reverse_direction():
    run = lecture.build("rnn", steps=6, hidden=2, bidirectional=True, seed=8)
    forward = bptt.analyze(run, loss=2)
    assert forward.T == 2
    assert [r.jacobian_norm == 0.0 for r in forward.rows] == [False] * 3 + [True] * 3
    assert all(r.contribution_norm == 0.0 for r in forward.rows[3:])
    reverse = bptt.analyze(run, loss=2, direction=1)
    assert [r.jacobian_norm == 0.0 for r in reverse.rows] == [True] * 2 + [False] * 4
    assert reverse.param == "weight_hh_l0_reverse"


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"loss": 9}, "loss must be"),
        ({"param": "W_xy"}, "unknown parameter"),
        ({"layer": 3}, "layer"),
    ],
)
def test_analyze_rejects_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bptt.analyze(lecture.build("rnn", steps=3), **kwargs)
