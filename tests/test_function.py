"""tinygrad_rnn.Function: custom backward rules in numpy, behaving like torch.autograd.Function."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_rnn import (
    AnomalyError,
    Function,
    Tensor,
    backward_steps,
    detect_anomaly,
    gradcheck,
    no_grad,
    scope,
)
from tinygrad_rnn.gradcheck import GradcheckError


class ScaledSoftplus(Function):
    """y = log(1 + exp(k x)) / k;  dy/dx = sigmoid(k x)."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return np.logaddexp(0.0, k * x) / k

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out / (1.0 + np.exp(-ctx.k * x)), None


class Bilinear(Function):
    """z = a * b * w;  dz/da = b w, dz/db = a w (w a plain array: no gradient)."""

    @staticmethod
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b)
        ctx.w = w
        return a * b * w

    @staticmethod
    def backward(ctx, grad_out):
        a, b = ctx.saved_tensors
        ga = grad_out * b * ctx.w if ctx.needs_input_grad[0] else None
        gb = grad_out * a * ctx.w if ctx.needs_input_grad[1] else None
        return ga, gb, None


def _rng(seed=0):
    return np.random.default_rng(seed)


def test_function_gradcheck_and_node_named_after_the_class():
    x = Tensor(_rng().normal(size=(3, 4)), requires_grad=True)
    y = ScaledSoftplus.apply(x, 2.0)
    assert y.op.name == "ScaledSoftplus" and y.inputs == (x,)
    assert y.op.params() == {"k": 2.0}
    assert gradcheck(lambda x: ScaledSoftplus.apply(x, 2.0), [x])
    a = Tensor(_rng(1).normal(size=(2, 3)), requires_grad=True)
    b = Tensor(_rng(2).normal(size=(2, 3)), requires_grad=True)
    w = _rng(3).normal(size=(2, 3))
    assert gradcheck(lambda a, b: Bilinear.apply(a, b, w), [a, b])


def test_function_gradcheck_catches_a_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x**2

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * 3.0  # should depend on x

    x = Tensor([0.5, -1.0], requires_grad=True)
    with pytest.raises(GradcheckError):
        gradcheck(Wrong.apply, [x])


def test_function_needs_input_grad_and_none_gradients():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.full(3, 2.0))
    seen = []

    class Spy(Bilinear):
        @staticmethod
        def backward(ctx, grad_out):
            seen.append(ctx.needs_input_grad)
            return Bilinear.backward(ctx, grad_out)

    Spy.apply(a, b, 1.5).sum().backward()
    assert seen == [(True, False, False)]
    np.testing.assert_allclose(a.grad, 3.0)
    assert b.grad is None
    with no_grad():
        out = Spy.apply(a, b, 1.5)
    assert not out.requires_grad and out.op is None


def test_function_inside_a_graph_hooks_scope_and_edges():
    x = Tensor(_rng().normal(size=4), requires_grad=True)
    with scope(t=3):
        y = ScaledSoftplus.apply(x * 2.0, 1.0).named("y")
    assert y.tags == {"t": 3}
    calls = []
    handle = y.register_hook(lambda g: calls.append(g.copy()) or g * 0.5)
    (y * y).sum().backward()
    expected = 2.0 * y.data * 0.5 / (1 + np.exp(-2.0 * x.data)) * 2.0
    np.testing.assert_allclose(x.grad, expected)
    np.testing.assert_allclose(calls[0], 2.0 * y.data)
    np.testing.assert_allclose(y.edge_grads()[0], expected / 2.0)
    handle.remove()


def test_function_backward_steps_show_the_function():
    x = Tensor(_rng().normal(size=3), requires_grad=True)
    y = ScaledSoftplus.apply(x, 1.0).named("y")
    loss = y.sum()
    steps = list(backward_steps(loss))
    names = [s.node.op.name for s in steps if s.node.op is not None]
    assert "ScaledSoftplus" in names
    assert any("ScaledSoftplus" in str(s) for s in steps)


