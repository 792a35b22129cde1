"""The fused recurrent step is transparent: the same graph and gradients as node by node."""

import contextlib
import copy
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_rnn import Tensor, backward_steps, nn, no_grad, optim, topo_order
from tinygrad_rnn.nn import fused, fused_blocks, fused_layers

CLASSES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def build(cell, fuse, seed=0, steps=4, batch=2, size=3, hidden=4, hx=False, dtype=np.float64, **kw):
    """The model, its input, a loss over every output and the final state, and the graph."""
    old = fused.ENABLED
    fused.ENABLED = fuse
    try:
        nn.manual_seed(seed)
        model = CLASSES[cell](size, hidden, **kw)
        model.to(dtype) if dtype != np.float64 else None
        rng = np.random.default_rng(seed)
        shape = (batch, steps, size) if kw.get("batch_first") else (steps, batch, size)
        x = Tensor(rng.normal(size=shape).astype(dtype), requires_grad=True, label="x")
        rows = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        state = None
        if hx:
            n_states = 2 if cell == "lstm" else 1
            state = [
                Tensor(rng.normal(size=(rows, batch, hidden)).astype(dtype), requires_grad=True)
                for _ in range(n_states)
            ]
            state = tuple(state) if cell == "lstm" else state[0]
        out, final = model(x, state)
        finals = final if isinstance(final, tuple) else (final,)
        weight = Tensor(rng.normal(size=out.shape).astype(dtype))
        loss = (out * weight).sum()
        for f in finals:
            loss = loss + (f * f).sum()
    finally:
        fused.ENABLED = old
    return model, x, state, loss


# what every generated configuration draws (the cell and the options differ per test)
SHAPES = dict(
    seed=st.integers(0, 2**16),
    steps=st.integers(1, 4),
    batch=st.integers(1, 3),
    hidden=st.integers(1, 4),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
)


def describe(nodes):
    """Each node's op, label, tags, parameters and where its inputs are in the order."""
    where = {n: i for i, n in enumerate(nodes)}
    rows = []
    for n in nodes:
        op = None if n.op is None else (n.op.name, repr(n.op.params()))
        inputs = tuple(where.get(i, ("const", i.data.tolist())) for i in n.inputs)
        rows.append((op, n.label, sorted(n.tags.items()), n.shape, inputs))
    return rows


def assert_same_run(cell, seed, tol=1e-11, **kw):
    m1, x1, s1, loss1 = build(cell, True, seed, **kw)
    m2, x2, s2, loss2 = build(cell, False, seed, **kw)
    n1, n2 = topo_order([loss1]), topo_order([loss2])
    groups = {n._group[0] for n in n1 if n._group is not None}
    assert groups, "the fused run made no group"
    assert not any(n._group is not None for n in n2)
    assert describe(n1) == describe(n2)
    for a, b in zip(n1, n2):
        np.testing.assert_allclose(a.data, b.data, rtol=tol, atol=tol)
    loss1.backward()
    loss2.backward()
    assert all(g.done for g in groups), "the backward pass did not run fused"
    for a, b in zip(n1, n2):
        assert (a.grad is None) == (b.grad is None), a.label
        if a.grad is not None:
            assert a.grad.dtype == b.grad.dtype
            np.testing.assert_allclose(a.grad, b.grad, rtol=tol, atol=tol, err_msg=str(a.label))
        for ea, eb in zip(a.edge_grads(), b.edge_grads()):
            assert (ea is None) == (eb is None)
            if ea is not None:
                np.testing.assert_allclose(ea, eb, rtol=tol, atol=tol, err_msg=str(a.label))
    for (name, p1), (_, p2) in zip(m1.named_parameters(), m2.named_parameters()):
        np.testing.assert_allclose(p1.grad, p2.grad, rtol=tol, atol=tol, err_msg=name)


@settings(max_examples=12, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru"]),
    **SHAPES,
    bias=st.booleans(),
    batch_first=st.booleans(),
    hx=st.booleans(),
    nonlinearity=st.sampled_from(["tanh", "relu", "sigmoid", "linear"]),
)
def test_fused_layer_builds_and_backpropagates_the_per_node_graph(
    cell, seed, steps, batch, hidden, layers, bidirectional, bias, batch_first, hx, nonlinearity
):
    kw = dict(num_layers=layers, bidirectional=bidirectional, bias=bias, batch_first=batch_first)
    if cell == "rnn":
        kw["nonlinearity"] = nonlinearity
    assert_same_run(cell, seed, steps=steps, batch=batch, hidden=hidden, hx=hx, **kw)


