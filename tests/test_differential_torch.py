"""Differential test: random expression graphs over the whole Tensor op set, against torch.

A hypothesis program draws leaves (0-d to 3-D, float64), then a chain of operations, each
taking its operands from everything built so far (so nodes are reused and broadcast
against each other): elementwise maths, binary ops with broadcasting, every reduction with
dim / keepdim, shape ops with negative dims, basic and advanced indexing, gather and
friends. The same program runs on tinygrad_rnn and on torch; every intermediate value and
the gradient of every leaf must agree (nan where torch has nan).

The suite runs a bounded, derandomised sample; to hunt for bugs run it with many more:
    DIFF_EXAMPLES=20000 pytest tests/test_differential_torch.py
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tg
from tinygrad_rnn import Tensor

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

EXAMPLES = int(os.environ.get("DIFF_EXAMPLES", "150"))
MAX_SIZE = 48  # elements per value: keeps programs fast


def ours(x):
    return isinstance(x, Tensor)


def lib(x):
    return tg if ours(x) else torch


def _const(x, array):
    """A constant (index, mask, value) in x's library."""
    return array if ours(x) else torch.as_tensor(array)


# ----- the operation catalogue: draw(data, shape(s)) -> a function of lib tensors ---------------
UNARY = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "abs": lambda x: x.abs(),
    "sqrt": lambda x: x.sqrt(),
    "sin": lambda x: x.sin(),
    "cos": lambda x: x.cos(),
    "log1p": lambda x: x.log1p(),
    "expm1": lambda x: x.expm1(),
    "sign": lambda x: x.sign() * x,
    "reciprocal": lambda x: x.reciprocal(),
    "rsqrt": lambda x: x.rsqrt(),
    "square": lambda x: x.square(),
    "pow2": lambda x: x**2,
    "pow3": lambda x: x.pow(3),
    "pow_half": lambda x: x**0.5,
    "pow_neg": lambda x: x**-1.5,
    "rpow": lambda x: 2.0**x,
    "rpow0": lambda x: 0.0**x,
    "rsub": lambda x: 1.0 - x,
    "rdiv": lambda x: 2.0 / x,
    "clamp": lambda x: x.clamp(-0.5, 0.7),
    "clamp_min": lambda x: x.clamp(min=0.1),
}

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: lib(a).maximum(a, b),
    "minimum": lambda a, b: lib(a).minimum(a, b),
    "max_other": lambda a, b: a.max(b),
    "pow": lambda a, b: a**b,
    "pow_method": lambda a, b: a.abs().pow(b),
    "where": None,  # needs a mask: built in draw_binary
}


def _dim(data, ndim):
    top = max(ndim, 1)
    return data.draw(st.integers(-top, top - 1), label="dim")


def _dims(data, ndim):
    if ndim == 0:
        return data.draw(st.sampled_from([0, -1]))
    picked = data.draw(st.sets(st.integers(0, ndim - 1), min_size=1, max_size=ndim))
    return tuple(d - ndim if data.draw(st.booleans()) else d for d in sorted(picked))


def draw_reduction(data, shape):
    n = len(shape)
    keep = data.draw(st.booleans(), label="keepdim")
    kind = data.draw(
        st.sampled_from(
            [
                "sum",
                "sum_all",
                "mean",
                "max_dim",
                "min_dim",
                "max_all",
                "min_all",
                "amax",
                "amin",
                "prod",
                "prod_all",
                "var",
                "std",
                "norm",
                "logsumexp",
                "cumsum",
                "softmax",
                "log_softmax",
                "argmax_gather",
            ]
        ),
        label="reduction",
    )
    size = int(np.prod(shape))
    if kind in ("sum", "mean", "amax", "amin", "var", "std", "logsumexp"):
        dims = _dims(data, n) if data.draw(st.booleans()) else _dim(data, n)
        if kind in ("amax", "amin") and size == 0:
            return None
        if kind in ("var", "std"):
            corr = data.draw(st.sampled_from([0, 1]))
            return lambda x: getattr(x, kind)(dims, keepdim=keep, correction=corr)
        return lambda x: getattr(x, kind)(dims, keepdim=keep)
    if kind == "sum_all":
        return lambda x: x.sum()
    if kind in ("max_dim", "min_dim"):
        d = _dim(data, n)
        which = kind[:3]
        return lambda x: getattr(x, which)(d, keepdim=keep).values
    if kind in ("max_all", "min_all"):
        return lambda x: getattr(x, kind[:3])()
    if kind == "prod":
        d = _dim(data, n)
        return lambda x: x.prod(d, keepdim=keep)
    if kind == "prod_all":
        return lambda x: x.prod()
    if kind == "norm":
        p = data.draw(st.sampled_from([2, 1, 3, float("inf"), "fro"]))
        dims = None if data.draw(st.booleans()) else _dim(data, n)
        return lambda x: x.norm(p, dim=dims, keepdim=keep)
    if kind == "cumsum":
        d = _dim(data, n)
        return lambda x: x.cumsum(d)
    if kind in ("softmax", "log_softmax"):
        d = _dim(data, n)
        return lambda x: getattr(x, kind)(dim=d)
    # the index of the max, fed to gather: the gradient goes to the picked elements
    if n == 0:
        return None
    d = _dim(data, n)
    return lambda x: x.gather(d, x.argmax(dim=d, keepdim=True))


