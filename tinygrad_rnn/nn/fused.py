"""The fused but transparent recurrent step: whole-step numpy, every per-gate node kept.

A layer in one direction becomes one `groups.Group`. Its forward computes each step with a
few numpy calls into per-layer buffers and then creates exactly the nodes the per-node
step (`RNNCell.step`, `LSTMCell.step`, `GRUCell.step`) would create: the same op, inputs,
label, tags and creation order, their data views into the buffers. Its backward is one
vectorised BPTT pass (the recurrence step by step, then W_hh's gradient as one product over
all steps); the members' own gradients are computed from their rules on first read.

    LSTM  a_k = xw_k + h_{k-1} W_hh^T + b_hh;  i,f,o = sigmoid, g = tanh of a_k's quarters
          c_k = f c_{k-1} + i g;  h_k = o tanh(c_k)
    back  dh_k = (outside h_k);  dc_k = (outside c_k) + dh_k o (1 - tanh^2 c_k)
          da_k = [dc g i(1-i), dc c_{k-1} f(1-f), dc i (1-g^2), dh tanh(c_k) o(1-o)]
          outside h_{k-1} += da_k W_hh;  outside c_{k-1} += dc_k f;  dW_hh = sum_k da_k^T h_{k-1}

Buffers are reused across iterations only when nothing holds a view into them any more (no
node, gradient or edge of an old graph is alive): see `_take`. Members read only buffers the
engine owns, including a copy of W_hh taken at forward time, so an optimizer updating the
parameters in place cannot change a gradient read later.
"""

import contextlib
import gc
import math
import sys

import numpy as np

from .._context import state
from ..groups import Group, state_refs  # noqa: F401  (state_refs: for the layers)
from ..ops import Add, GetItem, Linear, Mul, Op, Relu, Sigmoid, Sub, Tanh
from ..tensor import Tensor

_new = object.__new__

ENABLED = True  # False: every layer runs node by node (to compare, or to time the difference)
_POOL = {}  # (cell, shapes, dtype) -> [flat buffers]; a buffer is free when no view is alive
_KEEP = 3  # buffer sets kept per shape: the current graph, the previous one, one spare


def _take(key, layout, dtype):
    """{name: array} carved from one flat buffer that no live view uses (or a new one)."""
    sizes = [math.prod(shape) for _, shape in layout]
    free = None
    for flat in _POOL.setdefault(key, []):
        # the pool's list and getrefcount's argument: nothing else holds it or a view of it
        if sys.getrefcount(flat) == 3:
            free = flat
            break
    if free is None:
        free = np.empty(sum(sizes), dtype=dtype)
        if len(_POOL[key]) < _KEEP:
            _POOL[key].append(free)
    out, start = {}, 0
    for (name, shape), size in zip(layout, sizes):
        out[name] = free[start : start + size].reshape(shape)
        start += size
    return out


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


def _sigmoid(x, out):
    """Sigmoid exactly as ops.Sigmoid computes it: (1 + tanh(x/2)) / 2."""
    np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