@contextlib.contextmanager
def lstm_rows():
    """Every fused LSTM in rows (`LSTMLayer.rows`, otherwise only from hidden 256)."""
    old, fused_layers.ROWS_FROM = fused_layers.ROWS_FROM, 0
    try:
        yield
    finally:
        fused_layers.ROWS_FROM = old


@settings(max_examples=8, deadline=None)
@given(
    **SHAPES,
    batch_first=st.booleans(),
    hx=st.booleans(),
)
def test_fused_lstm_in_rows_builds_and_backpropagates_the_per_node_graph(
    seed, steps, batch, hidden, layers, bidirectional, batch_first, hx
):
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    with lstm_rows():
        assert_same_run("lstm", seed, steps=steps, batch=batch, hidden=hidden, hx=hx, **kw)


def test_fused_lstm_picks_rows_for_wide_layers_and_columns_for_narrow_ones():
    for hidden, rows in ((8, False), (255, False), (256, True)):
        nn.manual_seed(0)
        out, _ = nn.LSTM(2, hidden)(Tensor(np.ones((2, 1, 2)), requires_grad=True))
        layer = out.inputs[0]._group[0]
        assert type(layer) is fused_layers.LSTMLayer and layer.rows is rows
        # rows store each step's (batch, features) block; columns its transpose
        stored = layer.buf["G"].shape[1:]
        assert stored == ((1, 4 * hidden) if rows else (4 * hidden, 1))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fused_layer_float32_keeps_its_dtype(cell):
    assert_same_run(cell, 1, tol=1e-5, dtype=np.float32, num_layers=2)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_fused_member_grads_do_not_change_when_the_optimizer_updates_weights(cell):
    model, _, _, loss = build(cell, True, 2)
    loss.backward()
    hw = [n for n in topo_order([loss]) if n.label == "h_2 W_hh^T"][0]
    opt = optim.SGD(model.parameters(), lr=10.0)
    opt.step()  # in place: W_hh changes under the graph
    _, _, _, ref = build(cell, False, 2)
    ref.backward()
    want = [n for n in topo_order([ref]) if n.label == "h_2 W_hh^T"][0]
    np.testing.assert_allclose(hw.grad, want.grad, rtol=1e-12)
    for got, exp in zip(hw.edge_grads(), want.edge_grads()):
        np.testing.assert_allclose(got, exp, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fused_buffers_are_not_reused_while_an_old_graph_is_alive(cell):
    _, _, _, first = build(cell, True, 3)
    first.backward()
    nodes = topo_order([first])
    data = [n.data.copy() for n in nodes]
    grads = [None if n.grad is None else n.grad.copy() for n in nodes]
    for seed in (4, 5, 6):  # new graphs of the same shapes, built and dropped
        _, _, _, other = build(cell, True, seed)
        other.backward()
        del other
    for n, d, g in zip(nodes, data, grads):
        np.testing.assert_array_equal(n.data, d)
        if g is not None:
            np.testing.assert_array_equal(n.grad, g)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "lstm rows"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_fused_backward_through_an_old_graph_after_a_newer_forward_is_exact(cell, bidirectional):
    """Two graphs alive at once share no buffer: backward through the first, built before
    the second, gives exactly what it gives alone; the second's values are untouched."""
    with lstm_rows() if cell == "lstm rows" else contextlib.nullcontext():
        old_graph_after_a_newer_forward(cell.split()[0], bidirectional)


def old_graph_after_a_newer_forward(cell, bidirectional):
    kw = {"bidirectional": bidirectional}
    m_alone, x_alone, _, alone = build(cell, True, 3, **kw)
    alone.backward()
    m_first, x_first, _, first = build(cell, True, 3, **kw)
    _, _, _, second = build(cell, True, 4, **kw)
    values = [n.data.copy() for n in topo_order([second])]
    first.backward()
    np.testing.assert_array_equal(x_first.grad, x_alone.grad)
    for (name, p), (_, q) in zip(m_first.named_parameters(), m_alone.named_parameters()):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)
    for a, b in zip(topo_order([first]), topo_order([alone])):
        np.testing.assert_array_equal(a.data, b.data)
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            np.testing.assert_array_equal(a.grad, b.grad, err_msg=str(a.label))
    for n, v in zip(topo_order([second]), values):
        np.testing.assert_array_equal(n.data, v)


