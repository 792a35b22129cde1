"""Graph semantics of the engine: accumulation, reuse, modes, hooks, edges, grad(), errors."""

import inspect
import sys

import numpy as np
import pytest

from tinygrad_rnn import (
    Tensor,
    backward_steps,
    grad,
    jacobian,
    no_grad,
    scope,
    topo_order,
)
from tinygrad_rnn.opcases import micrograd_example


def leaf(values, label=None):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True, label=label)


def numeric_jacobian(f, x, eps=1e-6):
    """d f(x) / dx by central differences, shape f(x).shape + x.shape."""
    x0 = x.data.copy()
    out_shape = f(x0).shape
    J = np.zeros(out_shape + x0.shape)
    for index in np.ndindex(x0.shape):
        plus, minus = x0.copy(), x0.copy()
        plus[index] += eps
        minus[index] -= eps
        J[(...,) + index] = (f(plus) - f(minus)) / (2 * eps)
    return J


# ----- accumulation over shared subexpressions ------------------------------------------------


def test_backward_a_plus_a_counts_both_edges():
    a = leaf(3.0)
    b = a + a
    assert b.inputs == (a, a)
    b.backward()
    assert a.grad == 2.0


def test_backward_x_plus_x_times_x():
    x = leaf([1.0, -2.0])
    ((x + x) * x).sum().backward()  # d(2x^2)/dx = 4x
    np.testing.assert_allclose(x.grad, [4.0, -8.0])


def test_backward_diamond_sums_both_paths():
    x = leaf(0.7)
    a = x * 2.0
    b = x.exp()
    (a * b).backward()  # y = 2x e^x
    np.testing.assert_allclose(x.grad, 2 * np.exp(0.7) + 2 * 0.7 * np.exp(0.7))


@pytest.mark.parametrize("shape", [(), (3,)])
def test_backward_one_tensor_in_many_ops(shape):
    x = Tensor(np.full(shape, 2.0), requires_grad=True)
    y = x * x * x + x.tanh() + (x + 1.0) * x - x / 4.0 + x.exp()
    y.sum().backward()
    v = 2.0
    expected = 3 * v**2 + (1 - np.tanh(v) ** 2) + 2 * v + 1 - 0.25 + np.exp(v)
    np.testing.assert_allclose(x.grad, np.full(shape, expected))


def test_backward_scalar_chain_of_three_uses_keeps_every_contribution():
    # regression: numpy returns the sum of 0-d arrays as an immutable scalar, and an
    # in-place add into it used to drop the third contribution (x*x*x gave 8, not 12)
    x = leaf(2.0)
    (x * x * x).backward()
    assert x.grad == 12.0
    x = leaf(2.0)
    (x + x + x + x).backward()
    assert x.grad == 4.0
    assert isinstance(x.grad, np.ndarray) and isinstance((x + x).data, np.ndarray)


def test_backward_micrograd_example():
    a = Tensor(-4.0, requires_grad=True)
    b = Tensor(2.0, requires_grad=True)
    g = micrograd_example(a, b)
    g.backward()
    assert g.item() == pytest.approx(24.7041, abs=1e-4)
    assert a.grad.item() == pytest.approx(138.8338, abs=1e-4)
    assert b.grad.item() == pytest.approx(645.5773, abs=1e-4)


# ----- what backward leaves behind ------------------------------------------------------------


def test_backward_twice_accumulates_on_leaves_and_resets_non_leaves():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    y = (h * h).sum()
    y.backward()
    first_x, first_h = x.grad, h.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first_x)  # leaves accumulate (PyTorch semantics)
    np.testing.assert_allclose(h.grad, first_h)  # non-leaves are reset per call
    np.testing.assert_allclose(first_x, 18 * x.data)  # the old .grad array was not written
    x.zero_grad()
    y.backward()
    np.testing.assert_allclose(x.grad, first_x)


def test_backward_every_node_on_a_path_keeps_its_grad():
    x = leaf([0.5, -1.0])
    W = leaf([[0.1, 0.2], [0.3, -0.4]])
    h = (x @ W).named("a").tanh().named("h")
    y = (h * h).sum().named("y")
    y.backward()
    for node in topo_order([y]):
        assert node.grad is not None and node.grad.shape == node.shape, node
    np.testing.assert_allclose(h.grad, 2 * h.data)
    assert y.grad == 1.0


