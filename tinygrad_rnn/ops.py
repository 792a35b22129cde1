"""Every differentiable primitive, forward and backward side by side.

Each op is one small class. `forward(*arrays)` computes the output from the input arrays
and saves what its backward needs on the op instance; `backward(grad_out)` returns one
gradient per input (None for an input that needs none). `Op.apply` is the only place in
the library that builds graph nodes.

Conventions: `grad_out` is dL/d(output). Binary ops broadcast like numpy, so their backward
sums the gradient back to each input's shape (`unbroadcast`). A `getitem` backward returns a
`SliceGrad` (the gradient of the selected part and where it goes) instead of a full-size
array of zeros: the engine adds it into one buffer in place, which keeps T slices of a
(T, B, 4H) projection O(T) instead of O(T^2).
"""

import math

import numpy as np

from .anomaly import AnomalyError, check_forward  # noqa: F401  (AnomalyError: an old home)
from .modes import state


class Op:
    """Base class: `name`, `forward`, `backward`, and `apply`, the node builder."""

    __slots__ = ("versions",)
    name = "op"
    # What backward reads (versions.py): the inputs' data (their versions are recorded at
    # apply; add and reshape read none) and the output's data (exp, tanh, sqrt...).
    saves_inputs = True
    saves_output = False
    # The node constructor, `Tensor._make(data, inputs, op, requires_grad)`. tensor.py hands
    # it in when it is imported, so this module needs numpy and no Tensor: no import cycle.
    make_node = None
    # Ops whose backward is costly per input (matmuls) set this; `apply` then records
    # `op.needs` (which inputs require grad) and backward returns None for the others.
    skips_unneeded = False

    @classmethod
    def apply(cls, *inputs, **params):
        op = cls(**params) if params else cls()
        try:
            data = op.forward(*[t._data for t in inputs])
        except (ValueError, TypeError, IndexError) as exc:
            shapes = ", ".join(str(t.shape) for t in inputs)
            kind = next(k for k in (IndexError, TypeError, ValueError) if isinstance(exc, k))
            raise kind(f"{cls.name}: {exc} (input shapes {shapes})") from None
        if type(data) is not np.ndarray:
            # numpy hands back 0-d results (a * b of scalars, x.sum()) as immutable scalars
            data = np.asarray(data)
        if state.grad_enabled:
            for t in inputs:
                if t.requires_grad:
                    out = Op.make_node(data, inputs, op, True)
                    if cls.saves_inputs:  # versions.py; spelled out for 1 and 2 inputs: speed
                        op.versions = (
                            (t._version,)
                            if len(inputs) == 1
                            else (inputs[0]._version, inputs[1]._version)
                            if len(inputs) == 2
                            else tuple([x._version for x in inputs])
                        )
                    if cls.skips_unneeded:
                        op.needs = tuple(t.requires_grad for t in inputs)
                    break
            else:
                out = Op.make_node(data, (), None, False)
        else:
            out = Op.make_node(data, (), None, False)
        if state.anomaly:
            check_forward(out, cls.name, inputs)
        return out

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def params(self):
        """The op's non-tensor arguments, for display (`axis=0`, `exponent=2.0`)."""
        return {}


def floating(x):
    """x, or x as float64 when it is bool or integer (torch's default float dtype is float32,
    ours float64). numpy computes exp, tanh, sqrt, log... of bool, int8 and uint8 in float16
    (three digits). The float ops call this on their input; exp, tanh and sigmoid test the
    dtype inline first, so their float path makes no extra call."""
    return x if x.dtype.kind in "fc" else x.astype(np.float64)


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing numpy broadcasting (leading axes and 1-sized axes)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


class SliceGrad:
    """The gradient of `x[index]`: `value` at `index` of an array of `shape`, zeros elsewhere."""

    __slots__ = ("index", "value", "shape", "basic")

    def __init__(self, index, value, shape, basic):
        self.index = index
        self.value = value
        self.shape = shape
        self.basic = basic

    def add_into(self, buffer):
        if self.basic:
            buffer[self.index] += self.value
        else:
            # integer arrays may repeat an index: each repetition adds (scatter-add)
            np.add.at(buffer, self.index, self.value)

    def dense(self, dtype=np.float64):
        buffer = np.zeros(self.shape, dtype=dtype)
        self.add_into(buffer)
        return buffer