def test_function_detect_anomaly_names_the_function_and_its_rule():
    class Log(Function):
        """y = log(x);  dy/dx = 1/x."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.log(x)

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out / x

    x = Tensor([1.0, 0.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly(), np.errstate(divide="ignore"):
        Log.apply(x)
    assert info.value.phase == "forward" and info.value.node.op.name == "Log"
    assert "forward of Log" in str(info.value) and "y = log(x)" in str(info.value)


def test_function_detect_anomaly_backward_names_the_function():
    class BadBack(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * np.nan

    x = Tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        y = BadBack.apply(x)
        with pytest.raises(AnomalyError) as info:
            y.sum().backward()
    assert info.value.phase == "backward" and "backward of BadBack" in str(info.value)


def test_function_picture_shows_the_name():
    viz = pytest.importorskip("viz")
    x = Tensor(_rng().normal(size=3), requires_grad=True, label="x")
    with scope(t=0):
        y = ScaledSoftplus.apply(x, 1.0).named("h_0")
    y.sum().backward()
    dot = viz.to_dot(y)
    assert "ScaledSoftplus" in dot and "h_0" in dot


# ----- bad backward rules: clear errors naming the function and the input --------------


def _one_input(backward):
    return type(
        "Custom",
        (Function,),
        {
            "forward": staticmethod(lambda ctx, x, k: x * k),
            "backward": staticmethod(backward),
        },
    )


@pytest.mark.parametrize(
    "backward, kind, words",
    [
        (lambda ctx, g: g, ValueError, ["Custom.backward", "1 gradient", "expected 2"]),
        (lambda ctx, g: (g, None, None, g), ValueError, ["returned 4", "expected 2"]),
        (lambda ctx, g: (g[:1], None), ValueError, ["input 0 (x)", "shape (1,)", "(3,)"]),
        (lambda ctx, g: (g.astype(np.float32), None), TypeError, ["input 0 (x)", "float32"]),
        (lambda ctx, g: (g.astype(int), None), TypeError, ["input 0 (x)", "int"]),
        (lambda ctx, g: (g, g), ValueError, ["input 1 (k)", "not a Tensor", "None"]),
        (lambda ctx, g: (Tensor(g), None), TypeError, ["input 0 (x)", "Tensor"]),
        (lambda ctx, g: ("oops", None), ValueError, ["input 0 (x)"]),
    ],
)
def test_function_bad_backward_is_a_clear_error(backward, kind, words):
    x = Tensor(np.ones(3), requires_grad=True)
    y = _one_input(backward).apply(x, 2.0)
    with pytest.raises(kind) as info:
        y.sum().backward()
    for w in words:
        assert w in str(info.value)


def test_function_extra_trailing_none_gradients_are_accepted_as_in_torch():
    x = Tensor(np.ones(3), requires_grad=True)
    _one_input(lambda ctx, g: (g * 2.0, None, None)).apply(x, 2.0).sum().backward()
    np.testing.assert_allclose(x.grad, 2.0)


def test_function_in_place_write_is_refused():
    def backward(ctx, g):
        g *= 2.0
        return g, None

    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="Custom.backward wrote into a read-only array"):
        _one_input(backward).apply(x, 2.0).sum().backward()
    assert np.all(x.data == 1.0)


@pytest.mark.parametrize(
    "forward, words",
    [
        (lambda ctx, x: (x, x), ["Custom", "2 values", "one output"]),
        (lambda ctx, x: Tensor(x), ["Custom", "Tensor"]),
        (lambda ctx, x: x > 0, ["Custom", "bool", "floating-point"]),
    ],
)
def test_function_bad_forward_is_a_clear_error(forward, words):
    f = type(
        "Custom", (Function,), {"forward": staticmethod(forward), "backward": Bilinear.backward}
    )
    with pytest.raises(TypeError) as info:
        f.apply(Tensor(np.ones(2), requires_grad=True))
    for w in words:
        assert w in str(info.value)


def test_function_without_backward_or_on_the_base_class_is_refused():
    with pytest.raises(TypeError, match="Function.apply"):
        Function.apply(Tensor(1.0))
    only_forward = type("Half", (Function,), {"forward": staticmethod(lambda ctx, x: x)})
    with pytest.raises(TypeError, match="Half must define backward"):
        only_forward.apply(Tensor(1.0))


# ----- the property: any layout of tensor and plain arguments --------------------------


class WeightedSum(Function):
    """y = sum_i c_i * prod(x_i) elementwise; non-tensor arguments are the constants c_i."""

    @staticmethod
    def forward(ctx, *args):
        ctx.save_for_backward(*[a for a in args if isinstance(a, np.ndarray)])
        ctx.layout = [isinstance(a, np.ndarray) for a in args]
        ctx.consts = [a for a in args if not isinstance(a, np.ndarray)]
        arrays = ctx.saved_tensors
        return sum(arrays) * (1.0 + sum(ctx.consts)) if arrays else np.zeros(2)

    @staticmethod
    def backward(ctx, grad_out):
        scale = 1.0 + sum(ctx.consts)
        return tuple(
            (grad_out * scale if needed else None) if is_array else None
            for is_array, needed in zip(ctx.layout, ctx.needs_input_grad)
        )


@settings(max_examples=15, deadline=None)
@given(
    layout=st.lists(st.sampled_from(["grad", "const_tensor", "number"]), min_size=1, max_size=5),
    seed=st.integers(0, 2**16),
)
def test_function_any_argument_layout_gets_the_right_gradients(layout, seed):
    rng = np.random.default_rng(seed)
    args = []
    for kind in layout:
        if kind == "number":
            args.append(float(rng.uniform(-1, 1)))
        else:
            args.append(Tensor(rng.normal(size=2), requires_grad=kind == "grad"))
    out = WeightedSum.apply(*args)
    tensors = [a for a in args if isinstance(a, Tensor)]
    assert out.requires_grad == any(t.requires_grad for t in tensors)
    if not out.requires_grad:
        assert out.op is None  # no input needs a gradient: a constant, as for any op
        return
    assert out.inputs == tuple(tensors) and out.op.name == "WeightedSum"
    (out * out).sum().backward()
    scale = 1.0 + sum(a for a in args if not isinstance(a, Tensor))
    for t in tensors:
        if t.requires_grad:
            np.testing.assert_allclose(t.grad, 2 * out.data * scale)
        else:
            assert t.grad is None


@settings(max_examples=15, deadline=None)
@given(
    shape=st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple),
    bad=st.sampled_from(["shape", "dtype", "count"]),
    position=st.integers(0, 2),
)
def test_function_any_bad_gradient_names_function_and_input(shape, bad, position):
    n_args = 3

    def backward(ctx, g):
        grads = [np.zeros(shape) for _ in range(n_args)]
        if bad == "shape":
            grads[position] = np.zeros(shape + (2,))
        elif bad == "dtype":
            grads[position] = np.zeros(shape, dtype=np.int64)
        else:
            grads = grads[:position]
        return tuple(grads)

    f = type(
        "Triple",
        (Function,),
        {
            "forward": staticmethod(lambda ctx, a, b, c: a + b + c),
            "backward": staticmethod(backward),
        },
    )
    xs = [Tensor(np.ones(shape), requires_grad=True) for _ in range(n_args)]
    y = f.apply(*xs)
    with pytest.raises((ValueError, TypeError)) as info:
        y.backward(np.ones(shape))
    message = str(info.value)
    assert message.startswith("Triple.backward")
    if bad == "count":
        assert f"returned {position} gradient" in message and "expected 3" in message
    else:
        assert f"input {position} ({'abc'[position]})" in message


@pytest.mark.torch
def test_function_matches_torch_autograd_function():
    torch = pytest.importorskip("torch")

    class TorchSoftplus(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return torch.nn.functional.softplus(k * x) / k

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * torch.sigmoid(ctx.k * x), None

    data = _rng(5).normal(size=(4, 3))
    xt = torch.tensor(data, requires_grad=True)
    (TorchSoftplus.apply(xt, 1.5) ** 2).sum().backward()
    x = Tensor(data, requires_grad=True)
    y = ScaledSoftplus.apply(x, 1.5)
    (y**2).sum().backward()
    np.testing.assert_allclose(y.data, TorchSoftplus.apply(xt, 1.5).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), atol=1e-12)


def test_function_gradient_for_an_input_that_needs_none_is_dropped_as_in_torch():
    x = Tensor(np.ones(3), requires_grad=True)
    index = Tensor(np.arange(3))  # an integer tensor: never differentiable
    body = {
        "forward": staticmethod(lambda ctx, x, index: x * index),
        "backward": staticmethod(lambda ctx, g: (g * 2.0, np.zeros(7))),  # junk for `index`
    }
    y = type("Scale", (Function,), body).apply(x, index)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 2.0)
    assert y.edge_grads()[1] is None and index.grad is None


def test_function_in_the_step_debugger_is_named():
    from tinygrad_rnn.analysis import debugger

    x = Tensor(_rng().normal(size=3), requires_grad=True, label="x")
    y = ScaledSoftplus.apply(x, 1.0).named("y")
    lines = []
    session = debugger.Session(y.sum())
    debugger.execute_lines(session, ["n", "n", "w", "q"], lines.append)
    assert "ScaledSoftplus" in "\n".join(lines)


def test_function_mark_non_differentiable_and_torch_ctx_methods():
    class ArgMax(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_non_differentiable()
            ctx.set_materialize_grads(False)
            return np.argmax(x, axis=-1)  # integers: fine once marked

        @staticmethod
        def backward(ctx, grad_out):
            raise AssertionError("never called")

    x = Tensor(np.array([[1.0, 3.0], [4.0, 2.0]]), requires_grad=True)
    index = ArgMax.apply(x)
    assert not index.requires_grad and index.op is None
    np.testing.assert_array_equal(index.data, [1, 0])

    class Dirty(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out

    with pytest.raises(ValueError, match="Dirty: mark_dirty"):
        Dirty.apply(x)