def draw_shape_op(data, shape):
    n = len(shape)
    kind = data.draw(
        st.sampled_from(
            [
                "transpose",
                "permute",
                "t",
                "reshape",
                "flatten",
                "squeeze",
                "unsqueeze",
                "flip",
                "expand",
                "T",
            ]
        ),
        label="shape op",
    )
    if kind == "transpose":
        d0, d1 = _dim(data, n), _dim(data, n)
        return lambda x: x.transpose(d0, d1)
    if kind == "permute":
        perm = data.draw(st.permutations(list(range(n))))
        perm = tuple(p - n if data.draw(st.booleans()) else p for p in perm)
        return lambda x: x.permute(perm)
    if kind == "t":
        return (lambda x: x.t()) if n <= 2 else None
    if kind == "T":
        return (lambda x: x.T) if n == 2 else None
    if kind == "reshape":
        return lambda x: x.reshape(-1)
    if kind == "flatten":
        if n == 0:
            return lambda x: x.flatten()
        s, e = sorted((_dim(data, n) % n, _dim(data, n) % n))
        return lambda x: x.flatten(s, e)
    if kind == "squeeze":
        if data.draw(st.booleans()) or n == 0:
            return lambda x: x.squeeze()
        d = _dim(data, n)
        return lambda x: x.squeeze(d)
    if kind == "unsqueeze":
        d = data.draw(st.integers(-n - 1, n))
        return lambda x: x.unsqueeze(d)
    if kind == "flip":
        if n == 0:
            return None
        dims = _dims(data, n)
        return lambda x: x.flip(dims)
    # expand: size-1 axes grow, maybe a new leading axis
    sizes = [data.draw(st.integers(1, 3)) if k == 1 else -1 for k in shape]
    if data.draw(st.booleans()):
        sizes = [2] + sizes
    if int(np.prod([s if s > 0 else k for s, k in zip(sizes[-n:] if n else [], shape)])) > 24:
        return None
    sizes = tuple(sizes)
    return lambda x: x.expand(sizes)


def _index_array(data, size, length):
    return np.array(data.draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=length)))


def draw_index(data, shape):
    n = len(shape)
    if 0 in shape:  # an empty axis (after a mask of all False) has no index to draw
        return None
    if n == 0:
        kind = data.draw(st.sampled_from(["none", "ellipsis"]))
        index = None if kind == "none" else Ellipsis
        return lambda x: x[index]
    kind = data.draw(
        st.sampled_from(
            ["basic", "array", "mask", "int_slice_array", "pairs", "gather", "index_select", "fill"]
        ),
        label="index kind",
    )
    if kind == "basic":
        parts = []
        for k in shape:
            choice = data.draw(st.sampled_from(["int", "slice", "all", "none"]))
            if choice == "int":
                parts.append(data.draw(st.integers(-k, k - 1)))
            elif choice == "slice":
                lo = data.draw(st.integers(-k, k))
                parts.append(slice(lo, data.draw(st.sampled_from([None, k, -1]))))
            elif choice == "none":
                parts.extend([None, slice(None)])
            else:
                parts.append(slice(None))
        if data.draw(st.booleans()):
            parts = parts[: data.draw(st.integers(0, len(parts)))] + [Ellipsis]
        index = tuple(parts)
        return lambda x: x[index]
    if kind == "array":
        rows = _index_array(data, shape[0], 4)
        return lambda x: x[_const(x, rows)]
    if kind == "mask":
        mask = np.array(data.draw(st.lists(st.booleans(), min_size=shape[-1], max_size=shape[-1])))
        return lambda x: x[..., _const(x, mask)]
    if kind == "int_slice_array":  # torch applies the int first: numpy would not
        if n < 3:
            return None
        i = data.draw(st.integers(-shape[0], shape[0] - 1))
        cols = _index_array(data, shape[2], 3)
        return lambda x: x[i, :, _const(x, cols)]
    if kind == "pairs":
        if n < 2:
            return None
        length = data.draw(st.integers(1, 4))
        r = np.array(
            data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=length, max_size=length))
        )
        c = np.array(
            data.draw(st.lists(st.integers(0, shape[1] - 1), min_size=length, max_size=length))
        )
        return lambda x: x[_const(x, r), _const(x, c)]
    if kind == "gather":
        d = _dim(data, n)
        idx_shape = [data.draw(st.integers(1, k)) if k else 1 for k in shape]
        idx_shape[d] = data.draw(st.integers(1, 3))
        idx = np.array(
            data.draw(
                st.lists(
                    st.integers(0, shape[d] - 1),
                    min_size=int(np.prod(idx_shape)),
                    max_size=int(np.prod(idx_shape)),
                )
            )
        ).reshape(idx_shape)
        return lambda x: x.gather(d, _const(x, idx))
    if kind == "index_select":
        d = _dim(data, n)
        idx = np.array(data.draw(st.lists(st.integers(0, shape[d] - 1), min_size=1, max_size=4)))
        return lambda x: x.index_select(d, _const(x, idx))
    mask_shape = shape[data.draw(st.integers(0, n)) :]
    mask = np.array(
        data.draw(
            st.lists(
                st.booleans(),
                min_size=int(np.prod(mask_shape)),
                max_size=int(np.prod(mask_shape)),
            )
        ),
        dtype=bool,
    ).reshape(mask_shape)
    value = data.draw(st.sampled_from([0.0, -1.5, 2.0]))
    return lambda x: x.masked_fill(_const(x, mask), value)