def test_backward_never_writes_into_arrays_others_hold():
    x = leaf([1.0, 2.0, 3.0])
    seed = np.array([1.0, 10.0, 100.0])
    seed_copy = seed.copy()
    y = x + x + x  # Add passes the seed gradient on by reference; three edges reach x
    y.backward(seed)
    np.testing.assert_array_equal(seed, seed_copy)
    np.testing.assert_array_equal(x.grad, 3 * seed)
    edges = [e.copy() for e in y.edge_grads()]
    held = x.grad
    y.backward(seed)
    np.testing.assert_array_equal(held, 3 * seed)
    np.testing.assert_array_equal(seed, seed_copy)
    for before, after in zip(edges, y.edge_grads()):
        np.testing.assert_array_equal(before, after)


def test_backward_float32_graph_keeps_float32_gradients():
    x = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32), requires_grad=True)
    w = Tensor(np.array([0.5, -1.0]), requires_grad=True)  # float64: x * w promotes
    y = ((x * 2.0).max(axis=0).values + x.sum(axis=1)).sum()
    assert y.dtype == np.float32
    y.backward()
    (x * w).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    for node in topo_order([y]):
        assert node.grad.dtype == np.float32


def test_backward_steps_exhausted_equals_backward():
    x = leaf([1.0, 2.0])
    y = (x.tanh() * x).sum()
    steps = list(backward_steps(y))
    assert [s.index for s in steps] == list(range(1, len(steps) + 1))
    assert steps[0].node is y and steps[-1].node is x
    stepped = x.grad.copy()
    x.zero_grad()
    y.backward()
    np.testing.assert_array_equal(x.grad, stepped)


# ----- modes, tags, labels, detach ------------------------------------------------------------


def test_no_grad_builds_no_graph():
    x = leaf([1.0, 2.0])
    with no_grad():
        y = (x * 2.0).tanh()
        assert y.requires_grad is False and y.inputs == () and y.op is None
    z = x * 2.0
    assert z.requires_grad and z.inputs[0] is x and z.op.name == "mul"


def test_no_grad_restores_the_mode_after_an_error():
    x = leaf([1.0])
    with pytest.raises(ValueError), no_grad():
        raise ValueError("boom")
    assert (x * 2.0).requires_grad


def test_scope_tags_nest_and_inner_wins():
    x = leaf([1.0])
    with scope(layer=0, direction="forward"):
        a = x * 2.0
        with scope(t=3, direction="reverse"):
            b = a + 1.0
        c = b * a
    d = c * 1.0
    assert a.tags == {"layer": 0, "direction": "forward"}
    assert b.tags == {"layer": 0, "direction": "reverse", "t": 3}
    assert c.tags == {"layer": 0, "direction": "forward"}
    assert d.tags == {}
    assert x.tags == {}


def test_named_sets_label_and_returns_the_tensor():
    x = leaf([1.0, 2.0])
    h = (x * 2.0).named("h_1")
    assert h.label == "h_1" and isinstance(h, Tensor)
    assert "'h_1'" in repr(h) and "op=mul" in repr(h)


def test_detach_cuts_the_graph_and_shares_data():
    x = leaf([1.0, 2.0], label="x")
    d = x.detach()
    assert d.is_leaf and not d.requires_grad and d.data is x.data and d.label == "x"
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad, x.data)  # only the attached operand counts


# ----- hooks ----------------------------------------------------------------------------------


def test_hook_replaces_a_gradient():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    h.register_hook(lambda g: g * 0.0 + 1.0)
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad, [1.0, 1.0])  # the node keeps the replaced gradient
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_hook_removed_is_not_called():
    x = leaf([1.0, 2.0])
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 2.0).sum().backward()
    handle.remove()
    handle.remove()  # twice is harmless
    (x * 2.0).sum().backward()
    assert calls == [1]


def test_hook_on_a_leaf_sees_this_passes_gradient_not_the_accumulated_one():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(np.array(g)))
    for _ in range(2):
        ((x * 2.0).sum() + (x * 3.0).sum()).backward()
    np.testing.assert_array_equal(seen[0], [5.0, 5.0])
    np.testing.assert_array_equal(seen[1], [5.0, 5.0])
    np.testing.assert_array_equal(x.grad, [10.0, 10.0])


