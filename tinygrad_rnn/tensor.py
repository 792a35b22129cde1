"""The node of the graph: a numpy array plus what made it.

A `Tensor` holds `data` (an ndarray; 0-d arrays are the scalars), `grad` (None or an array
of data's shape), `inputs` (the ordered parents, repeated when an operand repeats: `a + a`
has inputs `(a, a)`), `op` (the op instance that made it, None for leaves), `label`, `tags`
(time step, layer, direction, cell, from the active `scope`) and `seq` (its creation number).

Operators and methods only forward to `ops.py`: every derivative lives there.
"""

import operator

import numpy as np

from . import composite as _c
from . import ops as _ops
from . import versions as _v
from .composite import checks as _checks
from .display import describe
from .modes import next_seq, state

_FLOAT_KINDS = "fc"


def _as_array(data, dtype):
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        arr = np.asarray(data, dtype=dtype)
    elif isinstance(data, np.ndarray):
        arr = data
    else:
        arr = np.asarray(data)
        # Python floats, lists of floats and Python ints mixed with floats become float64;
        # integer-only data stays integer (indices, class targets).
        if arr.dtype.kind == "f" and arr.dtype != np.float64 and not isinstance(data, np.generic):
            arr = arr.astype(np.float64)
    if arr.dtype.kind not in "fiub":
        # object, string, complex, datetime...: no op here has a rule for them
        raise TypeError(
            f"Tensor: dtype {arr.dtype} is not supported (real floating point, integer or "
            f"bool only), got {type(data).__name__}"
        )
    return arr


