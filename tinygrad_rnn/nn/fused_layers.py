"""The three fused layers: the numpy of one step of each cell, and its BPTT pass.

Each `step` computes the step into the layer's buffers and builds the nodes the cell's own
`step` (nn/cells.py) builds, in the same order; each `bptt_pass` is the backward through
time of all steps at once. The machinery they share (buffers, the walk's contract, the
node builders) is in fused.py.
"""

import numpy as np

from ..ops import Add, Op, Relu, Sigmoid, Sub, Tanh
from .fused import (
    Layer,
    activation_op,
    add_node,
    member_node,
    mul_node,
    sigmoid_into,
)
from .fused_blocks import BlockLayer


class RNNLayer(Layer):
    """h_k = act(xw_k + h_{k-1} W_hh^T + b_hh): nodes `h W_hh^T`, `a_t`, `h_t`.

    `h_{k-1} W_hh^T + b_hh` is one product, [h_{k-1}, 1] [W_hh^T; b_hh], with a one kept
    after each state in "S" (column H) and a contiguous copy of [W_hh^T; b_hh] in "WT"; the
    members' `linear` ops read W_hh from that copy. The backward pass reads W_hh itself:
    `check_versions` has just made sure it is what the forward pass used.
    """

    def __init__(self, *args, nonlinearity="tanh"):
        self.nonlinearity = nonlinearity
        super().__init__(*args)

    @staticmethod
    def layout(T, B, H, W):
        shapes = {"S": (T + 1, B, H + 1), "HW": (T, B, H), "A": (T, B, H), "dA": (T, B, H)}
        return list(shapes.items()) + [("dH", (T, B, H)), ("D", (T, B, H)), ("R", (B, H))]

    def weights_layout(self, T, B, H, W, projected):
        """[W_hh^T; b_hh] (H + 1, H), the stacked output and the projection."""
        layout = [("WT", (H + 1, H)), ("OUT", (T, B, H))]
        return layout + ([("XW", (T, B, W))] if projected is not None else [])

    def copy_weights(self):
        WT, H = self.buf["WT"], self.hidden
        np.copyto(WT[:H], self.weight_hh.data.T)
        WT[H] = 0.0 if self.bias_hh is None else self.bias_hh.data
        self.w_copy = WT[:H].T  # W_hh as the forward pass used it

    def start(self, initial):
        self.initial = initial
        S, H = self.buf["S"], self.hidden
        S[:, :, H] = 1.0
        np.copyto(S[0, :, :H], initial[0].data)

    def _prev(self):
        return self.buf["S"][self.k, :, : self.hidden]

    def state_rows(self):
        return self.buf["S"][1:, :, : self.hidden]

    def step(self, xw, states, suffix):
        k, buf, H = self.k, self.buf, self.hidden
        member = (self, k, -1)
        if self.projection is None:
            self.xw.append(xw)
        # the node `h_{k-1} W_hh^T + b_hh`, as `linear` builds it, in one product
        (h_prev,) = states
        S, hw_data = buf["S"], buf["HW"][k]
        np.dot(S[k], buf["WT"], out=hw_data)
        hw = self.hh_node(member, h_prev, S[k, :, :H], self.w_copy, hw_data)
        a_data = np.add(xw._data, hw_data, out=buf["A"][k])
        op = Add.__new__(Add)
        op.shapes = (xw._data.shape, hw_data.shape)
        a = member_node(member, op, a_data, (xw, hw), f"a{suffix}")
        out = S[k + 1, :, :H]
        act = self.nonlinearity
        if act == "tanh":
            op = Tanh.__new__(Tanh)
            op.out = np.tanh(a_data, out=out)
        elif act == "sigmoid":
            op = Sigmoid.__new__(Sigmoid)
            op.out = sigmoid_into(a_data, out)
        elif act == "relu":
            op = Relu.__new__(Relu)
            op.mask = ~(a_data <= 0)  # as Relu.forward: nan counts as positive
            np.maximum(a_data, 0, out=out)
        else:  # linear: `a * 1.0`, a node of its own so that h_t has a label
            one = Op.make_node(np.asarray(1.0, dtype=out.dtype), (), None, False)
            h = mul_node(member, a, one, out, f"h{suffix}")
            h._group, self.k = (self, k, 0), k + 1
            return (h,)
        h = member_node(member, op, out, (a,), f"h{suffix}")
        h._group, self.k = (self, k, 0), k + 1  # the state: the group's way in (states_made)
        return (h,)

    def bptt_pass(self, entered):
        buf, W, T, H = self.buf, self.weight_hh.data, self.steps, self.hidden
        S, dA, dH, R, D = buf["S"], buf["dA"], buf["dH"], buf["R"], buf["D"]
        # the activation's local derivative for all steps at once, as its op's rule has it
        h, act = S[1:, :, :H], self.nonlinearity
        if act == "tanh":
            np.multiply(h, h, out=D)
            np.subtract(1.0, D, out=D)
        elif act == "sigmoid":
            np.subtract(1.0, h, out=D)
            D *= h
        elif act == "relu":  # Relu's mask ~(a <= 0): a nan pre-activation passes gradient
            np.less_equal(buf["A"], 0, out=D, casting="unsafe")
            np.subtract(1.0, D, out=D)
        else:
            D[...] = 1.0
        # dh_k = (outside h_k) + da_{k+1} W_hh;  da_k = dh_k * act'(a_k)
        outside = self.outside_all(entered, 0)
        R[...] = 0.0
        for k in range(T - 1, -1, -1):
            ext, dh = outside[k], dH[k]
            np.add(R, ext, out=dh) if ext is not None else np.copyto(dh, R)
            np.multiply(dh, D[k], out=dA[k])
            np.dot(dA[k], W, out=R)
        sends = self.input_grads(dA)
        sends.append((self.initial[0], R))
        # dW_hh and db_hh in one product: sum_k da_k^T [h_{k-1}, 1]
        B = self.batch
        both = dA.reshape(T * B, H).T @ S[:T].reshape(T * B, H + 1)
        sends.append((self.weight_hh, both[:, :H]))
        if self.bias_hh is not None:
            sends.append((self.bias_hh, both[:, H]))
        return sends

    def seeds(self, k):
        return (self.buf["dH"][k],)


