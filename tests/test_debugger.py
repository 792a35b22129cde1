"""Stepping, breakpoints, hooks that pause, the repr, and anomaly reports (issue 6)."""

import re
import sys

import numpy as np
import pytest

from tinygrad_rnn import (
    AnomalyError,
    Tensor,
    backward_steps,
    debugger,
    detect_anomaly,
    lecture,
    nn,
    scope,
)
from tinygrad_rnn.autograd import topo_order


def graph(cell, **options):
    config = dict(steps=4, hidden=3, layers=2, bidirectional=True, loss="all", batch=2, seed=3)
    config.update(options)
    return lecture.build(cell, **config)


def leaves(root):
    return [n for n in topo_order([root]) if n.is_leaf]


# ----- backward_steps ------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_backward_steps_exhausted_equals_backward_exactly(cell):
    run = graph(cell)
    nodes = topo_order([run.loss])
    run.loss.backward()
    expected = {n: n.grad.copy() for n in nodes}
    expected_edges = {n: [None if e is None else e.copy() for e in n.edge_grads()] for n in nodes}
    for leaf in leaves(run.loss):
        leaf.zero_grad()
    steps = list(backward_steps(run.loss))
    assert len(steps) == len(nodes)
    for n in nodes:
        assert n.grad.dtype == expected[n].dtype
        np.testing.assert_array_equal(n.grad, expected[n])
        for got, want in zip(n.edge_grads(), expected_edges[n]):
            if want is None:
                assert got is None
            else:
                np.testing.assert_array_equal(got, want)
    for step in steps:
        np.testing.assert_array_equal(step.grad, expected[step.node])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_backward_steps_order_is_reverse_topological(cell):
    run = graph(cell)
    steps = list(backward_steps(run.loss))
    position = {s.node: s.index for s in steps}
    assert [s.index for s in steps] == list(range(1, len(steps) + 1))
    assert all(s.total == len(steps) for s in steps)
    assert len(position) == len(steps)  # each node exactly once
    assert steps[0].node is run.loss
    for step in steps:
        for inp in step.node.inputs:
            if inp.requires_grad:
                # a node runs only after every one of its consumers has run
                assert position[inp] > step.index


def test_backward_steps_step_grad_is_the_sum_over_consumers():
    run = graph("lstm", layers=1, bidirectional=False)
    steps = list(backward_steps(run.loss))
    received = {}
    for step in steps[1:]:
        for consumer in steps[: step.index - 1]:
            for inp, g in zip(consumer.node.inputs, consumer.input_grads):
                if inp is step.node:
                    received[step.node] = received.get(step.node, 0) + g
        np.testing.assert_allclose(step.grad, received[step.node], rtol=1e-12, atol=1e-15)


def test_step_str_reads_like_the_lecture():
    run = lecture.build("rnn", steps=4, hidden=3, seed=0)
    steps = {s.node.label: s for s in backward_steps(run.loss)}
    text = str(steps["h_2"])
    assert re.fullmatch(
        r"step \d+/\d+  tanh 'h_2' \(t=2, layer 0\)  \|grad\|=[\d.e-]+  -> 'a_2' [\d.e-]+", text
    ), text
    assert str(steps["V"]).endswith(f"leaf 'V'  |grad|={np.linalg.norm(run.head.weight.grad):.3g}")
    unnamed = next(s for s in steps.values() if s.node.label is None and s.node.op is not None)
    assert f"  {unnamed.node.op.name} (" in str(unnamed)  # the op alone, not `mul <mul>`


def test_repr_shows_label_op_shape_tags_grad_and_values():
    run = lecture.build("rnn", steps=3, hidden=2, seed=0)
    h_1 = run.hidden_states()[1]
    before = repr(h_1)
    assert before.startswith("Tensor('h_1', op=tanh, shape=(1, 2), t=1, layer=0")
    assert "|grad|" not in before and "data=[" in before
    run.loss.backward()
    after = repr(h_1)
    assert f"|grad|={np.linalg.norm(h_1.grad):.3g}" in after
    assert f"{h_1.data[0, 0]:.4g}" in after


# ----- breakpoints ---------------------------------------------------------------------------


def test_stop_at_a_label_pauses_there_with_the_complete_gradient():
    run = lecture.build("rnn", steps=4, hidden=3, seed=1)
    h = run.hidden_states()
    walk = backward_steps(run.loss, stop="h_1")
    step = next(walk)
    assert step.node is h[1]
    # paused: h_1 is complete, h_0 (upstream) has not been reached
    assert h[0].grad is None
    np.testing.assert_array_equal(h[1].grad, step.grad)
    assert list(walk) == []  # no other node is labelled h_1
    stepped = h[1].grad.copy()
    run.loss.backward()
    np.testing.assert_array_equal(h[1].grad, stepped)