def dense_grad(g, like):
    """A gradient sent to input `like` as a plain array of its shape (None stays None)."""
    if type(g) is SliceGrad:
        return g.dense(like.data.dtype)
    if g is not None and g.shape != like.shape:
        return np.broadcast_to(g, like.shape)
    return g


# ----- elementwise binary --------------------------------------------------------------
class Add(Op):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    __slots__ = ("shapes",)
    name = "add"
    saves_inputs = False

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a + b

    def backward(self, grad_out):
        sa, sb = self.shapes
        return unbroadcast(grad_out, sa), unbroadcast(grad_out, sb)


class Sub(Op):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    __slots__ = ("shapes",)
    name = "sub"
    saves_inputs = False

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a - b

    def backward(self, grad_out):
        sa, sb = self.shapes
        return unbroadcast(grad_out, sa), unbroadcast(-grad_out, sb)


class Mul(Op):
    """z = a * b;  dz/da = b, dz/db = a."""

    __slots__ = ("a", "b")
    name = "mul"

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, grad_out):
        a, b = self.a, self.b
        return unbroadcast(grad_out * b, a.shape), unbroadcast(grad_out * a, b.shape)


class Div(Op):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b^2."""

    __slots__ = ("a", "b")
    name = "div"

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, grad_out):
        a, b = self.a, self.b
        grad_a = grad_out / b
        return unbroadcast(grad_a, a.shape), unbroadcast(-grad_a * a / b, b.shape)


class Where(Op):
    """z = cond ? a : b;  dz/da = cond, dz/db = not cond."""

    __slots__ = ("condition", "shapes")
    name = "where"
    saves_inputs = False

    def __init__(self, condition):
        self.condition = condition

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return np.where(self.condition, a, b)

    def backward(self, grad_out):
        zero = np.zeros((), dtype=grad_out.dtype)
        sa, sb = self.shapes
        return (
            unbroadcast(np.where(self.condition, grad_out, zero), sa),
            unbroadcast(np.where(self.condition, zero, grad_out), sb),
        )


class Maximum(Op):
    """z = max(a, b) elementwise;  dz/da = 1 where a > b, 1/2 where a = b, 0 where a < b (torch)."""

    __slots__ = ("a", "b")
    name = "maximum"
    pick = staticmethod(np.maximum)

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.pick(a, b)

    def backward(self, grad_out):
        a, b = self.a, self.b
        tie = a == b
        lose_a, lose_b = (a < b, a > b) if self.name == "maximum" else (a > b, a < b)
        half = grad_out * 0.5
        ga = np.where(tie, half, np.where(lose_a, 0.0, grad_out))
        gb = np.where(tie, half, np.where(lose_b, 0.0, grad_out))
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)


class Minimum(Maximum):
    """z = min(a, b) elementwise;  dz/da = 1 where a < b, 1/2 where a = b, 0 where a > b (torch)."""

    __slots__ = ()
    name = "minimum"
    pick = staticmethod(np.minimum)


class PowTensor(Op):
    """z = a^b, b a tensor;  dz/da = b a^(b-1) (0 where b = 0), dz/db = z ln a (0 where a = 0
    and b >= 0), torch's conventions at those points."""

    __slots__ = ("a", "b", "out")
    name = "tensor_pow"
    saves_output = True

    def forward(self, a, b):
        self.a, self.b = a, b
        with np.errstate(all="ignore"):
            self.out = np.power(a, b)
        return self.out

    def backward(self, grad_out):
        a, b = self.a, self.b
        with np.errstate(all="ignore"):
            ga = np.where(b == 0, 0.0, grad_out * b * np.power(a, b - 1))
            gb = grad_out * np.where((a == 0) & (b >= 0), 0.0, self.out * np.log(a))
        return unbroadcast(ga, a.shape), unbroadcast(gb, b.shape)