class _Layer(Group):
    """What the three cells share: buffers, the h_{k-1} W_hh^T node, W_hh's gradient."""

    gates = 1
    n_states = 1

    def __init__(self, steps, batch, hidden, weight_hh, bias_hh, reverse, projected):
        super().__init__()
        # layer 0 projects the whole sequence (X W_ih^T, `project`) and its per-step slices
        # join the group; deeper layers project each step outside the group (`self.xw`)
        self.projection, self.reverse = None, reverse
        dtype = weight_hh.data.dtype
        width = self.gates * hidden
        self.steps, self.batch, self.hidden = steps, batch, hidden
        self.weight_hh, self.bias_hh, self.initial = weight_hh, bias_hh, ()
        layout = [("W", weight_hh.shape)] + self.layout(steps, batch, hidden, width)
        if projected:
            layout.append(("XW", (steps, batch, width)))
        key = (type(self).__name__, steps, batch, hidden, projected, dtype.str)
        self.buf = _take(key, layout, dtype)
        np.copyto(self.buf["W"], weight_hh.data)
        self.xw = []
        self.k = 0

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
            self.projection = _node(None, op, out, inputs)
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
        op = Linear()
        op.x, op.weight = self._prev(), self.buf["W"]
        bias = self.bias_hh
        if bias is not None:
            hw_data += bias.data
            op.has_bias, inputs = True, (h_prev, self.weight_hh, bias)
            op.needs = (h_prev.requires_grad, True, bias.requires_grad)
        else:
            op.has_bias, inputs = False, (h_prev, self.weight_hh)
            op.needs = (h_prev.requires_grad, True)
        return _node(member, op, hw_data, inputs, f"{h_prev.label} W_hh^T")

    def projected(self, t):
        """`projection[t]` (a getitem node), built directly: step t's input x_t W_ih^T."""
        p = self.projection
        if not p.requires_grad:  # frozen weights and a constant input: a constant slice
            return Op.make_node(p.data[t], (), None, False)
        op = GetItem(t)
        op.shape, op.basic = p.data.shape, True
        return _node((self, self.k, -1), op, p.data[t], (p,))

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

    def send_recurrent(self, entered, dA):
        """(input, gradient) pairs for the parameters: one product over all steps."""
        T, B, H = self.steps, self.batch, self.hidden
        flat = dA.reshape(T * B, -1)
        out = [(self.weight_hh, flat.T @ self.buf["S"][:T].reshape(T * B, H))]
        if self.bias_hh is not None:
            out.append((self.bias_hh, dA.sum(axis=(0, 1))))
        return out

    def outside(self, entered, k, which):
        """The gradient that consumers outside the group sent to state `which` of step k."""
        node = self.states[k][which]()
        return entered.get(node)


def _node(member, op, data, inputs, label=None):
    """A member node, as `Op.apply` makes one (Tensor._make), with its label and group."""
    t = _new(Tensor)
    t.data, t._grad, t.requires_grad, t.inputs, t.op = data, None, True, inputs, op
    t.label, t.tags, t._hooks, t._edge_grads, t._group = label, state.tags, None, None, member
    return t


def _act(cls, out):
    """The op of an activation (Tanh, Sigmoid) whose backward reads its output."""
    op = cls.__new__(cls)
    op.out = out
    return op


def _slice(member, x, start, stop, label=None):
    """x[:, start:stop] as `chunk` takes it (the last piece open-ended: `start:`)."""
    if stop == x.data.shape[1]:
        stop = None
    index = (slice(None, None, None), slice(start, stop, None))
    op = GetItem(index)
    op.shape, op.basic = x.data.shape, True
    return _node(member, op, x.data[:, start:stop], (x,), label)


def _mul(member, a, b, out, label=None, b_data=None):
    """a * b; `b_data` is b's value in the group's own buffer (an initial state's copy)."""
    b_data = b.data if b_data is None else b_data
    np.multiply(a.data, b_data, out=out)
    op = Mul.__new__(Mul)
    op.a, op.b = a.data, b_data
    return _node(member, op, out, (a, b), label)


def _add(member, a, b, out, label=None):
    np.add(a.data, b.data, out=out)
    op = Add.__new__(Add)
    op.shapes = (a.data.shape, b.data.shape)
    return _node(member, op, out, (a, b), label)