def draw_combine(data, shape):
    """(kind, shape of a second operand, function of both) for products and joins."""
    n = len(shape)
    kind = data.draw(
        st.sampled_from(["matmul", "mm", "bmm", "dot", "cat", "stack", "split", "chunk"]),
        label="combine",
    )
    k = data.draw(st.integers(1, 3))
    if kind == "matmul" and n:
        return (
            kind,
            (shape[-1], k) if data.draw(st.booleans()) else (shape[-1],),
            lambda a, b: a @ b,
        )
    if kind == "mm" and n == 2:
        return kind, (shape[1], k), lambda a, b: a.mm(b)
    if kind == "bmm" and n == 3:
        return kind, (shape[0], shape[2], k), lambda a, b: a.bmm(b)
    if kind == "dot" and n == 1:
        return kind, shape, lambda a, b: a.dot(b)
    if kind == "cat" and n:
        d = _dim(data, n)
        other = shape[: d % n] + (k,) + shape[d % n + 1 :]
        return kind, other, lambda a, b: lib(a).cat([a, b, a], dim=d)
    if kind == "stack":
        d = data.draw(st.integers(-n - 1, n))
        return kind, shape, lambda a, b: lib(a).stack([b, a], dim=d)
    if kind in ("split", "chunk") and n:
        d = _dim(data, n)
        size = data.draw(st.integers(1, 3))
        return kind, shape, lambda a, b: getattr(a * b, kind)(size, dim=d)[-1]
    return kind, None, None


def compatible_shape(data, shape):
    """A shape that broadcasts with `shape`: a suffix of it, some axes set to 1."""
    tail = shape[data.draw(st.integers(0, len(shape))) :]
    return tuple(1 if data.draw(st.booleans()) else k for k in tail)


def draw_leaf_value(data, shape):
    n = int(np.prod(shape))
    values = data.draw(
        st.lists(
            # tiny values are 0: x / x at 1e-38 cancels terms of 1e38, leaving rounding noise
            st.floats(-2.0, 2.0, allow_nan=False, width=32).map(
                lambda v: v if abs(v) > 1e-3 else 0.0
            ),
            min_size=n,
            max_size=n,
        ),
        label=f"leaf {shape}",
    )
    # + 0.0 turns -0.0 into 0.0: torch's x ** -0.5 is rsqrt, so at -0.0 its pow gradients
    # take the sign of the zero (-inf where numpy and the limit from above give +inf)
    return np.asarray(np.array(values, dtype=np.float64).reshape(shape) + 0.0)


SHAPES = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