class MatMul(Op):
    """Z = A @ B (1-D, 2-D or batched);  dL/dA = G @ B^T, dL/dB = A^T @ G."""

    __slots__ = ("a", "b", "needs")
    name = "matmul"
    skips_unneeded = True

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("both operands need at least one axis")
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise ValueError(f"inner sizes differ: {a.shape[-1]} (last of A) != {inner_b} (B)")
        self.a, self.b = a, b
        return a @ b

    def backward(self, grad_out):
        a, b = self.a, self.b
        need_a, need_b = self.needs
        if a.ndim == 2 and b.ndim == 2:
            return (grad_out @ b.T if need_a else None), (a.T @ grad_out if need_b else None)
        if a.ndim == 1 and b.ndim == 1:  # a dot product: grad_out is 0-d
            return (grad_out * b if need_a else None), (grad_out * a if need_b else None)
        # promote 1-D operands the way matmul does, then drop the added axes again
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad_out
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        if b.ndim == 1:
            g = np.expand_dims(g, -1)
        grad_a = g @ np.swapaxes(b2, -1, -2)
        grad_b = np.swapaxes(a2, -1, -2) @ g
        if a.ndim == 1:
            grad_a = grad_a[..., 0, :]
        if b.ndim == 1:
            grad_b = grad_b[..., 0]
        return (
            unbroadcast(grad_a, a.shape) if need_a else None,
            unbroadcast(grad_b, b.shape) if need_b else None,
        )


class Linear(Op):
    """z = x W^T (+ b), x (..., in), W (out, in);  dL/dx = G W, dL/dW = G^T x, dL/db = sum G.

    The layer's own primitive (torch's F.linear) so a weight enters each time step by one
    direct edge, with no transposed copy in between: the per-step edge into W_hh is the
    lecture's BPTT term for step t.
    """

    __slots__ = ("x", "weight", "has_bias", "needs")
    name = "linear"
    skips_unneeded = True

    def forward(self, x, weight, bias=None):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"input features {x.shape[-1:]} do not match weight (out, in) {weight.shape}"
            )
        self.x, self.weight = x, weight
        self.has_bias = bias is not None
        # (T, B, in) is multiplied as one (T*B, in) matrix: one BLAS call, not T of them
        flat_x = x if x.ndim == 2 else _rows(x)
        out = flat_x @ weight.T
        if bias is not None:
            out += bias
        return out if x.ndim == 2 else out.reshape(*x.shape[:-1], weight.shape[0])

    def backward(self, grad_out):
        x, weight = self.x, self.weight
        if x.ndim == 2:
            flat_x, flat_g = x, grad_out
        else:
            flat_x, flat_g = _rows(x), _rows(grad_out)
        needs = self.needs
        grad_x = grad_w = None
        if needs[0]:
            grad_x = flat_g @ weight
            if x.ndim != 2:
                grad_x = grad_x.reshape(x.shape)
        if needs[1]:
            grad_w = flat_g.T @ flat_x
        if self.has_bias:
            return grad_x, grad_w, flat_g.sum(axis=0)
        return grad_x, grad_w