class RNNLayer(_Layer):
    """h_k = act(xw_k + h_{k-1} W_hh^T + b_hh): nodes `h W_hh^T`, `a_t`, `h_t`."""

    def __init__(self, *args, nonlinearity="tanh"):
        self.nonlinearity = nonlinearity
        super().__init__(*args)

    @staticmethod
    def layout(T, B, H, W):
        shapes = {"S": (T + 1, B, H), "HW": (T, B, H), "A": (T, B, H), "dA": (T, B, H)}
        return list(shapes.items()) + [("dH", (T, B, H)), ("D", (T, B, H)), ("R", (B, H))]

    def step(self, xw, states, suffix):
        k, buf = self.k, self.buf
        member = (self, k, -1)
        self.take(xw, member)
        hw = self.linear_hh(member, states[0], buf["HW"][k])
        a = _add(member, xw, hw, buf["A"][k], f"a{suffix}")
        out = buf["S"][k + 1]
        act = self.nonlinearity
        if act == "tanh":
            h = _node(member, _act(Tanh, np.tanh(a.data, out=out)), out, (a,))
        elif act == "sigmoid":
            h = _node(member, _act(Sigmoid, _sigmoid(a.data, out)), out, (a,))
        elif act == "relu":
            np.maximum(a.data, 0, out=out)
            op = Relu.__new__(Relu)
            op.mask = a.data > 0
            h = _node(member, op, out, (a,))
        else:  # linear: `a * 1.0`, a node of its own so that h_t has a label
            one = Op.make_node(np.asarray(1.0, dtype=out.dtype), (), None, False)
            h = _mul(member, a, one, out)
        h.label = f"h{suffix}"
        return self.states_made(h)

    def run(self, entered):
        buf, W, T = self.buf, self.buf["W"], self.steps
        S, dA, dH, R, D = buf["S"], buf["dA"], buf["dH"], buf["R"], buf["D"]
        # the activation's local derivative for all steps at once, as its op's rule has it
        h, act = S[1:], self.nonlinearity
        if act == "tanh":
            np.multiply(h, h, out=D)
            np.subtract(1.0, D, out=D)
        elif act == "sigmoid":
            np.subtract(1.0, h, out=D)
            D *= h
        elif act == "relu":
            np.greater(buf["A"], 0, out=D, casting="unsafe")
        else:
            D[...] = 1.0
        for k in range(T - 1, -1, -1):
            ext = self.outside(entered, k, 0)
            dh = dH[k]
            if k == T - 1:
                dh[...] = ext if ext is not None else 0.0
            else:
                np.add(R, ext, out=dh) if ext is not None else np.copyto(dh, R)
            np.multiply(dh, D[k], out=dA[k])
            np.matmul(dA[k], W, out=R)
        sends = self.input_grads(dA)
        sends.append((self.initial[0], R))
        return sends + self.send_recurrent(entered, dA)

    def seeds(self, k):
        return (self.buf["dH"][k],)


