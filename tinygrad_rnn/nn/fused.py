"""The fused but transparent recurrent step: whole-step numpy, every per-gate node kept.

This file is the machinery (buffers, the base layer, the node builders); the three cells'
steps and BPTT passes are in fused_layers.py, the LSTM's block layout and lazy values in
fused_blocks.py.

A layer in one direction becomes one `groups.Group`. Its forward computes each step with a
few numpy calls into per-layer buffers and then creates exactly the nodes the per-node
step (`RNNCell.step`, `LSTMCell.step`, `GRUCell.step`) would create: the same op, inputs,
label, tags and creation order, their data views into the buffers. Its backward is one
vectorised BPTT pass (the recurrence step by step, then W_hh's gradient as one product over
all steps); the members' own gradients are computed from their rules on first read. The
LSTM's members that only show values no step reads again (`h W_hh^T`, `a_t`, its slices,
`X W_ih^T`) are `fused_blocks.Lazy`: their values too are computed on first read.

    LSTM  a_k = xw_k + h_{k-1} W_hh^T + b_hh;  i,f,o = sigmoid, g = tanh of a_k's quarters
          c_k = f c_{k-1} + i g;  h_k = o tanh(c_k)
    back  dh_k = (outside h_k);  dc_k = (outside c_k) + dh_k o (1 - tanh^2 c_k)
          da_k = [dc g i(1-i), dc c_{k-1} f(1-f), dc i (1-g^2), dh tanh(c_k) o(1-o)]
          outside h_{k-1} += da_k W_hh;  outside c_{k-1} += dc_k f;  dW_hh = sum_k da_k^T h_{k-1}

Buffers are reused across iterations only when nothing holds a view into them any more (no
node, gradient or edge of an old graph is alive): see `_take`. Members read only buffers the
engine owns, including copies of the weights taken at forward time, so an optimizer updating
the parameters in place cannot change a gradient or a value read later.
"""

import contextlib
import gc
import math
import sys

import numpy as np

from .. import versions
from ..groups import Group, state_refs  # noqa: F401  (state_refs: for the layers)
from ..modes import next_seq, state
from ..ops import Add, GetItem, Linear, Mul, Op, Stack
from ..tensor import Tensor, stack

_new = object.__new__

ENABLED = True  # False: every layer runs node by node (to compare, or to time the difference)
_POOL = {}  # (cell, shapes, dtype) -> [(flat buffer, its views)]; free when no view is held
_KEEP = 3  # buffer sets kept per shape: the current graph, the previous one, one spare
_ALIGN = 64  # bytes: BLAS and the vector loops read aligned cache lines fastest