def test_fused_graph_is_freed_without_the_cycle_collector():
    gc.disable()
    try:
        _, _, _, loss = build("lstm", True, 0)
        loss.backward()
        member = [n for n in topo_order([loss]) if n.label == "f_1"][0]
        ref = weakref.ref(member)
        group = weakref.ref(member._group[0])
        del loss, member
        assert ref() is None and group() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fused_loss_on_an_early_step_leaves_later_steps_without_grad(cell):
    nn.manual_seed(0)
    model = CLASSES[cell](2, 3)
    x = Tensor(np.random.default_rng(0).normal(size=(5, 1, 2)))
    run = model.unroll(x)
    loss = run.states[0][0][1][0].sum()  # h_1 only: steps 2..4 are not on a path to the loss
    loss.backward()
    last = run.states[0][0][4][0]
    by_label = {n.label: n for n in topo_order([last])}
    assert by_label["h_1"].grad is not None and by_label["h_0"].grad is not None
    assert by_label["h_3"].grad is None and by_label["h_4"].grad is None


def test_fused_member_hook_runs_and_can_replace_the_gradient():
    model, _, _, loss = build("lstm", True, 0)
    member = [n for n in topo_order([loss]) if n.label == "c_1"][0]
    seen = []
    member.register_hook(lambda g: seen.append(g.copy()) or np.zeros_like(g))
    loss.backward()
    assert len(seen) == 1
    before = [n for n in topo_order([loss]) if n.label == "f_1"][0]
    np.testing.assert_array_equal(before.grad, 0.0)  # f_1 only reaches the loss through c_1


