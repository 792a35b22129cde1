"""The fused LSTM's block machinery: a step written on (features, batch) blocks, columns or
rows, whose display-only values are lazy.

`BlockLayer` is the base of `fused_layers.LSTMLayer`; `Lazy` is a node whose value its layer
computes on first read (see docs/architecture.md, "The fused recurrent layer"). The buffer
pool, the base layer and the node builders are in fused.py.
"""

import numpy as np

from ..ops import Add, GetItem, Linear
from ..tensor import Tensor
from .fused import Layer, chunk_op, member_node


class BlockLayer(Layer):
    """A layer whose step is written on (features, batch) blocks: a gate is a row range.

    Gate j of step k is rows jH..(j+1)H of G[k]. Narrow layers keep these blocks as they
    are ("columns"): a gate's values are one contiguous block, so every per-gate numpy call
    runs over contiguous memory, several times faster than over the strided columns of a
    (batch, 4H) array. Wide layers (`rows`) store each step's transpose, (batch, features),
    and the code sees `.T` views of it: the same arithmetic, with BLAS running row-major
    products, about 13% faster there. The nodes' data are the (batch, features) views.

    The forward pass computes only what the recurrence needs. Each step's pre-activations
    come from one product, [W_hh | b_hh + b_ih | W_ih] [h_{k-1}; 1; x_k^T], its rows
    scaled by the activation's inner factor (1/2 for the sigmoid gates, as ops.Sigmoid
    computes sigmoid(x) = (1 + tanh(x/2)) / 2), so one tanh over the block follows. The
    members that only show these values (`X W_ih^T`, `h_{k-1} W_hh^T`, `a_t` and its
    slices) are `Lazy`: `fill` computes them, with the ops' own formulas, on first read.

    "S" holds block k = [h_{k-1}; 1; x_k^T] (processing order) for every step.
    `self.v[name]` is each per-step buffer seen as blocks, (steps, features, batch).
    """

    inner = ()  # per gate: the activation's factor on its input (sigmoid 1/2, tanh 1)

    def __init__(self, steps, batch, hidden, weight_hh, bias_hh, reverse, projected):
        self.s_rows = hidden + 1 + (projected or 0)  # the rows of "S": [h_{k-1}; 1; x_k^T]
        super().__init__(steps, batch, hidden, weight_hh, bias_hh, reverse, projected)
        names = [name for name, _ in self.blocks(1, 1, 1, 1, 1)]
        self.v = {n: self.buf[n].swapaxes(-1, -2) if self.rows else self.buf[n] for n in names}

    def layout(self, T, B, H, W):
        """The per-step buffers (`blocks`) as stored: transposed in the rows layout."""
        blocks = self.blocks(T, B, H, W, self.s_rows)
        if self.rows:
            return [(name, (*shape[:-2], shape[-1], shape[-2])) for name, shape in blocks]
        return blocks

    def weights_layout(self, T, B, H, W, projected):
        """W_hh's copy, the scaled product's weights, the lazy values (the nodes' (T, B, 4H)
        rows), x's projection weights and, for columns, the weights' gradient layout."""
        layout = [("W", (W, H + 1)), ("Ws", (W, self.s_rows)), ("OUT", (T, B, H))]
        layout += [("HW", (T, B, W)), ("A", (T, B, W)), ("XW", (T, B, W))]
        if projected is not None:
            layout += [("WIH", (W, projected)), ("BIH", (W,))]
        if not self.rows:
            layout += [("St", (H + 1, T, B)), ("dAt", (W, T, B))]
        return layout

    def copy_weights(self):
        W, Ws, H = self.buf["W"], self.buf["Ws"], self.hidden
        self.scale = np.repeat(np.array(self.inner, dtype=W.dtype), H)[:, None]
        np.copyto(W[:, :H], self.weight_hh.data)
        W[:, H] = 0.0 if self.bias_hh is None else self.bias_hh.data
        np.multiply(W, self.scale, out=Ws[:, : H + 1])
        self.filled = False

    def project(self, x, weight_ih, bias_ih):
        """The node `X W_ih^T` (+ b_ih), as `linear` builds it, its value lazy; the step's
        product gets W_ih's columns and x's rows instead (see the class)."""
        buf, H, S = self.buf, self.hidden, self.v["S"]
        np.copyto(buf["WIH"], weight_ih.data)
        buf["BIH"][...] = 0.0 if bias_ih is None else bias_ih.data
        np.multiply(buf["WIH"], self.scale, out=buf["Ws"][:, H + 1 :])
        buf["Ws"][:, H] += buf["BIH"] * self.scale[:, 0]
        x_blocks = x.data.transpose(0, 2, 1)  # (T, inputs, B): x_k^T under h_{k-1}
        np.copyto(S[: self.steps, H + 1 :], x_blocks[::-1] if self.reverse else x_blocks)
        op = Linear()
        op.x, op.weight, op.has_bias = x.data, weight_ih.data, bias_ih is not None
        inputs = (x, weight_ih) if bias_ih is None else (x, weight_ih, bias_ih)
        op.needs = tuple(t.requires_grad for t in inputs)
        values = ProjectionValues(buf, S, self.hidden, self.reverse, bias_ih is not None)
        self.projection_values = values
        if any(op.needs):
            self.projection = lazy_node(values, None, op, buf["XW"], inputs)
        else:
            self.projection = lazy_node(values, None, None, buf["XW"], (), requires_grad=False)
        return self.projection

    def projected(self, t):
        """`projection[t]` (a getitem node), built directly: step t's input x_t W_ih^T."""
        p = self.projection
        view = self.buf["XW"][t]
        if not p.requires_grad:  # frozen weights and a constant input: a constant slice
            return lazy_node(p._layer, None, None, view, (), requires_grad=False)
        op = GetItem.__new__(GetItem)
        op.index, op.shape, op.basic = t, self.buf["XW"].shape, True
        return lazy_node(self, (self, self.k, -1), op, view, (p,))

    def start(self, initial):
        self.initial = initial
        S, H = self.v["S"], self.hidden
        S[:, H] = 1.0
        np.copyto(S[0, :H], initial[0].data.T)
        if self.n_states == 2:
            np.copyto(self.v["C"][0], initial[1].data.T)

    def pre_activations(self, xw, out):
        """The step's scaled pre-activations (gates * H, B) into `out`: one product, plus
        the outside input's columns when the layer does not project its own input."""
        k, buf = self.k, self.buf
        np.matmul(buf["Ws"], self.v["S"][k], out=out)
        if self.projection is None:  # a deeper layer: x_k W_ih^T is an outside node
            self.xw.append(xw)
            XWk = buf["XW"][k]
            np.copyto(XWk, xw._data)
            tmp = self.v["tmpW"]
            np.multiply(XWk.T, self.scale, out=tmp)
            out += tmp
        elif xw.requires_grad:
            xw._group = (self, k, -1)

    def lazy_step(self, member, xw, h_prev, suffix):
        """The members `h_{k-1} W_hh^T`, `a_t` and a_t's slices, their values lazy."""
        k, buf, H = self.k, self.buf, self.hidden
        W, x = buf["W"], self.v["S"][k, :H].T
        hw = self.hh_node(member, h_prev, x, W[:, :H], buf["HW"][k], Lazy)
        hw._layer = self
        A = buf["A"][k]
        op = Add.__new__(Add)
        op.shapes = (A.shape, A.shape)  # x_k W_ih^T and h_{k-1} W_hh^T: (B, gates * H) each
        a = lazy_node(self, member, op, A, (xw, hw), f"a{suffix}")
        ops = self.chunk_ops
        if ops is None:
            self.chunk_ops = ops = [chunk_op(A.shape, j * H, (j + 1) * H) for j in range(4)]
        return [lazy_node(self, member, op, A[op.index], (a,)) for op in ops]

    def fill(self):
        """The lazy members' values, by their ops' formulas: for every step
        h_{k-1} W_hh^T + b_hh and a_k = x_k W_ih^T + h_{k-1} W_hh^T + b_hh."""
        self.filled = True
        buf, H, T, B = self.buf, self.hidden, self.steps, self.batch
        W, XW, HW = buf["W"], buf["XW"], buf["HW"]
        h = np.ascontiguousarray(self.v["S"][:T, :H].transpose(0, 2, 1)).reshape(T * B, H)
        np.matmul(h, W[:, :H].T, out=HW.reshape(T * B, -1))
        if self.bias_hh is not None:
            HW += W[:, H]
        if self.projection is not None:
            values = self.projection_values
            if not values.filled:
                values.fill()
            XW = XW[::-1] if self.reverse else XW
        np.add(XW, HW, out=buf["A"])

    def before_change(self):
        if not self.filled:
            self.fill()

    def _prev(self):
        return self.v["S"][self.k, : self.hidden].T

    def state_rows(self):
        return self.v["S"][1:, : self.hidden].transpose(0, 2, 1)

    def dA_blocks(self):
        """Where the BPTT pass writes dA_k, as blocks (T, gates * H, B): for columns, block
        k of "dAt" (gates * H, T, B), so that all steps form one matrix for the weights."""
        return self.v["dA"] if self.rows else self.buf["dAt"].transpose(1, 0, 2)

    def send_recurrent(self, entered, dA):
        """W_hh's and b_hh's gradients, sum_k dA_k [h_{k-1}; 1]^T, as one product.

        Every step's dA_k side by side is one (4H, T*B) matrix: in columns "dAt" is laid
        out so; in rows the (T*B, 4H) rows are its transpose. The states [h_{k-1}; 1] are
        one (H + 1, T*B) matrix beside it: in rows a view of "S", in columns a copy into
        "St". Both stay in processing order: the sum does not care.
        """
        T, B, H, W = self.steps, self.batch, self.hidden, self.gates * self.hidden
        if self.rows:
            flat = self.buf["dA"].reshape(T * B, W).T
            states = self.buf["S"][:T, :, : H + 1].reshape(T * B, H + 1)
        else:
            flat = self.buf["dAt"].reshape(W, T * B)
            St = self.buf["St"]
            np.copyto(St, self.v["S"][:T, : H + 1].transpose(1, 0, 2))
            states = St.reshape(H + 1, T * B).T
        both = flat @ states
        out = [(self.weight_hh, both[:, :H])]
        if self.bias_hh is not None:
            out.append((self.bias_hh, both[:, H]))
        return out

    def input_grads(self, dA):
        """The inputs' gradients in rows, (T, B, 4H) in time order: views of the blocks dA,
        whose (T*B, 4H) rows the projection's `linear` multiplies as one matrix, no copy
        (the reverse direction's time order is a reversed view, which `linear` copies)."""
        rows = dA.transpose(0, 2, 1)
        if self.projection is None:
            return super().input_grads(rows)
        if not self.projection.requires_grad:
            return []
        return [(self.projection, rows[::-1] if self.reverse else rows)]


