"""State Jacobians of an unrolled recurrence: how h_T (and c_T) respond to the state at step k.

For h_t = f(a_t), a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh, each step's Jacobian is
dh_t/dh_{t-1} = diag(f'(a_t)) W_hh, and

    dh_T/dh_k = prod_{j=k+1..T} diag(f'(a_j)) W_hh,  |dh_T/dh_k|_2 <= (gamma sigma_max(W_hh))^(T-k)

with gamma >= |f'| (Pascanu, Mikolov, Bengio 2013). Here the products are measured on the
graph by vector-Jacobian products, never formed from the formula, for any cell. The state s_k
is h_k, or (h_k, c_k) for the LSTM, taken as the next step reads it.
"""

import numpy as np

from ..autograd import grad, topo_order
from ..ops import dense_grad as dense  # an op's gradient as a plain array

# |f'| <= gamma for the simple RNN's activation (identity: f' = 1)
GAMMA = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25, "linear": 1.0}
# a fitted rate inside [1/STABLE_BAND, STABLE_BAND] per step is "stable"
STABLE_BAND = 1.1
# the verdict when the chain is exactly zero (dead ReLUs, saturated units): no rate to fit
DEAD = "vanishing (exactly zero: dead units)"
VERDICTS = ("vanishing", "exploding", "stable", DEAD)


def consumer_map(order):
    """{node: [(consumer, input index), ...]} over a topological order."""
    consumers = {}
    for node in order:
        for i, inp in enumerate(node.inputs):
            if inp.requires_grad:
                consumers.setdefault(inp, []).append((node, i))
    return consumers


def path_steps(T, steps, reverse=False):
    """The steps k whose state h_T depends on: k <= T forward, k >= T in the reverse direction."""
    return list(range(T, steps)) if reverse else list(range(T + 1))


