"""Custom differentiable functions, as `torch.autograd.Function` has them.

Write the maths yourself, in numpy, and the engine treats it like any primitive::

    class Sigmoid(Function):
        '''y = 1 / (1 + exp(-x));  dy/dx = y (1 - y).'''

        @staticmethod
        def forward(ctx, x):
            y = 1 / (1 + np.exp(-x))
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_out):
            (y,) = ctx.saved_tensors
            return grad_out * y * (1 - y)

    z = Sigmoid.apply(x)            # a node whose op is named "Sigmoid"

Inside `forward` every Tensor argument arrives as its numpy array; any other argument (a
number, a string, an array) passes through unchanged, and its gradient is None. `backward`
returns one gradient per argument of `forward` (a single array when there is one; None
where no gradient is needed, see `ctx.needs_input_grad`).

The node is built by `Op.apply` like every other (grad mode, scope tags, anomaly checks,
edge gradients, hooks): the adapter below is one small `Op` subclass per Function, named
after it, so pictures, `bptt`, `step` and anomaly reports show the Function's own name and
the first line of its docstring.

Two choices stricter than PyTorch, both to catch a learner's mistake where it is made: a
gradient must have exactly its input's shape and dtype (PyTorch sums a broadcast gradient
down and casts the dtype silently, which would hide a forgotten sum over the batch), and
`grad_out`, the saved arrays and the forward's inputs are read-only (writing into them
would corrupt gradients that other nodes hold).
"""

import inspect

import numpy as np

from .modes import state
from .ops import Op
from .tensor import Tensor

_TENSOR = object()  # marks, in an argument template, where a tensor's array goes