class Tensor:
    """A node: `Tensor(data, requires_grad=False, dtype=None, label=None)`.

    >>> a = Tensor(-4.0, requires_grad=True); b = Tensor(2.0, requires_grad=True)
    >>> c = a * b + b ** 3
    >>> c.backward(); float(a.grad), float(b.grad)
    (2.0, 8.0)
    """

    __slots__ = (
        "_data",
        "_version",
        "_changed_by",
        "_grad",
        "_requires_grad",
        "inputs",
        "op",
        "label",
        "tags",
        "_hooks",
        "_edge_grads",
        "_group",
        "seq",
        "__weakref__",
    )
    is_group = False  # see groups.py: a fused layer stands for many nodes in the walk
    # numpy must hand `ndarray * Tensor` to Tensor.__rmul__ instead of broadcasting over it.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None, label=None):
        self._data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind not in _FLOAT_KINDS:
            raise TypeError(
                f"Tensor: only floating-point tensors can require grad, got dtype {self.data.dtype}"
            )
        self._grad = None
        self._requires_grad = bool(requires_grad)
        self.inputs = ()
        self.op = None
        self.label = label
        self.tags = state.tags
        self._hooks = None
        self._edge_grads = None
        self._version = 0
        self._changed_by = None
        self._group = None
        self.seq = next_seq()

    @classmethod
    def _make(cls, data, inputs, op, requires_grad):
        """Fast constructor used by `Op.apply`: no conversion, no checks."""
        t = object.__new__(cls)
        t._data = data
        t._grad = None
        t._requires_grad = requires_grad
        t.inputs = inputs
        t.op = op
        t.label = None
        t.tags = state.tags
        t._hooks = None
        t._edge_grads = None
        t._version = 0
        t._changed_by = None
        t._group = None
        t.seq = next_seq()
        return t

    def _set_data(self, value):
        self._data = value if type(value) is np.ndarray else np.asarray(value)
        _v.bump(self)  # a graph that saved the old data can no longer use it (versions.py)

    data = property(operator.attrgetter("_data"), _set_data, doc="The values (an ndarray).")

    def _set_requires_grad(self, flag):
        _checks.check_requires_grad("requires_grad", self, bool(flag))
        self._requires_grad = bool(flag)

    requires_grad = property(operator.attrgetter("_requires_grad"), _set_requires_grad)
    zero_, fill_, copy_, add_, mul_ = _v.zero_, _v.fill_, _v.copy_, _v.add_, _v.mul_

    @property
    def grad(self):
        """None, or d(root)/d(self) from the last backward (leaves: summed over passes);
        a node of a fused layer computes it on first read (groups.py)."""
        if self._grad is None and self._group is not None:
            self._group[0].materialise(self._group[1])
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = value

    @property
    def _edges(self):  # what each input edge got in the last backward (see edge_grads)
        if self._edge_grads is None and self._group is not None:
            self._group[0].materialise(self._group[1])
        return self._edge_grads

    # ----- properties ---------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        """numpy's `x.size` (the element count) that is also torch's `x.size()` / `x.size(dim)`."""
        return _c.Size(self.data.shape)

    def numel(self):
        return self.data.size

    def dim(self):
        return self.data.ndim

    @property
    def is_leaf(self):
        return self.op is None

    @property
    def T(self):
        return self.transpose()

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def item(self):
        return self.data.item()

    def numpy(self):
        return self.data

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.data.shape} is ambiguous; "
                "use .data.any() or .data.all()"
            )
        return bool(self.data)

    # ----- graph handling -----------------------------------------------------------
    def named(self, label):
        """Set the display label (`h_t`, `W_hh`) and return self, for chaining."""
        self.label = label
        return self

    def detach(self):
        """A new leaf sharing this data, cut from the graph (keeps label and tags)."""
        t = Tensor._make(self.data, (), None, False)
        t.label = self.label
        t.tags = self.tags
        return t

    def requires_grad_(self, flag=True):
        _checks.check_requires_grad("requires_grad_", self, bool(flag))
        self._requires_grad = bool(flag)
        return self

    def register_hook(self, fn):
        """Call `fn(grad)` when this node's gradient is complete in a backward pass.

        `fn` may return a replacement gradient (same shape). Returns a handle with `.remove()`.
        """
        if not callable(fn):
            raise TypeError(f"register_hook: the hook must be callable, got {type(fn).__name__}")
        if not self.requires_grad:
            raise RuntimeError("register_hook on a tensor that does not require grad")
        if self._hooks is None:
            self._hooks = []
        if self._group is not None:  # hooks run in the per-node walk only
            self._group[0].hooked = True
        handle = _HookHandle(self, fn)
        self._hooks.append(handle)
        return handle

    def edge_grads(self):
        """The gradient that flowed along each input edge in the last backward: a list aligned
        with `inputs` (None where nothing flowed). The edges into a node sum to that node's
        gradient; a shared weight's edges, grouped by time step, are the per-step BPTT terms.
        """
        from .autograd import dense_edge_grads

        return dense_edge_grads(self)

    def backward(self, grad=None):
        from .autograd import backward

        backward(self, grad)

    def zero_grad(self):
        self.grad = None

    def __repr__(self):
        return describe(self)

    # ----- operators ------------------------------------------------------------------
    def __add__(self, other):
        return _ops.Add.apply(self, _lift(other, self))

    def __radd__(self, other):
        return _ops.Add.apply(_lift(other, self), self)

    def __sub__(self, other):
        return _ops.Sub.apply(self, _lift(other, self))

    def __rsub__(self, other):
        return _ops.Sub.apply(_lift(other, self), self)

    def __mul__(self, other):
        return _ops.Mul.apply(self, _lift(other, self))

    def __rmul__(self, other):
        return _ops.Mul.apply(_lift(other, self), self)

    def __truediv__(self, other):
        return _ops.Div.apply(self, _lift(other, self))

    def __rtruediv__(self, other):
        return _ops.Div.apply(_lift(other, self), self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        return self.pow(exponent)

    def __rpow__(self, base):
        return _ops.PowTensor.apply(_lift(base, self), self)

    def __matmul__(self, other):
        return _ops.MatMul.apply(self, _lift(other, self))

    def __rmatmul__(self, other):
        return _ops.MatMul.apply(_lift(other, self), self)

    __getitem__ = _c.getitem

    # comparisons give bool tensors outside the graph (not differentiable); `==` is identity
    __lt__, __le__, __gt__, __ge__, eq, ne = _c.lt, _c.le, _c.gt, _c.ge, _c.eq, _c.ne
    lt, le, gt, ge = __lt__, __le__, __gt__, __ge__
    __hash__ = object.__hash__

    # ----- methods: one per primitive ---------------------------------------------------
    # the operators under their PyTorch method names: `x.add(y)` is `x + y`
    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    neg = __neg__
    matmul = __matmul__

    def pow(self, exponent):
        return _c.power(self, exponent)

    def exp(self):
        return _ops.Exp.apply(self)

    def log(self):
        return _ops.Log.apply(self)

    def tanh(self):
        return _ops.Tanh.apply(self)

    def sigmoid(self):
        return _ops.Sigmoid.apply(self)

    def relu(self):
        return _ops.Relu.apply(self)

    def abs(self):
        return _ops.Abs.apply(self)

    def sqrt(self):
        return _ops.Sqrt.apply(self)

    def clip(self, min=None, max=None):
        return _c.clamp(self, min, max)

    clamp = clip

    def sum(self, dim=None, keepdim=False, axis=None, keepdims=None):
        dim, keepdim = _c.reduction_dims("sum", dim, keepdim, axis, keepdims)
        return _ops.Sum.apply(self, axis=dim, keepdims=keepdim)

    def mean(self, dim=None, keepdim=False, axis=None, keepdims=None):
        dim, keepdim = _c.reduction_dims("mean", dim, keepdim, axis, keepdims)
        return _ops.Mean.apply(self, axis=dim, keepdims=keepdim)

    # composites (composite/): PyTorch's names, built from the primitives above
    max, min, amax, amin, argmax, argmin = _c.max, _c.min, _c.amax, _c.amin, _c.argmax, _c.argmin
    maximum, minimum, logsumexp, prod = _c.maximum, _c.minimum, _c.logsumexp, _c.prod
    cumsum, var, std, norm, sign = _c.cumsum, _c.var, _c.std, _c.norm, _c.sign
    reciprocal, rsqrt, square, mm, bmm = _c.reciprocal, _c.rsqrt, _c.square, _c.mm, _c.bmm
    dot, gather, index_select, masked_fill = _c.dot, _c.gather, _c.index_select, _c.masked_fill
    permute, squeeze, unsqueeze, t, expand = _c.permute, _c.squeeze, _c.unsqueeze, _c.t, _c.expand
    flatten, flip, split, chunk = _c.flatten, _c.flip, _c.split, _c.chunk
    sin, cos, log1p, expm1 = _c.sin, _c.cos, _c.log1p, _c.expm1

    def log_softmax(self, axis=-1, dim=None):
        return _ops.LogSoftmax.apply(self, axis=_axis(axis, dim))

    def softmax(self, axis=-1, dim=None):
        return _ops.Softmax.apply(self, axis=_axis(axis, dim))

    def reshape(self, *shape):
        return _c.reshape(self, *shape)

    view = reshape

    def transpose(self, *axes):
        """`transpose(dim0, dim1)` swaps two axes (torch); one tuple, or three or more axes, is
        numpy's permutation; no argument reverses the axes."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        elif len(axes) == 2:
            d0, d1 = (_c.check_dim("transpose", d, self.ndim) for d in axes)
            perm = list(range(self.ndim))
            if self.ndim:
                perm[d0], perm[d1] = perm[d1], perm[d0]
            axes = tuple(perm)
        return _ops.Transpose.apply(self, axes=axes or None)


class _HookHandle:
    __slots__ = ("tensor", "fn")

    def __init__(self, tensor, fn):
        self.tensor = tensor
        self.fn = fn

    def remove(self):
        hooks = self.tensor._hooks
        if hooks and self in hooks:
            hooks.remove(self)


def _axis(axis, dim):
    return dim if dim is not None else axis


def _lift(other, like):
    """Wrap a Python number or array as a constant leaf of `like`'s float dtype."""
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (int, float, np.number)) and like.data.dtype.kind == "f":
        return Tensor._make(np.asarray(other, dtype=like.data.dtype), (), None, False)
    return Tensor(other)


def concat(tensors, axis=0, dim=None):
    """Join along an existing axis: `concat([a, b], axis=-1)` (torch.cat)."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    return _ops.Concat.apply(*tensors, axis=_axis(axis, dim))


cat = concat


def stack(tensors, axis=0, dim=None):
    """Join along a new axis: `stack([h_0, h_1, h_2])` has shape (3, ...)."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    return _ops.Stack.apply(*tensors, axis=_axis(axis, dim))


def where(condition, a, b):
    """`condition ? a : b` elementwise; the condition is a boolean array (not differentiated)."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    like = a if isinstance(a, Tensor) else b
    if not isinstance(like, Tensor):
        like = Tensor(np.asarray(a, dtype=np.float64))
    return _ops.Where.apply(_lift(a, like), _lift(b, like), condition=cond)


# ops.py builds nodes without importing this module: the constructor is handed to it here
_ops.Op.make_node = Tensor._make