def test_fused_loss_on_a_gate_is_exact():
    _, x, _, loss = build("gru", True, 0)
    z = [n for n in topo_order([loss]) if n.label == "z_1"][0]
    total = loss + (z * z).sum()
    total.backward()
    got = x.grad.copy()
    _, x2, _, loss2 = build("gru", False, 0)
    z2 = [n for n in topo_order([loss2]) if n.label == "z_1"][0]
    (loss2 + (z2 * z2).sum()).backward()
    np.testing.assert_allclose(got, x2.grad, rtol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fused_backward_twice_accumulates_and_backward_steps_replays_it_exactly(cell):
    model, x, _, loss = build(cell, True, 7, num_layers=2, bidirectional=True)
    loss.backward()
    once = {n: p.grad.copy() for n, p in model.named_parameters()}
    loss.backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, 2 * once[name], rtol=1e-12)
    nodes = topo_order([loss])
    expected = {n: n.grad.copy() for n in nodes if n.op is not None}
    model.zero_grad()
    x.grad = None
    h1 = [n for n in nodes if n.label == "h_1^(0)"][0]
    walk = backward_steps(loss)
    for step in walk:
        if step.node is h1:
            break
        assert step.node.grad is not None
    later = [n for n in nodes if n.label == "h_0^(0)" and n._group[0] is h1._group[0]]
    assert all(n.grad is None for n in later), "a step's gradient appeared before its step"
    list(walk)
    for n, g in expected.items():
        np.testing.assert_array_equal(n.grad, g)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fused_layer_with_frozen_input_weights_matches_per_node(cell):
    results = []
    for fuse in (True, False):
        old, fused.ENABLED = fused.ENABLED, fuse
        try:
            nn.manual_seed(0)
            model = CLASSES[cell](3, 4, num_layers=2)
            for name, p in model.named_parameters():
                p.requires_grad = not name.endswith("l0") or "hh" in name
            x = Tensor(np.random.default_rng(0).normal(size=(3, 2, 3)))
            out, _ = model(x)
            (out * out).sum().backward()
            results.append({n: p.grad for n, p in model.named_parameters()})
        finally:
            fused.ENABLED = old
    for name, grad in results[1].items():
        if grad is None:
            assert results[0][name] is None, name
        else:
            np.testing.assert_allclose(results[0][name], grad, rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("changed", ["weight_hh_l0", "weight_hh_l1_reverse"])
def test_fused_layer_refuses_backward_after_its_weight_hh_changed(cls, changed):
    # the per-node graph saves W_hh in every `h W_hh^T` node; the fused layer keeps its own
    # copy, yet must refuse exactly as the per-node walk does (never a stale gradient)
    model = cls(3, 4, 2, bidirectional=True)
    opt = optim.SGD([getattr(model, changed)], lr=0.1)
    x = Tensor(np.random.default_rng(0).normal(size=(5, 2, 3)))
    out = model(x)[0]
    loss = (out * out).sum()
    getattr(model, changed).grad = np.ones(getattr(model, changed).shape)
    opt.step()
    with pytest.raises(RuntimeError, match=rf"'{changed}'.*SGD.step\(\) changed it"):
        loss.backward()


def test_fused_relu_passes_gradient_at_a_nan_pre_activation_as_relu_does():
    # Relu's mask is ~(a <= 0) (torch): a nan pre-activation lets the gradient through
    got = []
    for fuse in (True, False):
        old = fused.ENABLED
        fused.ENABLED = fuse
        try:
            nn.manual_seed(0)
            model = nn.RNN(2, 3, nonlinearity="relu")
            x = Tensor(np.array([[[0.5, -1.0]], [[np.nan, 1.0]]]), requires_grad=True)
            out, _ = model(x)
            loss = out.sum()
            loss.backward()
        finally:
            fused.ENABLED = old
        by_label = {n.label: n for n in topo_order([loss])}
        got.append((by_label["a_1"].grad, x.grad, model.weight_ih_l0.grad))
    for fused_grad, node_grad in zip(*got):
        np.testing.assert_array_equal(fused_grad, node_grad)
    np.testing.assert_array_equal(got[0][0], 1.0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fused_buffers_are_not_reused_while_a_gradient_view_of_them_is_held(cell):
    # the gradient the group sends to h_0's row (a getitem node) is a buffer of its own;
    # holding only that array must keep the whole buffer from the next forward pass
    def run(seed):
        model, x, state, loss = build(cell, True, seed, hx=True)
        loss.backward()
        row = [n for n in topo_order([loss]) if n.label == "h_init"][0]
        return row.grad, row.grad.copy()

    held, want = run(0)
    for seed in (1, 2, 3):
        run(seed)
    np.testing.assert_array_equal(held, want)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_empty_batch(cell, layers, bidirectional, batch_first):
    """A batch of 0 (fused layers on, as by default) gives PyTorch's shapes and zero-size
    gradients: output (T, 0, D*H), h_n/c_n (D*layers, 0, H), zero parameter gradients."""
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    nn.manual_seed(0)
    model = CLASSES[cell](3, 4, **kw)
    x = Tensor(np.zeros((0, 3, 3) if batch_first else (3, 0, 3)), requires_grad=True)
    dirs = 2 if bidirectional else 1
    h0 = Tensor(np.zeros((dirs * layers, 0, 4)), requires_grad=True)
    hx = (h0, Tensor(np.zeros((dirs * layers, 0, 4)), requires_grad=True)) if cell == "lstm" else h0
    out, final = model(x, hx)
    finals = final if isinstance(final, tuple) else (final,)
    assert out.shape == ((0, 3, dirs * 4) if batch_first else (3, 0, dirs * 4))
    assert [f.shape for f in finals] == [(dirs * layers, 0, 4)] * len(finals)
    loss = out.sum()
    for f in finals:
        loss = loss + f.sum()
    loss.backward()
    assert x.grad.shape == x.shape and h0.grad.shape == h0.shape
    for name, p in model.named_parameters():
        assert p.grad.shape == p.shape and not p.grad.any(), name


@pytest.mark.torch
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_empty_batch_torch(cell):
    """Shapes and gradients of an empty batch equal torch's (2 layers, bidirectional)."""
    torch = pytest.importorskip("torch")
    kw = dict(num_layers=2, bidirectional=True, batch_first=True)
    ours = CLASSES[cell](3, 4, **kw)
    theirs = getattr(torch.nn, cell.upper())(3, 4, **kw).double()
    x = Tensor(np.zeros((0, 5, 3)), requires_grad=True)
    tx = torch.zeros(0, 5, 3, dtype=torch.float64, requires_grad=True)
    (out, final), (tout, tfinal) = ours(x), theirs(tx)
    finals = final if isinstance(final, tuple) else (final,)
    tfinals = tfinal if isinstance(tfinal, tuple) else (tfinal,)
    assert out.shape == tuple(tout.shape)
    assert [f.shape for f in finals] == [tuple(f.shape) for f in tfinals]
    out.sum().backward()
    tout.sum().backward()
    assert x.grad.shape == tuple(tx.grad.shape)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.grad, tp.grad.numpy(), err_msg=name)


def lazy_nodes(loss):
    """The LSTM members whose values the fused layer computes only when read."""
    return [n for n in topo_order([loss]) if isinstance(n, fused_blocks.Lazy)]


@pytest.mark.parametrize("rows", [False, True])
def test_fused_lstm_computes_values_no_step_needs_only_when_read(rows):
    """`h W_hh^T`, `a_t`, its slices and `X W_ih^T` are lazy: forward and backward leave them
    uncomputed; their shape, dtype and labels are there without computing; the first read
    of any one computes all of them, equal to the per-node graph's."""
    with lstm_rows() if rows else contextlib.nullcontext():
        _, _, _, loss = build("lstm", True, 5, steps=3, num_layers=2, bidirectional=True)
    lazy = lazy_nodes(loss)
    labels = {n.label for n in lazy}
    some = {"X W_ih^T", "x_1 W_ih^T", "h_0^(0) W_hh^T", "a_1^(0)", "a'_1^(0)", "a_1^(1)"}
    assert some <= labels
    layers = {n._layer for n in lazy}
    loss.backward()
    assert not any(layer.filled for layer in layers)
    assert all(n.shape == n._value.shape and n.dtype == np.float64 for n in lazy)
    assert not any(layer.filled for layer in layers)
    _, _, _, ref = build("lstm", False, 5, steps=3, num_layers=2, bidirectional=True)
    ref.backward()
    for a, b in zip(topo_order([loss]), topo_order([ref])):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-14, err_msg=a.label)
    assert all(layer.filled for layer in layers)