def test_hook_with_wrong_shape_is_an_error():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        (x * 2.0).sum().backward()


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).register_hook(print)


# ----- edge gradients -------------------------------------------------------------------------


def test_edge_grads_sum_to_each_nodes_gradient():
    rng = np.random.default_rng(0)
    x = leaf(rng.normal(size=(3, 4)), "x")
    W = leaf(rng.normal(size=(4, 4)), "W")
    b = leaf(rng.normal(size=4), "b")
    h = x[0]
    for t in range(1, 3):  # an unrolled recurrence: W and b are shared by every step
        h = (h @ W + b + x[t]).tanh()
    y = (h * h).sum() + (h + h).sum()
    y.backward()
    nodes = topo_order([y])
    received = {id(n): np.zeros(n.shape) for n in nodes}
    for node in nodes:
        for inp, g in zip(node.inputs, node.edge_grads()):
            if inp.requires_grad:
                received[id(inp)] += g
    for node in nodes:
        if node is not y:
            np.testing.assert_allclose(received[id(node)], node.grad, rtol=1e-12, atol=1e-12)
    assert len(W.edge_grads()) == 0 and h.edge_grads()[0].shape == (4,)


# ----- grad() and jacobian() ------------------------------------------------------------------


def test_grad_wrt_leaves_and_intermediates_leaves_grad_untouched():
    x = leaf([1.0, 2.0])
    h = (x * 2.0).named("h")
    y = (h * h).sum()
    unused = leaf([5.0])
    gx, gh, gu = grad(y, [x, h, unused])
    np.testing.assert_allclose(gh, 2 * h.data)
    np.testing.assert_allclose(gx, 8 * x.data)
    np.testing.assert_array_equal(gu, [0.0])
    assert x.grad is None and h.grad is None and y.grad is None
    np.testing.assert_allclose(grad(y, h), 2 * h.data)  # a single input gives a single array


def test_jacobian_matches_finite_differences():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 4))
    x = leaf(rng.normal(size=4))
    J = jacobian((Tensor(W) @ x).tanh(), x)
    assert J.shape == (3, 4)
    np.testing.assert_allclose(J, numeric_jacobian(lambda v: np.tanh(W @ v), x), atol=1e-8)
    h = leaf(rng.normal(size=(2, 2)))
    J2 = jacobian(h.softmax(axis=-1), h)
    assert J2.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(
        J2, numeric_jacobian(lambda v: np.exp(v) / np.exp(v).sum(-1, keepdims=True), h), atol=1e-8
    )


# ----- deep graphs ----------------------------------------------------------------------------


def test_backward_100000_op_chain_is_iterative():
    x = leaf(1.0)
    y = x
    for _ in range(50_000):
        y = y * 1.0 + 0.0
    limit = sys.getrecursionlimit()
    # far below the chain's depth: any recursive walk would raise RecursionError
    sys.setrecursionlimit(len(inspect.stack()) + 100)
    try:
        y.backward()
        order = topo_order([y])
    finally:
        sys.setrecursionlimit(limit)
    assert len(order) == 100_001
    assert x.grad == 1.0


# ----- errors ---------------------------------------------------------------------------------


def test_backward_non_scalar_without_grad_is_an_error():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(RuntimeError, match=r"scalar output.*\(2,\).*grad="):
        y.backward()
    with pytest.raises(ValueError, match="shape"):
        y.backward(np.ones(3))


def test_backward_on_a_tensor_that_does_not_require_grad_is_an_error():
    y = Tensor([1.0, 2.0]).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_matmul_shape_mismatch_names_the_op_and_the_shapes():
    with pytest.raises(ValueError) as info:
        leaf(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    message = str(info.value)
    assert message.startswith("matmul:") and "(2, 3)" in message and "(4, 5)" in message


def test_broadcast_mismatch_names_the_op_and_the_shapes():
    with pytest.raises(ValueError, match=r"add: .*\(2, 3\), \(2,\)"):
        leaf(np.ones((2, 3))) + leaf(np.ones(2))


def test_requires_grad_on_integer_data_is_an_error():
    with pytest.raises(TypeError, match="floating-point"):
        Tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.arange(3)).requires_grad_()
    assert Tensor([1, 2]).dtype.kind == "i" and Tensor([1.0, 2]).dtype == np.float64