def _rows(a):
    """(..., n) as a (rows, n) matrix; explicit sizes, as -1 is ambiguous when n = 0."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


# ----- elementwise unary -----------------------------------------------------------------
class Neg(Op):
    """z = -x;  dz/dx = -1."""

    __slots__ = ()
    name = "neg"
    saves_inputs = False

    def forward(self, x):
        return -x

    def backward(self, grad_out):
        return (-grad_out,)


class Pow(Op):
    """z = x^p (p a number);  dz/dx = p x^(p-1)."""

    __slots__ = ("exponent", "x")
    name = "pow"

    def __init__(self, exponent):
        self.exponent = exponent

    def forward(self, x):
        self.x = x
        return x**self.exponent

    def backward(self, grad_out):
        p = self.exponent
        if p == 0:  # x^0 = 1 everywhere, also at x = 0 where 0 * 0^-1 would be nan
            return (np.zeros_like(grad_out),)
        x = self.x
        with np.errstate(divide="ignore", invalid="ignore"):
            # x^-0.5 as 1/sqrt(x), as torch computes it (the sign of -0.0, nan at -inf)
            power = 1.0 / np.sqrt(x) if p == 0.5 else x ** (p - 1)
        return (grad_out * (p * power),)

    def params(self):
        return {"exponent": self.exponent}


class Exp(Op):
    """z = e^x;  dz/dx = e^x = z."""

    __slots__ = ("out",)
    name = "exp"
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        if x.dtype.kind != "f":  # bool, int: float64 (`floating`); no call on the float path
            x = floating(x)
        self.out = np.exp(x)
        return self.out

    def backward(self, grad_out):
        return (grad_out * self.out,)


class Log(Op):
    """z = ln x;  dz/dx = 1/x."""

    __slots__ = ("x",)
    name = "log"

    def forward(self, x):
        self.x = x = floating(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    def backward(self, grad_out):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad_out / self.x,)


class Log1p(Op):
    """z = ln(1 + x), accurate for tiny x;  dz/dx = 1 / (1 + x)."""

    __slots__ = ("x",)
    name = "log1p"

    def forward(self, x):
        self.x = x = floating(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(x)

    def backward(self, grad_out):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad_out / (1.0 + self.x),)


class Expm1(Op):
    """z = e^x - 1, accurate for tiny x;  dz/dx = e^x = z + 1."""

    __slots__ = ("out",)
    name = "expm1"
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        self.out = np.expm1(floating(x))
        return self.out

    def backward(self, grad_out):
        return (grad_out * (self.out + 1.0),)


class Sin(Op):
    """z = sin x;  dz/dx = cos x."""

    __slots__ = ("x",)
    name = "sin"

    def forward(self, x):
        self.x = x = floating(x)
        return np.sin(x)

    def backward(self, grad_out):
        return (grad_out * np.cos(self.x),)


class Cos(Op):
    """z = cos x;  dz/dx = -sin x."""

    __slots__ = ("x",)
    name = "cos"

    def forward(self, x):
        self.x = x = floating(x)
        return np.cos(x)

    def backward(self, grad_out):
        return (grad_out * -np.sin(self.x),)


class Tanh(Op):
    """z = tanh x;  dz/dx = 1 - z^2."""

    __slots__ = ("out",)
    name = "tanh"
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        if x.dtype.kind != "f":  # bool, int: float64 (`floating`); no call on the float path
            x = floating(x)
        self.out = np.tanh(x)
        return self.out

    def backward(self, grad_out):
        out = self.out
        return (grad_out * (1.0 - out * out),)


class Sigmoid(Op):
    """z = 1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2 (no overflow);  dz/dx = z (1 - z)."""

    __slots__ = ("out",)
    name = "sigmoid"
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        if x.dtype.kind != "f":  # bool, int: float64 (`floating`); no call on the float path
            x = floating(x)
        out = np.tanh(0.5 * x)
        out += 1.0
        out *= 0.5
        self.out = out
        return out

    def backward(self, grad_out):
        out = self.out
        return (grad_out * (out * (1.0 - out)),)


class Relu(Op):
    """z = max(x, 0);  dz/dx = 0 where x <= 0, else 1 (also at nan, as torch)."""

    __slots__ = ("mask",)
    name = "relu"
    saves_inputs = False

    def forward(self, x):
        self.mask = ~(x <= 0)
        # maximum, not x * mask: -inf * 0 would be nan, and negatives would give -0.0
        return np.maximum(x, 0, dtype=x.dtype) if x.dtype.kind == "f" else np.maximum(x, 0)

    def backward(self, grad_out):
        # select, not multiply: an inf gradient at a dead unit is 0 (torch), not inf * 0 = nan
        return (np.where(self.mask, grad_out, 0.0),)


class Abs(Op):
    """z = |x|;  dz/dx = sign(x) (0 at 0 and at nan, as PyTorch)."""

    __slots__ = ("x",)
    name = "abs"

    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, grad_out):
        x = self.x
        return (grad_out * ((x > 0).astype(grad_out.dtype) - (x < 0)),)


class Sqrt(Op):
    """z = sqrt x;  dz/dx = 1 / (2 sqrt x)."""

    __slots__ = ("out",)
    name = "sqrt"
    saves_inputs = False
    saves_output = True

    def forward(self, x):
        with np.errstate(invalid="ignore"):
            self.out = np.sqrt(floating(x))
        return self.out

    def backward(self, grad_out):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (grad_out / (2.0 * self.out),)


class Erf(Op):
    """z = erf(x) = 2/sqrt(pi) int_0^x e^{-t^2} dt;  dz/dx = 2/sqrt(pi) e^{-x^2}.

    For the exact gelu, x Phi(x) = x/2 (1 + erf(x/sqrt 2)): no composition of the other
    primitives gives erf. Computed elementwise with math.erf (correctly rounded doubles).
    """

    __slots__ = ("x",)
    name = "erf"
    _erf = np.vectorize(math.erf, otypes=[np.float64])

    def forward(self, x):
        self.x = x = floating(x)
        return self._erf(x).astype(x.dtype, copy=False) if x.size else np.zeros_like(x)

    def backward(self, grad_out):
        return (grad_out * (2.0 / math.sqrt(math.pi)) * np.exp(-self.x * self.x),)


class BinaryCrossEntropy(Op):
    """z = -(y max(log x, -100) + (1 - y) max(log(1 - x), -100)), x in [0, 1], elementwise.

    dz/dx = (x - y) / max(x (1 - x), 1e-12)  and  dz/dy = log(1 - x) - log x (unclamped),
    PyTorch's rules: dz/dx is finite even where x is exactly 0 or 1 (a saturated sigmoid),
    which a composition of log and clip cannot give (its gradient there is nan).
    """

    __slots__ = ("x", "y")
    name = "binary_cross_entropy"

    def forward(self, x, y):
        self.x, self.y = x, y = floating(x), floating(y)
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100.0)
            log_1mx = np.maximum(np.log(1.0 - x), -100.0)
        return -(y * log_x + (1.0 - y) * log_1mx)

    def backward(self, grad_out):
        x, y = self.x, self.y
        grad_x = grad_out * (x - y) / np.maximum(x * (1.0 - x), 1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_y = grad_out * (np.log1p(-x) - np.log(x))
        return unbroadcast(grad_x, x.shape), unbroadcast(grad_y, y.shape)


class Clip(Op):
    """z = min(max(x, low), high);  dz/dx = 1 where low <= x <= high, else 0 (as torch.clamp)."""

    __slots__ = ("low", "high", "x")
    name = "clip"

    def __init__(self, low, high):
        if low is None and high is None:
            raise ValueError("clip: give min, max or both")
        self.low, self.high = low, high

    def forward(self, x):
        self.x = x
        return np.clip(x, self.low, self.high)

    def backward(self, grad_out):
        x = self.x
        mask = np.ones(x.shape, dtype=bool)
        if self.low is not None:
            mask &= x >= self.low
        if self.high is not None:
            mask &= x <= self.high
        return (np.where(mask, grad_out, 0.0),)

    def params(self):
        return {"min": self.low, "max": self.high}


# ----- reductions -------------------------------------------------------------------------
def normalise_axis(axis, ndim):
    """Axes as a tuple of non-negative ints; None or () is every axis (as torch's dim=())."""
    if axis is None or axis == ():
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    out = []
    for a in axis:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"dim must be an int or a tuple of ints, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a {ndim}-d tensor")
        if ndim:  # dim 0 or -1 of a 0-d tensor (allowed, as in torch) reduces nothing
            if a % ndim in out:
                raise ValueError(f"dim {a % ndim} appears more than once in {axis}")
            out.append(a % ndim)
    return tuple(out)