ROWS_FROM = 256  # hidden size from which the fused LSTM keeps rows (BlockLayer)


class LSTMLayer(BlockLayer):
    """The LSTM step: `h W_hh^T`, `a_t`, four slices, `i f g o`, f*c, i*g, `c_t`, tanh, `h_t`.

    Written on (features, batch) blocks (BlockLayer): gate j of step k is rows jH..(j+1)H
    of G[k]. The buffers hold rows once a gate's row has at least `ROWS_FROM` numbers,
    where the strided quarters cost little and BLAS runs the (batch, H) x (H, 4H) products
    faster than their transposes. The step computes the gates from one product and one
    tanh; `h W_hh^T`, `a_t` and its slices are lazy.
    """

    gates = 4
    n_states = 2
    inner = (0.5, 0.5, 1.0, 0.5)  # i f o: sigmoid(x) = (1 + tanh(x/2)) / 2;  g: tanh(x)

    def __init__(self, steps, batch, hidden, *args, weight_hr=None):
        assert weight_hr is None, "a projected LSTM runs node by node"
        self.rows = hidden >= ROWS_FROM
        super().__init__(steps, batch, hidden, *args)

    def blocks(self, T, B, H, W, R):
        """Per-step buffers as (steps, features, B) blocks (`BlockLayer.layout` stores them)."""
        narrow = {n: (T, H, B) for n in ("FC", "IG", "TC", "dH", "dCout")}
        tmp = {n: (H, B) for n in ("R", "dc", "carry", "ot")}
        tmp.update({n: (W, B) for n in ("D", "M", "tmpW")})
        blocks = {"S": (T + 1, R, B), "C": (T + 1, H, B), "G": (T, W, B), **narrow, **tmp}
        if self.rows:
            blocks["dA"] = (T, W, B)
        return list(blocks.items())

    def step(self, xw, states, suffix):
        k, v, H = self.k, self.v, self.hidden
        member = (self, k, -1)
        h_prev, c_prev = states
        # i f o = (1 + tanh(a/2)) / 2 as ops.Sigmoid computes it, g = tanh(a): the product
        # gives a/2 for i f o (their rows halved), so one tanh serves all four gates
        G = v["G"][k]
        self.pre_activations(xw, G)
        np.tanh(G, out=G)
        for sig in (G[: 2 * H], G[3 * H :]):
            sig += 1.0
            sig *= 0.5
        pieces = self.lazy_step(member, xw, h_prev, suffix)
        gates = []
        for j, (piece, name) in enumerate(zip(pieces, ("i", "f", "g", "og"))):
            cls = Tanh if j == 2 else Sigmoid
            out = G[j * H : (j + 1) * H].T
            gates.append(
                member_node(member, activation_op(cls, out), out, (piece,), f"{name}{suffix}")
            )
        i, f, g, o = gates
        fc = mul_node(member, f, c_prev, v["FC"][k].T, b_data=v["C"][k].T)
        ig = mul_node(member, i, g, v["IG"][k].T)
        c = add_node(member, fc, ig, v["C"][k + 1].T, f"c{suffix}")
        tc_data = np.tanh(c.data, out=v["TC"][k].T)
        tc = member_node(member, activation_op(Tanh, tc_data), tc_data, (c,), f"tanh(c{suffix})")
        h = mul_node(member, o, tc, v["S"][k + 1, :H].T, f"h{suffix}")
        return self.states_made(h, c)

    def bptt_pass(self, entered):
        """Step by step from the last: dh, dc, then dA_k (4H, B) (`dA_blocks`).

        dc = dh o (1 - tanh^2 c_k) + (what reached c_k);  dA_k = D_k * M_k with D_k the
        gates' local derivatives [i(1-i), f(1-f), 1-g^2, o(1-o)] and M_k the rest of each
        chain, [dc g, dc c_{k-1}, dc i, dh tanh(c_k)];  dh_{k-1} = W_hh^T dA_k, dc_{k-1} = dc f.
        """
        v, H, T = self.v, self.hidden, self.steps
        WT = self.buf["W"][:, :H].T
        G, C, TC, dA_all = v["G"], v["C"], v["TC"], self.dA_blocks()
        dH, dCout, R, carry = v["dH"], v["dCout"], v["R"], v["carry"]
        dc, ot, D, M = v["dc"], v["ot"], v["D"], v["M"]
        Dg, Mi, Mf, Mg, Mo = D[2 * H : 3 * H], M[:H], M[H : 2 * H], M[2 * H : 3 * H], M[3 * H :]
        ext_h, ext_c = self.outside_all(entered, 0), self.outside_all(entered, 1)
        dH[T - 1] = 0.0
        dCout[T - 1] = 0.0
        for k in range(T - 1, -1, -1):
            dh, cout, Gk, tc = dH[k], dCout[k], G[k], TC[k]
            if ext_h[k] is not None:
                dh += ext_h[k].T
            if ext_c[k] is not None:
                cout += ext_c[k].T
            i, f, g, o = Gk[:H], Gk[H : 2 * H], Gk[2 * H : 3 * H], Gk[3 * H :]
            np.multiply(tc, tc, out=ot)
            np.subtract(1.0, ot, out=ot)
            ot *= o
            np.multiply(dh, ot, out=dc)
            dc += cout
            np.subtract(1.0, Gk, out=D)
            D *= Gk  # x (1 - x): the sigmoid's derivative by its output
            np.multiply(g, g, out=Dg)
            np.subtract(1.0, Dg, out=Dg)  # the tanh's: 1 - g^2
            np.multiply(dc, g, out=Mi)
            np.multiply(dc, C[k], out=Mf)
            np.multiply(dc, i, out=Mg)
            np.multiply(dh, tc, out=Mo)
            dA = dA_all[k]
            np.multiply(D, M, out=dA)
            np.matmul(WT, dA, out=dH[k - 1] if k else R)
            np.multiply(dc, f, out=dCout[k - 1] if k else carry)
        sends = self.input_grads(dA_all) + self.send_recurrent(entered, dA_all)
        return sends + [(self.initial[0], R.T), (self.initial[1], carry.T)]

    def seeds(self, k):
        return (self.v["dH"][k].T, self.v["dCout"][k].T)