def _take(key, make_layout, dtype):
    """{name: array} carved from one flat buffer that no live view uses (or a new one).

    The pool keeps each buffer with its named views, so that a buffer taken again is not
    carved again. It is free when nothing but the pool and those views refers to it, and
    nothing but the pool refers to a view: no node, gradient or edge of an old graph holds
    a piece of it. `make_layout()` gives [(name, shape)], called for a new buffer only.
    """
    for flat, views in _POOL.setdefault(key, []):
        # references: the pool's tuple, `flat`, getrefcount's argument, one per view
        if sys.getrefcount(flat) != 3 + len(views):
            continue
        for view in views.values():
            if sys.getrefcount(view) != 3:  # the pool's dict, `view`, the argument
                break
        else:
            return dict(views)
    layout = make_layout()
    line = _ALIGN // dtype.itemsize  # elements per cache line: every view starts on one
    sizes = [-(-math.prod(shape) // line) * line for _, shape in layout]
    flat = np.empty(sum(sizes) + line, dtype=dtype)
    views, start = {}, (-flat.ctypes.data % _ALIGN) // dtype.itemsize
    for (name, shape), size in zip(layout, sizes):
        views[name] = flat[start : start + math.prod(shape)].reshape(shape)
        start += size
    if len(_POOL[key]) < _KEEP:
        _POOL[key].append((flat, views))
    return dict(views)


def fusable(weight_hh, xw_dtype):
    """Whether a layer may run fused now: building a graph, no anomaly mode, float data."""
    return (
        ENABLED
        and state.grad_enabled
        and not state.anomaly
        and weight_hh.requires_grad
        and weight_hh.data.dtype == xw_dtype
        and xw_dtype.kind == "f"
    )


@contextlib.contextmanager
def no_collection():
    """Pause Python's cycle collector while a fused layer builds its steps.

    The nodes hold no reference cycles (reference counting frees a dead graph at once), so
    collection passes triggered by the thousands of new nodes would only traverse them and
    find nothing to free.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def sigmoid_into(x, out):
    """Sigmoid exactly as ops.Sigmoid computes it: (1 + tanh(x/2)) / 2."""
    np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


class Layer(Group):
    """What the three cells share: buffers, the h_{k-1} W_hh^T node, W_hh's gradient."""

    gates = 1
    n_states = 1
    rows = False  # BlockLayer: buffers in rows rather than columns

    def __init__(self, steps, batch, hidden, weight_hh, bias_hh, reverse, projected):
        super().__init__()
        # layer 0 projects the whole sequence (X W_ih^T, `project`; `projected` is then the
        # input width) and its per-step slices join the group; deeper layers project each
        # step outside the group (`self.xw`; `projected` is None)
        self.projection, self.reverse = None, reverse
        self.prime = "'" if reverse else ""  # the reverse direction's mark in labels
        dtype = weight_hh.data.dtype
        width = self.gates * hidden
        self.steps, self.batch, self.hidden = steps, batch, hidden
        self.weight_hh, self.bias_hh, self.initial = weight_hh, bias_hh, ()

        def layout():
            shapes = self.layout(steps, batch, hidden, width)
            return shapes + self.weights_layout(steps, batch, hidden, width, projected)

        key = (type(self).__name__, self.rows, steps, batch, hidden, projected, dtype.str)
        self.buf = _take(key, layout, dtype)
        self.copy_weights()
        self.xw = []
        self.k = 0
        self.chunk_ops = None

    def weights_layout(self, T, B, H, W, projected):
        """The buffers of W_hh's copy, the stacked output and the projection (T, B, gates * H)."""
        layout = [("W", self.weight_hh.shape), ("OUT", (T, B, H))]
        return layout + ([("XW", (T, B, W))] if projected is not None else [])

    def copy_weights(self):
        np.copyto(self.buf["W"], self.weight_hh.data)

    def project(self, x, weight_ih, bias_ih):
        """The node `X W_ih^T` (+ b_ih) for the whole sequence, as `linear` builds it, into a
        reused buffer (T, B, gates * H)."""
        out = self.buf["XW"]
        flat_x = x.data.reshape(-1, x.data.shape[-1])
        np.matmul(flat_x, weight_ih.data.T, out=out.reshape(flat_x.shape[0], -1))
        op = Linear()
        op.x, op.weight, op.has_bias = x.data, weight_ih.data, bias_ih is not None
        inputs = (x, weight_ih) if bias_ih is None else (x, weight_ih, bias_ih)
        if bias_ih is not None:
            out += bias_ih.data
        op.needs = tuple(t.requires_grad for t in inputs)
        if any(op.needs):
            self.projection = member_node(None, op, out, inputs)
        else:
            self.projection = Op.make_node(out, (), None, False)
        return self.projection

    def start(self, initial):
        """The initial states (h_init, c_init): copied, so that later reads see these values."""
        self.initial = initial
        for k, name in enumerate(("S", "C")[: self.n_states]):
            np.copyto(self.buf[name][0], initial[k].data)

    def linear_hh(self, member, h_prev, hw_data):
        """The node `h_{k-1} W_hh^T` (+ b_hh), as `linear` builds it."""
        np.matmul(self._prev(), self.buf["W"].T, out=hw_data)
        if self.bias_hh is not None:
            hw_data += self.bias_hh.data
        return self.hh_node(member, h_prev, self._prev(), self.buf["W"], hw_data)

    def hh_node(self, member, h_prev, x, weight, data, cls=Tensor):
        """The member node `h_{k-1} W_hh^T` (+ b_hh) holding `data`, with the Linear op that
        `linear` would have made; `x` and `weight` are the arrays its backward reads."""
        op = Linear.__new__(Linear)
        op.x, op.weight = x, weight
        bias = self.bias_hh
        if bias is not None:
            op.has_bias, inputs = True, (h_prev, self.weight_hh, bias)
            op.needs = (h_prev.requires_grad, True, bias.requires_grad)
        else:
            op.has_bias, inputs = False, (h_prev, self.weight_hh)
            op.needs = (h_prev.requires_grad, True)
        label = f"{h_prev.label} W{self.prime}_hh^T"
        return member_node(member, op, data, inputs, label, cls)

    def projected(self, t):
        """`projection[t]` (a getitem node), built directly: step t's input x_t W_ih^T."""
        p = self.projection
        if not p.requires_grad:  # frozen weights and a constant input: a constant slice
            return Op.make_node(p.data[t], (), None, False)
        data = p._data
        op = GetItem.__new__(GetItem)
        op.index, op.shape, op.basic = t, data.shape, True
        return member_node((self, self.k, -1), op, data[t], (p,))

    def take(self, xw, member):
        """Step k's input `x_k W_ih^T`: a member when it is a slice of the projection."""
        if self.projection is None:
            self.xw.append(xw)
        elif xw.requires_grad:
            xw._group = member

    def input_grads(self, dXW):
        """(input, gradient) for the inputs: the projection gets one array in time order."""
        if self.projection is None:
            return [(xw, dXW[k]) for k, xw in enumerate(self.xw)]
        if not self.projection.requires_grad:
            return []
        return [(self.projection, dXW[::-1] if self.reverse else dXW)]

    def chunks(self, member, x):
        """`x.chunk(gates, dim=1)` as member nodes, x[:, jH:(j+1)H] (the last open-ended);
        their GetItem ops are built once per layer and shared by every step: an op holds
        only its index and the input's shape, the same at each step."""
        data, ops = x._data, self.chunk_ops
        if ops is None or ops[0].shape != data.shape:
            H = self.hidden
            self.chunk_ops = ops = [
                chunk_op(data.shape, j * H, (j + 1) * H) for j in range(self.gates)
            ]
        return [member_node(member, op, data[op.index], (x,)) for op in ops]

    def states_made(self, *states):
        """Step k is built: its states are marked as such (the group's ways in)."""
        for role, node in enumerate(states):
            node._group = (self, self.k, role)
        self.k += 1
        return states

    def _prev(self):
        return self.buf["S"][self.k]

    def finish(self, states):
        """After the last step: the external inputs the walk must order before the group."""
        inputs = [*self.xw, self.weight_hh, *self.initial]
        if self.projection is not None and self.projection.requires_grad:
            inputs.append(self.projection)
        if self.bias_hh is not None:
            inputs.append(self.bias_hh)
        self.inputs = tuple(t for t in inputs if t.requires_grad)
        self.states = states
        # the per-node `h W_hh^T` nodes save W_hh and h_init: changing either after the
        # forward pass is an error there, so it is here too, though the group kept copies
        self.read = [(t, t._version) for t in (self.weight_hh, *self.initial)]

    def check_versions(self):
        versions.check_read(
            f"the fused {type(self).__name__.removesuffix('Layer')} layer", self.read
        )

    def send_recurrent(self, entered, dA):
        """(input, gradient) pairs for the parameters: one product over all steps."""
        T, B, H = self.steps, self.batch, self.hidden
        flat = dA.reshape(T * B, -1)
        out = [(self.weight_hh, flat.T @ self.buf["S"][:T].reshape(T * B, H))]
        if self.bias_hh is not None:
            out.append((self.bias_hh, dA.sum(axis=(0, 1))))
        return out

    def state_rows(self):
        """h_1 .. h_T in processing order as one (T, B, H) view of the buffers."""
        return self.buf["S"][1:]

    def stacked(self, nodes):
        """`stack(nodes, axis=0)` of every step's h_t in time order, as `Op.apply` builds
        it, its data (T, B, H) in a reused buffer: one copy, no fresh memory."""
        out, hs = self.buf["OUT"], self.state_rows()
        np.copyto(out, hs[::-1] if self.reverse else hs)
        op = Stack(0)
        op.count = len(nodes)
        return Op.make_node(out, tuple(nodes), op, True)

    def outside(self, entered, k, which):
        """The gradient that consumers outside the group sent to state `which` of step k."""
        node = self.states[k][which]()
        return entered.get(node)

    def outside_all(self, entered, which):
        """`outside` for every step at once: [k] -> gradient or None."""
        out = [None] * self.steps
        for node, g in entered.items():
            _, k, role = node._group
            if role == which:
                out[k] = g
        return out


def stack_states(nodes):
    """`stack(nodes, axis=0)`: into the layer's buffer when the nodes are every h_t of one
    fused layer (`Layer.stacked`) in time order, else by `stack`."""
    member = nodes[0]._group if nodes else None
    layer = member[0] if member is not None else None
    if not isinstance(layer, Layer) or len(nodes) != layer.steps:
        return stack(nodes, axis=0)
    T = layer.steps
    for t, node in enumerate(nodes):
        k = T - 1 - t if layer.reverse else t
        if node._group != (layer, k, 0):
            return stack(nodes, axis=0)
    return layer.stacked(nodes)


def member_node(member, op, data, inputs, label=None, cls=Tensor):
    """A member node, as `Op.apply` makes one (Tensor._make), with its label and group
    (op None: a constant, as `Op.make_node` makes one without an op)."""
    t = _new(cls)
    t._data, t._grad, t._requires_grad, t.inputs, t.op = data, None, True, inputs, op
    t.label, t.tags, t._hooks, t._edge_grads, t._group = label, state.tags, None, None, member
    t._version, t._changed_by, t.seq = 0, None, next_seq()
    if op is not None and op.saves_inputs:  # what versions.py checks before a backward reads
        if len(inputs) == 2:  # (spelled out for the common case, as Op.apply does)
            op.versions = (inputs[0]._version, inputs[1]._version)
        else:
            op.versions = tuple([x._version for x in inputs])
    return t


def activation_op(cls, out):
    """The op of an activation (Tanh, Sigmoid) whose backward reads its output."""
    op = cls.__new__(cls)
    op.out = out
    return op


def mul_node(member, a, b, out, label=None, b_data=None):
    """a * b; `b_data` is b's value in the group's own buffer (an initial state's copy)."""
    b_data = b.data if b_data is None else b_data
    np.multiply(a.data, b_data, out=out)
    op = Mul.__new__(Mul)
    op.a, op.b = a.data, b_data
    return member_node(member, op, out, (a, b), label)


def add_node(member, a, b, out, label=None):
    np.add(a.data, b.data, out=out)
    op = Add.__new__(Add)
    op.shapes = (a.data.shape, b.data.shape)
    return member_node(member, op, out, (a, b), label)


def chunk_op(shape, start, stop):
    """The GetItem op of x[:, start:stop] as `chunk` takes it (the last piece open-ended)."""
    index = (slice(None, None, None), slice(start, None if stop == shape[1] else stop, None))
    op = GetItem(index)
    op.shape, op.basic = shape, True
    return op