def _seeds(i, outputs, n):
    """The unit vector e_i over the concatenated outputs, one array per output."""
    seeds = [np.zeros(out.shape) for out in outputs]
    seeds[i // n].reshape(-1)[i % n] = 1.0
    return seeds


def state_jacobians(seq, T, path):
    """{k: d s_T / d s_k} for k on the path (rows index s_T), by vector-Jacobian products.

    One engine walk from the seed e_i on s_T gives row i of every J_k. The part of s_k that
    matters is what the *next* step reads: the gradient at s_k's consumers in other steps,
    pushed through their op's backward. (The engine's gradient at the node c_k would also hold
    the path c_k -> h_k inside step k; reading the edges leaves it out.) For the LSTM, J_k is
    (2H x 2H): dh_T/dh_k is its top-left block.
    """
    outputs = list(seq[T])
    n = outputs[0].data.size
    m = n * len(outputs)
    consumers = consumer_map(topo_order(outputs))
    reads = []  # (k, part, consumer, input index) for each edge the next step reads
    for k in path:
        for part, node in enumerate(seq[k]):
            for consumer, i in consumers.get(node, ()):
                if k != T and consumer.tags.get("t") != k:
                    reads.append((k, part, consumer, i))
    targets = list(dict.fromkeys(r[2] for r in reads))
    result = {k: np.zeros((m, m)) for k in path}
    result[T] = np.eye(m)
    for row in range(m):
        found = dict(zip(targets, grad(outputs, targets, grad_outputs=_seeds(row, outputs, n))))
        for k, part, consumer, i in reads:
            edge = dense(consumer.op.backward(found[consumer])[i], seq[k][part])
            result[k][row, part * n : (part + 1) * n] += edge.reshape(-1)
    return result


def _local_vjp(nodes, outputs, seeds, inputs):
    """v^T d(outputs)/d(inputs) through `nodes` only (one step's nodes, topological order)."""
    grads = dict(zip(outputs, seeds))
    for node in reversed(nodes):
        g = grads.get(node)
        if g is None or node.op is None:
            continue
        for inp, edge in zip(node.inputs, node.op.backward(g)):
            if edge is not None and inp.requires_grad:
                edge = dense(edge, inp)
                grads[inp] = grads[inp] + edge if inp in grads else edge
    return [grads.get(x, np.zeros(x.shape)) for x in inputs]


def step_jacobians(seq, path, reverse=False):
    """{j: d s_j / d s_{j-1}}: each step's own Jacobian, the factors of the product (the
    previous state is s_{j+1} in the reverse direction), for each step of the path whose
    previous state is on it. Each row is a VJP through that step's nodes alone."""
    far = max(path) if not reverse else min(path)
    where = seq[path[0]][0].tags
    by_step = {}
    for node in topo_order(list(seq[far])):
        tags = node.tags
        if "t" in tags and all(tags.get(key) == where.get(key) for key in ("layer", "direction")):
            by_step.setdefault(tags["t"], []).append(node)
    result = {}
    for j in path:
        previous = j + 1 if reverse else j - 1
        if previous not in path:
            continue
        outputs, inputs = list(seq[j]), list(seq[previous])
        n = outputs[0].data.size
        m = n * len(outputs)
        rows = []
        for row in range(m):
            found = _local_vjp(by_step[j], outputs, _seeds(row, outputs, n), inputs)
            rows.append(np.concatenate([g.reshape(-1) for g in found]))
        result[j] = np.array(rows)
    return result


def cell_path_norms(step_jac, T, n, reverse=False):
    """{k: |dc_T/dc_k|_2 along the cell state}: the product of each step's c -> c block, which
    for the LSTM is diag(f_j), the edge c_{j-1} -> f_j * c_{j-1} -> c_j that never passes
    through h. The full (h, c) Jacobian adds the paths through h_j and the gates."""
    product = np.eye(n)
    norms = {T: 1.0}
    for j in sorted(step_jac, key=lambda j: abs(T - j)):
        product = product @ step_jac[j][n:, n:]
        norms[j + 1 if reverse else j - 1] = float(np.linalg.norm(product, 2))
    return norms


def recurrent_spectrum(w_hh, hidden):
    """(sigma_max, spectral radius) of W_hh; for LSTM and GRU the largest over the gates'
    H x H blocks (each block is what `radius` sets)."""
    sigma, rho = 0.0, 0.0
    for g in range(w_hh.shape[0] // hidden):
        block = w_hh[g * hidden : (g + 1) * hidden]
        sigma = max(sigma, float(np.linalg.norm(block, 2)))
        rho = max(rho, float(np.max(np.abs(np.linalg.eigvals(block)))))
    return sigma, rho


def fit_rate(distances, norms):
    """Per-step factor r of |dh_T/dh_k| ~ C r^(T-k): exp of the least-squares slope of
    log|dh_T/dh_k|_2 against T-k, over T-k >= 1 (the identity at T-k = 0 says nothing about
    the chain) unless that leaves fewer than two points. None with fewer than two points."""
    points = [(d, v) for d, v in zip(distances, norms) if d >= 1]
    if len(points) < 2:
        points = list(zip(distances, norms))
    if len(points) < 2:
        return None
    d = np.array([p[0] for p in points], dtype=np.float64)
    info = np.finfo(np.float64)
    logs = np.log(np.clip([p[1] for p in points], info.tiny, info.max))
    slope = np.polyfit(d, logs, 1)[0]
    return float(np.exp(slope))


def verdict(rate, norms=()):
    """`vanishing` if rate < 1/STABLE_BAND, `exploding` if rate > STABLE_BAND, else `stable`
    (also with no rate: a single step has no chain). `norms`, the |dh_T/dh_k| with T-k >= 1:
    if any is exactly zero the chain is dead from there on, whatever a fit of logs says."""
    if any(n == 0.0 for n in norms):
        return DEAD
    if rate is None or 1.0 / STABLE_BAND <= rate <= STABLE_BAND:
        return "stable"
    return "vanishing" if rate < 1.0 / STABLE_BAND else "exploding"


def input_gradient(root, x):
    """dE/dx for a data leaf `x` that does not require grad, after `root.backward()`.

    x takes no gradient in the graph (it is data), but every node that reads x holds its
    own complete gradient after backward, so each reader's backward rule, asked for x's
    input too, gives what would have flowed into x; the readers' parts add up.
    """
    total = np.zeros(x.shape)
    for node in topo_order([root]):
        if node.op is None or node.grad is None:
            continue
        for i, inp in enumerate(node.inputs):
            if inp is not x:
                continue
            op = node.op
            needs = getattr(op, "needs", None)
            if needs is not None:
                op.needs = tuple(True for _ in node.inputs)
            try:
                part = op.backward(node.grad)[i]
            finally:
                if needs is not None:
                    op.needs = needs
            if part is not None:
                total = total + dense(part, x)
    return total


class ScalarFactor:
    """One link of the scalar chain: factor_j = w f'(a_j) = dh_j/dh_{j-1}, and
    `product` = the factors from T down to j multiplied = dh_T/dh_{j-1}."""

    __slots__ = ("j", "w", "a", "fprime", "factor", "product")

    def __init__(self, j, w, a, fprime, factor, product):
        self.j, self.w, self.a, self.fprime = j, w, a, fprime
        self.factor, self.product = factor, product


def scalar_chain(seq, w_hh, activation, T, path):
    """The lecture's product for hidden size 1: from h_T back along the path, each factor
    dh_j/dh_{j-1} = w f'(a_j) (a_j read off the graph: h_j = f(a_j)) and the running product."""
    w = float(w_hh.data.reshape(-1)[0])
    walk = sorted(path, key=lambda k: abs(T - k))
    links, product = [], 1.0
    for j in walk[:-1]:
        h_j = seq[j][0]
        a = float(h_j.inputs[0].data.reshape(-1)[0])
        h = float(h_j.data.reshape(-1)[0])
        fprime = {
            "tanh": 1.0 - h * h,
            "sigmoid": h * (1.0 - h),
            "relu": 1.0 if a > 0 else 0.0,
            "linear": 1.0,
        }[activation]
        product *= w * fprime
        links.append(ScalarFactor(j, w, a, fprime, w * fprime, product))
    return links