@pytest.mark.parametrize("change", ["optimizer", "in place", "assign"])
def test_fused_lstm_lazy_values_are_what_the_forward_pass_made(change):
    """Lazy values read only the layer's own copies: an optimizer step, an in-place change
    of a state node (under no_grad) or of x, or assigning new data before the first read
    leaves every value the layer made what the forward pass made."""
    model, x, _, loss = build("lstm", True, 6, steps=3)
    _, _, _, ref = build("lstm", False, 6, steps=3)
    nodes, want = topo_order([loss]), [n.data.copy() for n in topo_order([ref])]
    h0 = next(n for n in nodes if n.label == "h_0")
    if change == "optimizer":
        loss.backward()
        optim.SGD(model.parameters(), lr=10.0).step()
    elif change == "in place":
        with no_grad():
            h0.zero_()
            x.mul_(3.0)
    else:
        h0.data = np.full(h0.shape, 7.0)
    for n, value in zip(nodes, want):  # every value the layer made (not the leaves, not h_0)
        if n.op is not None and n is not h0:
            np.testing.assert_allclose(n.data, value, rtol=1e-12, err_msg=str(n.label))
    if change != "optimizer":
        assert not np.allclose(h0.data, want[nodes.index(h0)])


def test_fused_lstm_lazy_value_assigned_is_kept():
    _, _, _, loss = build("lstm", True, 7, steps=2)
    a = next(n for n in lazy_nodes(loss) if n.label == "a_1")
    a.data = np.zeros(a.shape)
    np.testing.assert_array_equal(a.data, 0.0)
    assert a._version == 1
    other = next(n for n in lazy_nodes(loss) if n.label == "a_0")
    assert np.abs(other.data).sum() > 0  # the rest still computes


@settings(max_examples=15, deadline=None)
@given(
    cell=st.sampled_from(["rnn", "lstm", "gru", "lstm rows"]),
    **SHAPES,
    bias=st.booleans(),
    hx=st.booleans(),
)
def test_fused_graph_is_true_every_value_is_its_op_of_its_inputs(
    cell, seed, steps, batch, hidden, layers, bidirectional, bias, hx
):
    """What a picture or the stepper shows is what the formula gives: for every node of a
    fused graph, computed in the step, lazily or by the backward pass, its op's forward rule
    applied to its inputs' values gives its value (to rounding: the fused step computes the
    gates from one product, not from a_t)."""
    kw = dict(num_layers=layers, bidirectional=bidirectional, bias=bias)
    with lstm_rows() if cell == "lstm rows" else contextlib.nullcontext():
        _, _, _, loss = build(cell.split()[0], True, seed, steps, batch, hidden=hidden, hx=hx, **kw)
    loss.backward()
    for node in topo_order([loss]):
        if node.op is not None:
            again = copy.copy(node.op).forward(*[x.data for x in node.inputs])
            np.testing.assert_allclose(again, node.data, rtol=1e-12, atol=1e-14, err_msg=node.label)