class FunctionCtx:
    """What `forward` leaves for `backward`: `save_for_backward(*arrays)`, `saved_tensors`,
    `needs_input_grad` (one bool per forward argument), and any attribute you set."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self.non_differentiable = False

    def save_for_backward(self, *arrays):
        saved = []
        for k, a in enumerate(arrays):
            if isinstance(a, Tensor):
                raise TypeError(
                    f"save_for_backward: argument {k} is a Tensor; inside a Function "
                    "save the numpy arrays forward receives or computes"
                )
            saved.append(None if a is None else _read_only(np.asarray(a)))
        self._saved = tuple(saved)

    @property
    def saved_tensors(self):
        """The arrays given to `save_for_backward`, in order (read-only)."""
        return self._saved

    def mark_non_differentiable(self, *outputs):
        """As in PyTorch: the output carries no gradient (an index, a mask, a count)."""
        self.non_differentiable = True

    def set_materialize_grads(self, value):
        """Accepted for PyTorch compatibility: here grad_out is always an array (a single
        output always has a gradient when backward reaches it)."""

    def mark_dirty(self, *arrays):
        raise ValueError(
            "mark_dirty: a Function cannot change its inputs in place here (they are "
            "read-only); return a new array"
        )


def _read_only(a):
    view = a.view()
    view.flags.writeable = False
    return view


class FunctionOp(Op):
    """The adapter: one subclass per Function (`FunctionOp.for_function`), so that `name`
    (and the docstring anomaly reports quote) are the Function's own."""

    __slots__ = ("template", "needs", "ctx", "shapes", "dtypes")
    function = None
    arg_names = ()

    def __init__(self, template, needs):
        self.template = template
        self.needs = needs
        self.ctx = None

    @classmethod
    def for_function(cls, function):
        made = function.__dict__.get("_op_class")
        if made is None:
            try:
                names = list(inspect.signature(function.forward).parameters)[1:]
            except (TypeError, ValueError):
                names = []
            made = type(
                f"{function.__name__}Op",
                (cls,),
                {
                    "__slots__": (),
                    "__doc__": function.__doc__ or f"{function.__name__} (a custom Function)",
                    "name": function.__name__,
                    "function": function,
                    "arg_names": tuple(names),
                },
            )
            function._op_class = made
        return made

    def _arguments(self, arrays):
        it = iter(arrays)
        return [_read_only(next(it)) if a is _TENSOR else a for a in self.template]

    def forward(self, *arrays):
        # Op.apply prefixes errors raised here with the Function's name and input shapes
        self.shapes = [a.shape for a in arrays]
        self.dtypes = [a.dtype for a in arrays]
        self.ctx = FunctionCtx(self.needs)
        out = self.function.forward(self.ctx, *self._arguments(arrays))
        if isinstance(out, Tensor):
            raise TypeError(
                "forward returned a Tensor; return a numpy array (forward works on "
                "the arrays it receives)"
            )
        if isinstance(out, (tuple, list)):
            raise TypeError(
                f"forward returned {len(out)} values; a Function has one output here "
                "(return one array, e.g. np.concatenate them and slice the result)"
            )
        try:
            out = np.asarray(out)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"forward returned {type(out).__name__}: {exc}") from None
        if out.dtype.kind not in "fc" and any(self.needs) and not self.ctx.non_differentiable:
            raise TypeError(
                f"forward returned dtype {out.dtype}; only a floating-point output "
                "can carry a gradient"
            )
        if not out.flags.writeable:
            out = out.copy()  # e.g. forward returned its (read-only) input
        return out

    def backward(self, grad_out):
        name = self.name
        try:
            grads = self.function.backward(self.ctx, _read_only(np.asarray(grad_out)))
        except ValueError as exc:
            if "read-only" in str(exc):
                raise ValueError(
                    f"{name}.backward wrote into a read-only array (grad_out, a saved array "
                    "or an input): compute a new array instead of updating one in place"
                ) from exc
            raise
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        count = len(self.template)
        if len(grads) < count or any(g is not None for g in grads[count:]):
            raise ValueError(
                f"{name}.backward returned {len(grads)} gradient(s); expected {count}, one "
                f"per argument of forward ({', '.join(self._arg_name(i) for i in range(count))})"
            )
        result, j = [], 0
        for i, (a, g) in enumerate(zip(self.template, grads)):
            if a is not _TENSOR:
                if g is not None:
                    raise ValueError(
                        f"{name}.backward returned a gradient for {self._arg_name(i)}, "
                        f"which is not a Tensor ({type(a).__name__}); return None there"
                    )
                continue
            # as PyTorch: what comes back for an input that needs no gradient is dropped
            needed = self.needs[i] and g is not None
            result.append(self._checked(g, i, j) if needed else None)
            j += 1
        return tuple(result)

    def _checked(self, g, i, j):
        name, shape, dtype = self.name, self.shapes[j], self.dtypes[j]
        where = f"{name}.backward: the gradient for {self._arg_name(i)}"
        if isinstance(g, Tensor):
            raise TypeError(f"{where} is a Tensor; return a numpy array")
        try:
            g = np.asarray(g)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{where} is not an array ({type(g).__name__}): {exc}") from None
        if g.shape != shape:
            raise ValueError(f"{where} has shape {g.shape}, expected {shape} (the input's shape)")
        if g.dtype != dtype:
            if g.dtype.kind == "f" and not np.ndim(g) and dtype.kind == "f":
                return g.astype(dtype)  # a Python float for a 0-d input
            raise TypeError(f"{where} has dtype {g.dtype}, expected {dtype} (the input's dtype)")
        return g

    def _arg_name(self, i):
        label = f"input {i}"
        if i < len(self.arg_names):
            label += f" ({self.arg_names[i]})"
        return label

    def params(self):
        """The non-tensor arguments, by forward's parameter names (for pictures)."""
        shown = {}
        for i, a in enumerate(self.template):
            if a is not _TENSOR and (a is None or isinstance(a, (bool, int, float, str))):
                key = self.arg_names[i] if i < len(self.arg_names) else f"arg{i}"
                shown[key] = a
        return shown


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, grad_out)`; call
    `YourFunction.apply(*args)`. See the module docstring for an example."""

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass defines forward(ctx, *args)")

    @staticmethod
    def backward(ctx, grad_out):
        raise NotImplementedError("a Function subclass defines backward(ctx, grad_out)")

    @classmethod
    def apply(cls, *args):
        """Run forward on the arrays of the Tensor arguments; returns one Tensor (a node
        named after the class when any Tensor argument requires grad)."""
        if cls is Function:
            raise TypeError("Function.apply: subclass Function and call YourFunction.apply")
        if "forward" not in _defined(cls) or "backward" not in _defined(cls):
            missing = [m for m in ("forward", "backward") if m not in _defined(cls)]
            raise TypeError(f"{cls.__name__} must define {' and '.join(missing)}")
        tensors = [a for a in args if isinstance(a, Tensor)]
        template = tuple(_TENSOR if isinstance(a, Tensor) else a for a in args)
        # as in PyTorch: False for non-tensors, and for everything under no_grad()
        needs = tuple(
            isinstance(a, Tensor) and a.requires_grad and state.grad_enabled for a in args
        )
        op_class = FunctionOp.for_function(cls)
        out = op_class.apply(*tensors, template=template, needs=needs)
        if out.op is not None and out.op.ctx.non_differentiable:
            return out.detach()  # no gradient flows through it, as PyTorch's marked outputs
        return out


def _defined(cls):
    """Method names a subclass (not Function itself) defines."""
    names = set()
    for klass in cls.__mro__:
        if klass is Function:
            break
        names.update(klass.__dict__)
    return names