def _spread(g, shape):
    """g broadcast to `shape`. A small result is written out: numpy takes about 10 us to make
    the read-only view `np.broadcast_to` gives, which is kept for large shapes (no memory)."""
    if math.prod(shape) > 4096:
        return np.broadcast_to(g, shape)
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


def _expand_reduced(grad_out, axes, keepdims):
    """Put back the reduced axes (as size 1) so grad_out broadcasts against the input."""
    if keepdims or not axes:
        return grad_out
    shape = list(grad_out.shape)
    for a in sorted(axes):  # (axes are normalised: non-negative, no repeats)
        shape.insert(a, 1)
    return grad_out.reshape(shape)


class Sum(Op):
    """z = sum_i x_i over `axis`;  dz/dx_i = 1."""

    __slots__ = ("axis", "keepdims", "shape", "axes")
    name = "sum"
    saves_inputs = False

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        self.axes = normalise_axis(self.axis, x.ndim)
        return np.add.reduce(x, axis=self.axes, keepdims=self.keepdims)  # np.sum, less overhead

    def backward(self, grad_out):
        g = _expand_reduced(grad_out, self.axes, self.keepdims)
        return (_spread(g, self.shape),)

    def params(self):
        return {"axis": self.axis} if self.axis is not None else {}


class Mean(Op):
    """z = (1/n) sum_i x_i over `axis`;  dz/dx_i = 1/n."""

    __slots__ = ("axis", "keepdims", "shape", "axes", "count")
    name = "mean"
    saves_inputs = False

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.shape = x.shape
        self.axes = normalise_axis(self.axis, x.ndim)
        self.count = math.prod([x.shape[a] for a in self.axes]) if x.ndim else 1
        return np.mean(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad_out):
        g = _expand_reduced(grad_out, self.axes, self.keepdims) / self.count
        return (_spread(g, self.shape),)

    def params(self):
        return {"axis": self.axis} if self.axis is not None else {}


