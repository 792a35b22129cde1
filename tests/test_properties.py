"""Property: any composition of ops, on any small shape, agrees with numpy forward and with
central finite differences backward.

A program is a start shape plus a list of steps; each step knows whether it applies to the
current shape (and skips itself otherwise), may bring in a new input (broadcast against the
current value, or a matmul weight), and has a Tensor form and a numpy form. Steps are kept
smooth and bounded (no max/relu/abs: kinks and ties are the op table's business).
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_rnn import Tensor, concat, gradcheck, stack


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# name -> (needs ndim >= k, Tensor form, numpy form), for steps on one value
UNARY = {
    "tanh": (0, lambda x: x.tanh(), np.tanh),
    "sigmoid": (0, lambda x: x.sigmoid(), _sigmoid),
    "softplus": (0, lambda x: (x.exp() + 1.0).log(), lambda a: np.log(np.exp(a) + 1.0)),
    "hypot1": (0, lambda x: (x * x + 1.0).sqrt(), lambda a: np.sqrt(a * a + 1.0)),
    "cube": (0, lambda x: x**3 * 0.5, lambda a: a**3 * 0.5),
    "softmax": (1, lambda x: x.softmax(axis=-1), _softmax),
    "log_softmax": (1, lambda x: x.log_softmax(axis=-1), lambda a: np.log(_softmax(a))),
    "center": (
        1,
        lambda x: x - x.mean(axis=-1, keepdims=True),
        lambda a: a - a.mean(-1, keepdims=True),
    ),
    "scale_by_col_sum": (
        2,
        lambda x: x * x.sum(axis=0, keepdims=True),
        lambda a: a * a.sum(0, keepdims=True),
    ),
    "sum_axis0": (1, lambda x: x.sum(axis=0), lambda a: a.sum(axis=0)),
    "mean_last": (1, lambda x: x.mean(axis=-1), lambda a: a.mean(axis=-1)),
    "reverse_rows": (1, lambda x: x[::-1], lambda a: a[::-1]),
    "repeat_rows": (1, lambda x: x[np.array([0, 0, -1])], lambda a: a[np.array([0, 0, -1])]),
    "transpose": (2, lambda x: x.transpose(), lambda a: a.transpose()),
    "flatten": (1, lambda x: x.reshape(-1), lambda a: a.reshape(-1)),
}

# name -> (Tensor form, numpy form), for steps that combine the value with a new input y
BINARY = {
    "add": (lambda x, y: x + y, lambda a, b: a + b),
    "sub": (lambda x, y: y - x, lambda a, b: b - a),
    "mul": (lambda x, y: x * y, lambda a, b: a * b),
    "div": (lambda x, y: x / (y * y + 1.0), lambda a, b: a / (b * b + 1.0)),
}
JOIN = {  # y has the value's own shape
    "concat": (lambda x, y: concat([y, x]), lambda a, b: np.concatenate([b, a])),
    "stack": (lambda x, y: stack([x, y], axis=-1), lambda a, b: np.stack([a, b], axis=-1)),
}
STEPS = sorted(UNARY) + sorted(BINARY) + sorted(JOIN) + ["matmul"]


def _broadcast_shape(shape, variant):
    """A shape that broadcasts to `shape`: some axes 1, the leading axis dropped, or 0-d."""
    if variant == 7:
        return ()
    out = [1 if variant >> i & 1 else n for i, n in enumerate(shape)]
    if variant >= 4 and out:
        out = out[1:]
    return tuple(out)


def compile_program(shape, steps):
    """Input shapes and the step list (input index or None, Tensor form, numpy form)."""
    shapes = [shape]
    plan = []
    for name, variant in steps:
        extra = None
        if name in UNARY:
            min_ndim, ft, fn = UNARY[name]
            if len(shape) < min_ndim:
                continue
        elif name in BINARY:
            ft, fn = BINARY[name]
            extra = _broadcast_shape(shape, variant)
        elif name in JOIN:
            if len(shape) == 0 or len(shape) > 2:
                continue
            ft, fn = JOIN[name]
            extra = shape
        else:  # matmul with a new weight (last, k)
            if len(shape) == 0:
                continue
            ft = fn = lambda x, w: x @ w
            extra = (shape[-1], variant % 3 + 1)
        k = None
        if extra is not None:
            shapes.append(extra)
            k = len(shapes) - 1
            shape = fn(np.ones(shape), np.ones(extra)).shape
        else:
            shape = fn(np.ones(shape)).shape
        plan.append((k, ft, fn))
    return shapes, plan


def run(plan, inputs, tensor_forms):
    x = inputs[0]
    for k, ft, fn in plan:
        f = ft if tensor_forms else fn
        x = f(x) if k is None else f(x, inputs[k])
    return x


programs = st.tuples(
    st.lists(st.integers(1, 3), max_size=3).map(tuple),
    st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 7)), min_size=1, max_size=5),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=50, deadline=None)
@given(programs)
def test_random_compositions_match_numpy_and_finite_differences(program):
    shape, steps, seed = program
    shapes, plan = compile_program(shape, steps)
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1.0, 1.0, size=s) for s in shapes]
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]

    out = run(plan, tensors, tensor_forms=True)
    expected = run(plan, arrays, tensor_forms=False)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda *xs: run(plan, xs, tensor_forms=True), tensors)