class ProjectionValues:
    """The projection node's lazy value, X W_ih^T + b_ih, from the layer's copies of x
    (the rows under the states in "S"), W_ih and b_ih.

    Apart from the layer because the layer holds the projection node among its inputs:
    the node refers to this, not to the layer, so that no reference cycle forms.
    """

    def __init__(self, buf, S, hidden, reverse, has_bias):
        self.buf, self.S, self.hidden, self.reverse = buf, S, hidden, reverse
        self.has_bias, self.filled = has_bias, False

    def fill(self):
        self.filled = True
        buf, H = self.buf, self.hidden
        XW = buf["XW"]
        T, B = XW.shape[:2]
        x = self.S[:T, H + 1 :].transpose(0, 2, 1)  # (T, B, inputs), processing order
        rows = np.ascontiguousarray(x[::-1] if self.reverse else x).reshape(T * B, -1)
        np.matmul(rows, buf["WIH"].T, out=XW.reshape(T * B, -1))
        if self.has_bias:
            XW += buf["BIH"]


class Lazy(Tensor):
    """A node whose value its layer computes on first read (`BlockLayer.fill`,
    `ProjectionValues.fill`: `_layer`).

    Every read of `.data` (or `_data`) goes through `_read`; writing a value (`t.data = v`)
    makes it an ordinary value. Only these nodes pay for the check: a plain Tensor's data
    is a slot.
    """

    __slots__ = ("_value", "_layer")

    def _read(self):
        layer = self._layer
        if layer is not None and not layer.filled:
            layer.fill()
        return self._value

    def _write(self, value):
        self._value, self._layer = value, None

    _data = property(_read, _write)
    # what a value looks like is known before it is computed
    shape = property(lambda self: self._value.shape)
    dtype = property(lambda self: self._value.dtype)
    ndim = property(lambda self: self._value.ndim)


def lazy_node(layer, member, op, view, inputs, label=None, requires_grad=True):
    """A `Lazy` node holding `view`, a piece of a buffer that `layer.fill()` writes."""
    t = member_node(member, op, view, inputs, label, Lazy)
    t._layer, t._requires_grad = layer, requires_grad
    return t