def test_stop_by_label_stops_at_every_layer_with_that_label():
    run = lecture.build("gru", steps=3, hidden=2, layers=2, seed=0)
    stopped = [s.node for s in backward_steps(run.loss, stop="h_1")]
    assert stopped == [run.hidden_states(layer=1)[1], run.hidden_states(layer=0)[1]]


def test_stop_at_a_time_step_stops_once_at_its_first_node():
    run = lecture.build("lstm", steps=5, hidden=2, seed=0)
    order = [s.node for s in backward_steps(run.loss)]
    first_t1 = next(n for n in order if n.tags.get("t") == 1)
    assert first_t1 is run.hidden_states()[1]  # the pass enters t=1 at h_1
    stopped = [s.node for s in backward_steps(run.loss, stop="t=1")]
    assert stopped == [first_t1]
    both = [s.node for s in backward_steps(run.loss, stop="t=1 layer=0")]
    assert both == [first_t1]
    assert list(backward_steps(run.loss, stop="t=1 layer=5")) == []


def test_stop_accepts_lists_predicates_step_numbers_and_the_s_alias():
    run = lecture.build("rnn", steps=4, hidden=3, seed=0)
    h = run.hidden_states()
    stopped = [s.node for s in backward_steps(run.loss, stop=["s_2", "t=0", "#3"])]
    assert stopped[1:3] == [h[2], h[0]] and stopped[0].tags.get("t") == 3
    leaves_only = [s.node for s in backward_steps(run.loss, stop=lambda s: s.node.is_leaf)]
    assert leaves_only and all(n.is_leaf for n in leaves_only)
    with pytest.raises(ValueError, match="key=value"):
        list(backward_steps(run.loss, stop="t="))


def test_breakpoint_stopping_early_then_finishing_equals_backward():
    run = lecture.build("lstm", steps=4, hidden=3, seed=2)
    walk = backward_steps(run.loss, stop="c_1")
    next(walk)
    for _ in walk:
        pass
    stepped = {n: n.grad.copy() for n in topo_order([run.loss])}
    for leaf in leaves(run.loss):
        leaf.zero_grad()
    run.loss.backward()
    for n, g in stepped.items():
        np.testing.assert_array_equal(n.grad, g)


# ----- hooks ---------------------------------------------------------------------------------


def test_hook_replacing_a_gradient_changes_what_flows_upstream():
    run = lecture.build("rnn", steps=4, hidden=3, seed=0)
    h = run.hidden_states()
    h[2].register_hook(lambda g: np.zeros_like(g))
    steps = {s.node: s for s in backward_steps(run.loss)}
    assert np.all(steps[h[2]].grad == 0) and np.all(h[2].grad == 0)
    assert np.all(h[1].grad == 0) and np.all(h[0].grad == 0)
    assert np.any(h[3].grad != 0)


def test_hook_may_call_breakpoint_and_sees_the_complete_gradient(monkeypatch):
    run = lecture.build("rnn", steps=4, hidden=3, seed=0)
    h_1 = run.hidden_states()[1]
    seen = []

    def fake_pdb(*args, **kwargs):
        frame = sys._getframe(1)  # the hook's frame: what pdb would show
        seen.append((frame.f_locals["grad"].copy(), frame.f_code.co_name))

    monkeypatch.setattr(sys, "breakpointhook", fake_pdb)
    handle = debugger.break_at(h_1)
    run.loss.backward()
    assert len(seen) == 1
    grad, where = seen[0]
    assert where == "pause"
    np.testing.assert_array_equal(grad, h_1.grad)
    handle.remove()
    run.loss.backward()
    assert len(seen) == 1


def test_a_hook_calling_breakpoint_directly_works(monkeypatch):
    calls = []
    monkeypatch.setattr(sys, "breakpointhook", lambda *a, **k: calls.append(1))
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3.0).named("y")
    y.register_hook(lambda g: breakpoint())  # returns None: the gradient is unchanged
    y.sum().backward()
    assert calls == [1]
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


# ----- anomaly detection ---------------------------------------------------------------------

# numpy warns about the very overflows and divisions these tests provoke
provokes_numpy_warnings = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def rnn_steps(cell, x, h, times, inject_at=None):
    """Unroll `cell` over times, with log(0) added to the state at `inject_at`."""
    for t in times:
        with scope(t=t, layer=0, cell="rnn"):
            h = cell(x[t], h).named(f"h_{t}")
            if t == inject_at:
                h = (h + (h - h).log()).named(f"h_{t} + log 0")
    return h