def run(program, library):
    """Run the program: a step is a leaf (an array) or (function, operand positions)."""
    inputs, pool = [], []
    for step in program:
        if isinstance(step, np.ndarray):
            leaf = torch.tensor(step, requires_grad=True) if library == "torch" else None
            leaf = Tensor(step.copy(), requires_grad=True) if leaf is None else leaf
            inputs.append(leaf)
            pool.append(leaf)
        else:
            fn, operands = step
            pool.append(fn(*[pool[i] for i in operands]))
    return inputs, pool


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 1000,
    suppress_health_check=list(HealthCheck),
)
@given(st.data())
# torch warns where var/std has no degrees of freedom left (correction >= count): both give
# inf/nan there, which the comparison checks
@pytest.mark.filterwarnings("ignore:std\\(\\)|var\\(\\):UserWarning")
def test_random_graphs_match_torch(data):
    program = [draw_leaf_value(data, data.draw(SHAPES, label="shape")) for _ in range(2)]
    shapes = [a.shape for a in program]
    for _ in range(data.draw(st.integers(1, 6), label="steps")):
        i = data.draw(st.integers(0, len(shapes) - 1), label="operand")
        shape = shapes[i]
        family = data.draw(
            st.sampled_from(["unary", "binary", "reduce", "shape", "index", "combine"])
        )
        operands = [i]
        if family == "unary":
            fn = UNARY[data.draw(st.sampled_from(sorted(UNARY)), label="unary")]
        elif family == "binary":
            name = data.draw(st.sampled_from(sorted(BINARY)), label="binary")
            fits = [j for j, s in enumerate(shapes) if _broadcasts(s, shape)]
            if data.draw(st.booleans()) and fits:
                j = data.draw(st.sampled_from(fits), label="second operand")
            else:  # a new leaf of a shape that broadcasts
                program.append(draw_leaf_value(data, compatible_shape(data, shape)))
                shapes.append(program[-1].shape)
                j = len(shapes) - 1
            operands = [j, i] if data.draw(st.booleans()) else [i, j]
            if name == "where":
                out_shape = np.broadcast_shapes(shapes[operands[0]], shapes[operands[1]])
                cond = draw_leaf_value(data, out_shape) > 0

                def fn(a, b, cond=cond):
                    return lib(a).where(_const(a, cond), a, b)

            else:
                fn = BINARY[name]
        elif family == "combine":  # with a new leaf of a fitting shape
            kind, other_shape, fn = draw_combine(data, shape)
            if fn is None:
                continue
            program.append(draw_leaf_value(data, other_shape))
            shapes.append(other_shape)
            operands = [i, len(shapes) - 1]
        elif family == "reduce":
            fn = draw_reduction(data, shape)
        elif family == "shape":
            fn = draw_shape_op(data, shape)
        else:
            fn = draw_index(data, shape)
        if fn is None:
            continue
        try:
            with np.errstate(all="ignore"):
                probe = fn(*[Tensor(np.zeros(shapes[k])) for k in operands])
        except (ValueError, IndexError, TypeError, RuntimeError) as ours:
            # we refuse it (an empty max, say): torch must refuse it too
            with pytest.raises((ValueError, IndexError, TypeError, RuntimeError)):
                fn(*[torch.zeros(shapes[k], dtype=torch.float64) for k in operands])
            del ours
            continue
        if probe.data.size > MAX_SIZE:
            continue
        program.append((fn, operands))
        shapes.append(probe.shape)

    with np.errstate(all="ignore"):
        our_inputs, our_pool = run(program, "ours")
        their_inputs, their_pool = run(program, "torch")
        weights = [
            np.cos(np.arange(v.data.size) + k).reshape(v.shape) for k, v in enumerate(our_pool)
        ]
        for k, (a, b) in enumerate(zip(our_pool, their_pool)):
            assert a.shape == tuple(b.shape), (
                f"value {k}: shape {a.shape} vs torch {tuple(b.shape)}"
            )
            assert a.dtype == np.float64
            _close(a.data, b.detach().numpy(), f"value {k}")
        our_total = sum((v * w).sum() for v, w in zip(our_pool, weights))
        their_total = sum((v * torch.tensor(w)).sum() for v, w in zip(their_pool, weights))
        our_total.backward()
        their_total.backward()
        for k, (a, b) in enumerate(zip(our_inputs, their_inputs)):
            mine = np.zeros(a.shape) if a.grad is None else a.grad
            theirs = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
            _close(mine, theirs, f"gradient of leaf {k}")


def _broadcasts(a, b):
    try:
        return len(np.broadcast_shapes(a, b)) <= 3
    except ValueError:
        return False


def _close(mine, theirs, what):
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    assert mine.shape == theirs.shape, f"{what}: shape {mine.shape} vs torch {theirs.shape}"
    scale = np.where(np.isfinite(theirs), np.abs(theirs), 0).max(initial=1.0)
    np.testing.assert_allclose(mine, theirs, rtol=1e-7, atol=1e-9 * scale, err_msg=what)