class LSTMLayer(_Layer):
    """The LSTM step: `h W_hh^T`, `a_t`, four slices, `i f g o`, f*c, i*g, `c_t`, tanh, `h_t`."""

    gates = 4
    n_states = 2

    def __init__(self, *args, weight_hr=None):
        assert weight_hr is None, "a projected LSTM runs node by node"
        super().__init__(*args)

    @staticmethod
    def layout(T, B, H, W):
        wide = {n: (T, B, W) for n in ("HW", "A", "G", "dA", "K")}
        narrow = {n: (T, B, H) for n in ("FC", "IG", "TC", "dH", "dCout", "OT")}
        tmp = {"R": (B, H), "dc": (B, H), "carry": (B, H)}
        states = {"S": (T + 1, B, H), "C": (T + 1, B, H)}
        return list({**states, **wide, **narrow, **tmp}.items())

    def step(self, xw, states, suffix):
        k, buf, H = self.k, self.buf, self.hidden
        member = (self, k, -1)
        self.take(xw, member)
        h_prev, c_prev = states
        hw = self.linear_hh(member, h_prev, buf["HW"][k])
        a = _add(member, xw, hw, buf["A"][k], f"a{suffix}")
        G = buf["G"][k]
        _sigmoid(a.data, G)
        np.tanh(a.data[:, 2 * H : 3 * H], out=G[:, 2 * H : 3 * H])
        pieces = [_slice(member, a, j * H, (j + 1) * H) for j in range(4)]
        gates = []
        for j, (piece, name) in enumerate(zip(pieces, ("i", "f", "g", "og"))):
            cls = Tanh if j == 2 else Sigmoid
            out = G[:, j * H : (j + 1) * H]
            gates.append(_node(member, _act(cls, out), out, (piece,), f"{name}{suffix}"))
        i, f, g, o = gates
        fc = _mul(member, f, c_prev, buf["FC"][k], b_data=buf["C"][k])
        ig = _mul(member, i, g, buf["IG"][k])
        c = _add(member, fc, ig, buf["C"][k + 1], f"c{suffix}")
        tc_data = np.tanh(c.data, out=buf["TC"][k])
        tc = _node(member, _act(Tanh, tc_data), tc_data, (c,), f"tanh(c{suffix})")
        h = _mul(member, o, tc, buf["S"][k + 1], f"h{suffix}")
        return self.states_made(h, c)

    def run(self, entered):
        buf, W, H, T, B = self.buf, self.buf["W"], self.hidden, self.steps, self.batch
        G, dA, K, OT = buf["G"], buf["dA"], buf["K"], buf["OT"]
        dH, dCout, R, dc, carry = (buf[n] for n in ("dH", "dCout", "R", "dc", "carry"))
        i, f, g, o = (G[..., j * H : (j + 1) * H] for j in range(4))
        # what does not depend on the recurrence, for all steps at once: each gate's
        # pre-activation gradient is dc (dh for o) times K = local input x local derivative
        Ki, Kf, Kg, Ko = (K[..., j * H : (j + 1) * H] for j in range(4))
        np.subtract(1.0, i, out=Ki)
        Ki *= i
        Ki *= g  # dc * g * i (1 - i)
        np.subtract(1.0, f, out=Kf)
        Kf *= f
        Kf *= buf["C"][:T]  # dc * c_{k-1} * f (1 - f)
        np.multiply(g, g, out=Kg)
        np.subtract(1.0, Kg, out=Kg)
        Kg *= i  # dc * i * (1 - g^2)
        np.subtract(1.0, o, out=Ko)
        Ko *= o
        Ko *= buf["TC"]  # dh * tanh(c_k) * o (1 - o)
        np.multiply(buf["TC"], buf["TC"], out=OT)
        np.subtract(1.0, OT, out=OT)
        OT *= o  # dc = dh * o (1 - tanh^2 c_k) + (outside c_k)
        K4, dA4 = K.reshape(T, B, 4, H), dA.reshape(T, B, 4, H)
        for k in range(T - 1, -1, -1):
            ext_h, ext_c = self.outside(entered, k, 0), self.outside(entered, k, 1)
            dh, cout = dH[k], dCout[k]
            if k == T - 1:
                dh[...] = ext_h if ext_h is not None else 0.0
                cout[...] = ext_c if ext_c is not None else 0.0
            else:
                np.add(R, ext_h, out=dh) if ext_h is not None else np.copyto(dh, R)
                np.add(carry, ext_c, out=cout) if ext_c is not None else np.copyto(cout, carry)
            np.multiply(dh, OT[k], out=dc)
            dc += cout
            np.multiply(K4[k, :, :3], dc[:, None, :], out=dA4[k, :, :3])
            np.multiply(K4[k, :, 3], dh, out=dA4[k, :, 3])
            np.matmul(dA[k], W, out=R)
            np.multiply(dc, f[k], out=carry)
        sends = self.input_grads(dA)
        sends += [(self.initial[0], R), (self.initial[1], carry)]
        return sends + self.send_recurrent(entered, dA)

    def seeds(self, k):
        return (self.buf["dH"][k], self.buf["dCout"][k])