@provokes_numpy_warnings
def test_anomaly_forward_reports_log_of_zero_at_its_time_step():
    nn.manual_seed(0)
    cell = nn.RNNCell(2, 4)
    x = Tensor(np.random.default_rng(0).normal(size=(6, 1, 2)))
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        rnn_steps(cell, x, None, range(6), inject_at=3)
    err = info.value
    assert err.phase == "forward"
    assert err.node.op.name == "log" and err.node.tags["t"] == 3
    message = str(err)
    assert message.startswith("detect_anomaly: forward of log at <log> (t=3, layer 0) produced inf")
    assert "(1, 4)" in message and "origin: this op" in message
    assert "test_debugger.py" in message and "(h - h).log()" in message  # the line that built it


@provokes_numpy_warnings
def test_anomaly_forward_names_the_origin_not_where_it_surfaced():
    nn.manual_seed(0)
    cell = nn.RNNCell(2, 4)
    x = Tensor(np.random.default_rng(0).normal(size=(6, 1, 2)))
    # steps 0-3 run without detection: the -inf born at t=3 travels on unnoticed ...
    h = rnn_steps(cell, x, None, range(4), inject_at=3)
    born = h.inputs[1]
    assert born.op.name == "log" and not np.isfinite(h.data).all()
    # ... and surfaces at t=4, where detection is on
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        rnn_steps(cell, x, h, range(4, 6))
    err = info.value
    assert err.node is born
    assert "(t=4, layer 0)" in str(err) and "origin: log <log> (t=3, layer 0)" in str(err)


@provokes_numpy_warnings
def test_anomaly_forward_origin_may_be_a_leaf():
    x = Tensor([1.0, np.nan], label="x_bad")
    w = Tensor([2.0, 3.0], requires_grad=True, label="w")
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        x * w
    assert info.value.node is x and "the leaf 'x_bad'" in str(info.value)


@provokes_numpy_warnings
def test_anomaly_backward_nan_is_reported_where_it_was_born():
    # |h_5 - h_5| as a norm: sqrt(0) is finite going forward, but its derivative 1/(2 sqrt 0)
    # is inf; one step later inf * 0 makes the NaN that would surface in every weight
    nn.manual_seed(0)
    cell = nn.RNNCell(2, 4)
    x = Tensor(np.random.default_rng(0).normal(size=(6, 1, 2)))

    def loss_with_norm():
        h = rnn_steps(cell, x, None, range(6))
        with scope(t=5, layer=0):
            norm = ((h - h) ** 2).sum().sqrt().named("|h_5 - h_5|")
        return h.sum() + norm

    loss_with_norm().backward()
    assert np.isnan(cell.weight_hh.grad).all()  # where it surfaced, without detection
    cell.zero_grad()
    with detect_anomaly():
        loss = loss_with_norm()
        with pytest.raises(AnomalyError) as info:
            loss.backward()
    err = info.value
    assert err.phase == "backward" and err.node.label == "|h_5 - h_5|"
    assert err.node.op.name == "sqrt"
    message = str(err)
    assert message.startswith("detect_anomaly: backward of sqrt at '|h_5 - h_5|' (t=5, layer 0) ")
    assert re.search(
        r"produced inf in the gradient for input 0 <sum>\n  backward step: \d+ of", message
    )
    assert "origin: this op's backward rule" in message


@provokes_numpy_warnings
def test_anomaly_backward_catches_an_overflowing_sum_of_finite_gradients():
    x = Tensor([1.0], requires_grad=True, label="x")
    with detect_anomaly():
        a = (x * 1.0).named("a")
        y = a + a  # finite going forward; two edges of 1e308 into `a` going back
        with pytest.raises(AnomalyError) as info:
            y.backward(grad=[1e308])
    assert info.value.node is a
    assert "the sum of its consumers' (finite) gradients for 'a'" in str(info.value)


@provokes_numpy_warnings
def test_anomaly_check_inf_false_lets_inf_through_and_still_catches_nan():
    x = Tensor([0.0, 1.0], requires_grad=True, label="x")
    with detect_anomaly(check_inf=False):
        inv = (1.0 / x).named("1/x")  # inf, allowed
        y = (-inv).exp().named("exp(-1/x)")  # exp(-inf) = 0, finite
        with pytest.raises(AnomalyError) as info:
            y.sum().backward()  # d(1/x)/dx at 0 is 0 * inf = nan
    message = str(info.value)
    assert info.value.node is inv and "backward of div at '1/x'" in message
    assert "produced nan" in message and "already non-finite: '1/x' has inf" in message
    with detect_anomaly(), pytest.raises(AnomalyError, match="forward of div"):
        1.0 / x