class GRULayer(Layer):
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
        x_r, x_z, x_n = self.chunks(member, xw)
        h_r, h_z, h_n = self.chunks(member, hw)
        gates = []
        for j, (name, x_part, h_part) in enumerate(zip("rz", (x_r, x_z), (h_r, h_z))):
            s = add_node(member, x_part, h_part, pre[:, j * H : (j + 1) * H])
            out = sigmoid_into(s.data, rz[:, j * H : (j + 1) * H])
            gates.append(
                member_node(member, activation_op(Sigmoid, out), out, (s,), f"{name}{suffix}")
            )
        r, z = gates
        rh = mul_node(member, r, h_n, buf["RHN"][k])
        n_pre = add_node(member, x_n, rh, buf["NPRE"][k])
        n_out = np.tanh(n_pre.data, out=buf["N"][k])
        n = member_node(member, activation_op(Tanh, n_out), n_out, (n_pre,), f"n{suffix}")
        one = Op.make_node(np.asarray(1.0, dtype=n_out.dtype), (), None, False)
        omz_out = np.subtract(1.0, z.data, out=buf["OMZ"][k])
        op = Sub.__new__(Sub)
        op.shapes = ((), z.data.shape)
        omz = member_node(member, op, omz_out, (one, z))
        m1 = mul_node(member, omz, n, buf["M1"][k])
        m2 = mul_node(member, z, h_prev, buf["M2"][k], b_data=buf["S"][k])
        h = add_node(member, m1, m2, buf["S"][k + 1], f"h{suffix}")
        return self.states_made(h)

    def bptt_pass(self, entered):
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