class Max(Op):
    """z = max_i x_i over `axis`;  dz/dx_i = 1/m on the m elements equal to the max (torch's
    max() and amax), or 1 at the given `index` only (torch's max(dim)), else 0. At a nan
    max, max() sends the gradient to the nans, amax makes it nan (torch's two rules)."""

    __slots__ = ("axis", "keepdims", "index", "axes", "x", "out")
    name = "max"
    saves_output = True
    reduce = staticmethod(np.max)

    def __init__(self, axis=None, keepdims=False, index=None):
        self.axis, self.keepdims, self.index = axis, keepdims, index

    def forward(self, x):
        self.x = x
        self.axes = normalise_axis(self.axis, x.ndim)
        empty = [a for a in self.axes if x.shape[a] == 0]
        if empty:  # torch: only a reduced axis of size 0 has no max; (1, 0).amax(0) is ()
            raise ValueError(f"reduction over dim {empty[0]} of size 0 of a tensor {x.shape}")
        if self.index is None:
            self.out = self.reduce(x, axis=self.axes, keepdims=True)
        else:  # one axis; `index` (keepdims shape) holds the argmax / argmin along it
            self.out = np.take_along_axis(x, self.index, self.axes[0]) if x.ndim else x
        return self.out if self.keepdims else np.squeeze(self.out, axis=self.axes)

    def backward(self, grad_out):
        if self.index is not None:
            if not self.x.ndim:
                return (grad_out,)
            grad = np.zeros(self.x.shape, dtype=grad_out.dtype)
            g = _expand_reduced(grad_out, self.axes, self.keepdims)
            np.put_along_axis(grad, self.index, g, self.axes[0])
            return (grad,)
        x, out = self.x, self.out
        g = _expand_reduced(grad_out, self.axes, self.keepdims)
        if self.axis is None:  # torch's max(): selects; a nan maximum is its own (torch)
            mask = (x == out) | ((x != x) & (out != out))
            count = mask.sum(axis=self.axes, keepdims=True, dtype=grad_out.dtype)
            return (np.where(mask, g / count, 0.0),)
        # torch's amax: mask * g / count with nan equal to nothing, so a slice whose max is
        # nan has count 0 and its gradient is nan throughout (0 * inf); count in grad_out's
        # dtype: an integer count would turn float32 gradients into float64
        mask = x == out
        count = mask.sum(axis=self.axes, keepdims=True, dtype=grad_out.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (mask * (g / count),)

    def params(self):
        return {"axis": self.axis} if self.axis is not None else {}


class Min(Max):
    """z = min_i x_i over `axis`;  the gradient rule of max, at the minimum."""

    __slots__ = ()
    name = "min"
    reduce = staticmethod(np.min)


class Prod(Op):
    """z = prod_i x_i over `axis`;  dz/dx_i = prod_{j != i} x_j: z / x_i, or prefix times
    suffix products where some x_j = 0 (torch's two cases)."""

    __slots__ = ("axis", "keepdims", "axes", "x")
    name = "prod"

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x = x
        self.axes = normalise_axis(self.axis, x.ndim)
        return np.prod(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad_out):
        x, axes = self.x, self.axes
        g = _expand_reduced(grad_out, axes, self.keepdims)
        if x.size == 0 or not axes:
            return (np.broadcast_to(g, x.shape) * np.ones((), x.dtype),)
        zeros = np.count_nonzero(x == 0)
        if not zeros:  # torch's rule without zeros: z / x_i
            with np.errstate(invalid="ignore"):
                return (g * (np.prod(x, axis=axes, keepdims=True) / x),)
        if zeros > 1 and self.axis is None:  # torch's prod(): every dz/dx_i is 0, so 0
            return (np.zeros_like(x),)  # whatever reaches it (an inf upstream too)
        kept = [d for d in range(x.ndim) if d not in axes]
        moved = np.transpose(x, kept + list(axes))
        flat = moved.reshape(moved.shape[: len(kept)] + (-1,))
        one = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
        left = np.cumprod(np.concatenate([one, flat[..., :-1]], axis=-1), axis=-1)
        right = np.cumprod(np.concatenate([one, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = (left * right).reshape(moved.shape).transpose(np.argsort(kept + list(axes)))
        return (g * others,)

    def params(self):
        return {"axis": self.axis} if self.axis is not None else {}


class Var(Op):
    """z = sum_i (x_i - mean x)^2 / (N - correction) over `axis`;
    dz/dx_i = 2 (x_i - mean x) / (N - correction) (torch's rule, one node instead of six)."""

    __slots__ = ("axis", "keepdims", "correction", "axes", "centred", "divisor")
    name = "var"
    saves_inputs = False

    def __init__(self, axis=None, keepdims=False, correction=1):
        self.axis, self.keepdims, self.correction = axis, keepdims, correction

    def forward(self, x):
        x = floating(x)
        self.axes = normalise_axis(self.axis, x.ndim)
        n = math.prod([x.shape[a] for a in self.axes]) if x.ndim else 1
        self.divisor = max(n - self.correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.centred = x - np.mean(x, axis=self.axes, keepdims=True)
            out = np.sum(self.centred * self.centred, axis=self.axes, keepdims=self.keepdims)
            return out / np.asarray(self.divisor, dtype=x.dtype)

    def backward(self, grad_out):
        g = _expand_reduced(grad_out, self.axes, self.keepdims)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * (self.centred * (2.0 / np.asarray(self.divisor, grad_out.dtype))),)

    def params(self):
        return {"axis": self.axis, "correction": self.correction}


class CumSum(Op):
    """z_i = sum_{j <= i} x_j along `axis`;  dL/dx_j = sum_{i >= j} g_i (a reversed cumsum)."""

    __slots__ = ("axis",)
    name = "cumsum"
    saves_inputs = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, x):
        return np.cumsum(x, axis=self.axis) if x.ndim else x.copy()

    def backward(self, grad_out):
        if not grad_out.ndim:
            return (grad_out,)
        flipped = np.flip(grad_out, self.axis)
        return (np.flip(np.cumsum(flipped, axis=self.axis), self.axis),)

    def params(self):
        return {"axis": self.axis}


class LogSoftmax(Op):
    """z = x - log sum_j e^{x_j} (shifted by max x);  dL/dx = g - softmax(x) * sum_j g_j."""

    __slots__ = ("axis", "out")
    name = "log_softmax"
    saves_inputs = False
    saves_output = True

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        x = floating(x)
        if x.size == 0:  # nothing to normalise (torch returns the empty tensor)
            self.out = x.copy()
            return self.out
        # the reductions as ufunc methods: np.max and np.sum, without their Python layer
        shifted = x - np.maximum.reduce(x, axis=self.axis, keepdims=True)
        self.out = shifted - np.log(np.add.reduce(np.exp(shifted), axis=self.axis, keepdims=True))
        return self.out

    def backward(self, grad_out):
        total = np.add.reduce(grad_out, axis=self.axis, keepdims=True)
        return (grad_out - np.exp(self.out) * total,)

    def params(self):
        return {"axis": self.axis}


class Softmax(Op):
    """z_i = e^{x_i} / sum_j e^{x_j} (shifted by max x);  dL/dx = z * (g - sum_j g_j z_j)."""

    __slots__ = ("axis", "out")
    name = "softmax"
    saves_inputs = False
    saves_output = True

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        x = floating(x)
        if x.size == 0:
            self.out = x.copy()
            return self.out
        e = np.exp(x - np.max(x, axis=self.axis, keepdims=True))
        self.out = e / np.sum(e, axis=self.axis, keepdims=True)
        return self.out

    def backward(self, grad_out):
        z = self.out
        return (z * (grad_out - np.sum(grad_out * z, axis=self.axis, keepdims=True)),)

    def params(self):
        return {"axis": self.axis}


# ----- shape ------------------------------------------------------------------------------
class Reshape(Op):
    """z = reshape(x, shape);  dL/dx = reshape(g, x.shape)."""

    __slots__ = ("shape", "in_shape")
    name = "reshape"
    saves_inputs = False

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, grad_out):
        return (grad_out.reshape(self.in_shape),)

    def params(self):
        return {"shape": self.shape}


class Transpose(Op):
    """z = transpose(x, axes);  dL/dx = transpose(g, inverse(axes))."""

    __slots__ = ("axes",)
    name = "transpose"
    saves_inputs = False

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        if self.axes is not None:  # negative axes count from the end: normalise, then check
            n = max(x.ndim, 1)
            axes = tuple(int(a) % n if -n <= a < n else a for a in self.axes)
            if sorted(axes) != list(range(x.ndim)):
                raise ValueError(f"axes {self.axes} are not a permutation of {x.ndim} dims")
            self.axes = axes
        return np.transpose(x, self.axes)

    def backward(self, grad_out):
        if self.axes is None:
            return (np.transpose(grad_out),)
        return (np.transpose(grad_out, np.argsort(self.axes)),)

    def params(self):
        return {"axes": self.axes} if self.axes is not None else {}


def _is_basic_index(index):
    """Slices, ints, None and Ellipsis select without repetition: backward may add in place."""
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if not (p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer))):
            return False
    return True