class GRULayer(_Layer):
    """The GRU step: `h W_hh^T`, r and z from slices, n with r * (h W_hn^T + b_hn), `h_t`."""

    gates = 3

    @staticmethod
    def layout(T, B, H, W):
        shapes = {"S": (T + 1, B, H), "HW": (T, B, W), "PRE": (T, B, 2 * H), "RZ": (T, B, 2 * H)}
        for name in ("RHN", "NPRE", "N", "OMZ", "M1", "M2", "dH"):
            shapes[name] = (T, B, H)
        shapes.update({"dXW": (T, B, W), "dHW": (T, B, W), "R": (B, H), "tmp": (B, H)})
        return list(shapes.items())

    def step(self, xw, states, suffix):
        k, buf, H = self.k, self.buf, self.hidden
        member = (self, k, -1)
        self.take(xw, member)
        (h_prev,) = states
        hw = self.linear_hh(member, h_prev, buf["HW"][k])
        pre, rz = buf["PRE"][k], buf["RZ"][k]
        x_r, x_z, x_n = (_slice(member, xw, j * H, (j + 1) * H) for j in range(3))
        h_r, h_z, h_n = (_slice(member, hw, j * H, (j + 1) * H) for j in range(3))
        gates = []
        for j, (name, x_part, h_part) in enumerate(zip("rz", (x_r, x_z), (h_r, h_z))):
            s = _add(member, x_part, h_part, pre[:, j * H : (j + 1) * H])
            out = _sigmoid(s.data, rz[:, j * H : (j + 1) * H])
            gates.append(_node(member, _act(Sigmoid, out), out, (s,), f"{name}{suffix}"))
        r, z = gates
        rh = _mul(member, r, h_n, buf["RHN"][k])
        n_pre = _add(member, x_n, rh, buf["NPRE"][k])
        n_out = np.tanh(n_pre.data, out=buf["N"][k])
        n = _node(member, _act(Tanh, n_out), n_out, (n_pre,), f"n{suffix}")
        one = Op.make_node(np.asarray(1.0, dtype=n_out.dtype), (), None, False)
        omz_out = np.subtract(1.0, z.data, out=buf["OMZ"][k])
        op = Sub.__new__(Sub)
        op.shapes = ((), z.data.shape)
        omz = _node(member, op, omz_out, (one, z))
        m1 = _mul(member, omz, n, buf["M1"][k])
        m2 = _mul(member, z, h_prev, buf["M2"][k], b_data=buf["S"][k])
        h = _add(member, m1, m2, buf["S"][k + 1], f"h{suffix}")
        return self.states_made(h)

    def run(self, entered):
        buf, W, H, T = self.buf, self.buf["W"], self.hidden, self.steps
        S, RZ, N, OMZ, HW = buf["S"], buf["RZ"], buf["N"], buf["OMZ"], buf["HW"]
        dH, dXW, dHW, R, tmp = buf["dH"], buf["dXW"], buf["dHW"], buf["R"], buf["tmp"]
        for k in range(T - 1, -1, -1):
            ext = self.outside(entered, k, 0)
            dh = dH[k]
            if k == T - 1:
                dh[...] = ext if ext is not None else 0.0
            else:
                np.add(R, ext, out=dh) if ext is not None else np.copyto(dh, R)
            r, z = RZ[k][:, :H], RZ[k][:, H:]
            dx, dw = dXW[k], dHW[k]
            # n: dn = dh (1 - z), through tanh; r and W_hn's part through r * (h W_hn^T + b_hn)
            np.multiply(dh, OMZ[k], out=tmp)
            np.multiply(tmp, 1.0 - N[k] * N[k], out=dx[:, 2 * H :])
            np.multiply(dx[:, 2 * H :], r, out=dw[:, 2 * H :])
            np.multiply(dx[:, 2 * H :], HW[k][:, 2 * H :], out=tmp)
            np.multiply(tmp, r * (1.0 - r), out=dx[:, :H])
            # z: from z * h_{k-1} and from (1 - z) * n
            np.multiply(dh, S[k], out=tmp)
            tmp -= dh * N[k]
            np.multiply(tmp, z * (1.0 - z), out=dx[:, H : 2 * H])
            dw[:, : 2 * H] = dx[:, : 2 * H]
            np.matmul(dw, W, out=R)
            R += dh * z
        sends = self.input_grads(dXW)
        sends.append((self.initial[0], R))
        return sends + self.send_recurrent(entered, dHW)

    def seeds(self, k):
        return (self.buf["dH"][k],)