class GetItem(Op):
    """z = x[index] (slices, ints, integer or boolean arrays);  dL/dx = g scattered back (added)."""

    __slots__ = ("index", "shape", "basic")
    name = "getitem"
    saves_inputs = False

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.shape = x.shape
        self.basic = _is_basic_index(self.index)
        return x[self.index]

    def backward(self, grad_out):
        return (SliceGrad(self.index, grad_out, self.shape, self.basic),)

    def params(self):
        return {"index": _format_index(self.index)}


def _format_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, slice):
            text = ("" if p.start is None else str(p.start)) + ":"
            text += "" if p.stop is None else str(p.stop)
            if p.step is not None:
                text += f":{p.step}"
            out.append(text)
        elif p is Ellipsis:
            out.append("...")
        elif isinstance(p, np.ndarray):
            out.append(f"array{list(p.shape)}")
        else:
            out.append(str(p))
    return ", ".join(out)


class Concat(Op):
    """z = [x_1, ..., x_n] joined along `axis`;  dL/dx_k = the matching slice of g."""

    __slots__ = ("axis", "bounds")
    name = "concat"
    saves_inputs = False

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        if not xs:
            raise ValueError("needs at least one tensor")
        self.bounds = np.cumsum([x.shape[self.axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, grad_out):
        return tuple(np.split(grad_out, self.bounds, axis=self.axis))

    def params(self):
        return {"axis": self.axis}


class Stack(Op):
    """z = [x_1, ..., x_n] stacked on a new `axis`;  dL/dx_k = g taken at k on that axis."""

    __slots__ = ("axis", "count")
    name = "stack"
    saves_inputs = False

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        if not xs:
            raise ValueError("needs at least one tensor")
        self.count = len(xs)
        if self.axis == 0:  # what np.stack does, without its per-array overhead
            try:
                return np.concatenate([x[None] for x in xs])
            except ValueError:
                pass  # np.stack's message says what does not match
        return np.stack(xs, axis=self.axis)

    def backward(self, grad_out):
        # views, not copies: the engine never writes into an array it did not allocate
        if self.axis == 0 and grad_out.ndim > 1:
            return tuple(grad_out)  # iterating an array yields its views along axis 0
        index = [slice(None)] * grad_out.ndim
        grads = []
        for k in range(self.count):
            index[self.axis] = k
            grads.append(grad_out[tuple(index)])
        return tuple(grads)

    def params(self):
        return {"axis": self.axis}
