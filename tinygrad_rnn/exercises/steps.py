"""Exercises 3, 8 and 9: one recurrent step's backward (RNN, LSTM, GRU), checked twice.

1. One step, alone: the learner's `*_step_backward(upstream..., cache)` against the engine's
   gradient of the same step built from primitives, and against central finite differences.
   A wrong output is shown with its worst elements; for a gated cell the wrong rows of the
   fused weights say which gate is wrong (rows k*H..(k+1)*H belong to gate k).
2. Unrolled over T steps, the way BPTT runs: the learner's two functions become a
   `Function` used at every step, the true step another, and the loss sits on the last
   state. Walking back from the last step, the first step whose edge gradients differ is
   where the learner's gradient departs from the true one. The two graphs are returned
   so that `--picture` can draw them side by side.
"""

import numpy as np

from ..autograd import enable_grad, grad, scope
from ..function import Function
from ..nn.recurrent import layer_class
from ..tensor import Tensor
from .base import LearnerError, call, call_engine, compare, verdict

T = 4  # steps of the unrolled check
# the lecture's names: 输入门, 遗忘门, 输出门 (LSTM); the GRU's reset and update gates
GATE_NAMES = {
    "i": "input gate",
    "f": "forget gate",
    "g": "candidate g",
    "o": "output gate",
    "r": "reset gate",
    "z": "update gate",
    "n": "new state n",
}


class StepSpec:
    """What differs between the RNN, LSTM and GRU step exercises."""

    def __init__(
        self, number, title, cell, forward, backward, args, grads, states, reference, gates
    ):
        self.number = number
        self.title = title
        self.cell = cell  # "rnn", "lstm", "gru"
        self.forward = forward  # name of the learner's forward function
        self.backward = backward  # name of the learner's backward function
        self.args = args  # forward's argument names, states first (x, h_prev[, c_prev])
        self.grads = grads  # backward's result names, one per argument
        self.states = states  # ("h",) or ("h", "c")
        self.reference = reference  # (*Tensors) -> tuple of state Tensors, from primitives
        self.gates = gates  # gate letters stacked in the fused weights' rows ("" for rnn)

    def sample(self, seed, batch=2, input_size=3, hidden=2):
        """Random arguments in the shapes the step expects (PyTorch's fused layout)."""
        rng = np.random.default_rng(seed)
        rows = max(1, len(self.gates)) * hidden
        shapes = {
            "x": (batch, input_size),
            "h_prev": (batch, hidden),
            "c_prev": (batch, hidden),
            "W_ih": (rows, input_size),
            "W_hh": (rows, hidden),
            "b": (rows,),
            "b_ih": (rows,),
            "b_hh": (rows,),
        }
        return [rng.normal(0.0, 0.8, size=shapes[a]) for a in self.args]


def _tensors(arrays, requires_grad=True):
    return [Tensor(np.array(a), requires_grad=requires_grad) for a in arrays]


def _as_tuple(value, n, what):
    if n == 1 and not isinstance(value, (tuple, list)):
        return (value,)
    if not isinstance(value, (tuple, list)) or len(value) != n:
        got = len(value) if isinstance(value, (tuple, list)) else 1
        raise LearnerError(f"{what} returned {got} value(s); expected {n}")
    return tuple(value)


def numeric_grads(spec, arrays, upstream, eps=1e-6):
    """Central differences of L = sum_s upstream_s * state_s(arrays), for every argument."""

    def loss():
        with enable_grad():
            outs = spec.reference(*_tensors(arrays, requires_grad=False))
        return sum(float(np.sum(u * o.data)) for u, o in zip(upstream, outs))

    result = []
    for a in arrays:
        g = np.empty(a.shape)
        for index in np.ndindex(a.shape):
            keep = a[index]
            a[index] = keep + eps
            plus = loss()
            a[index] = keep - eps
            minus = loss()
            a[index] = keep
            g[index] = (plus - minus) / (2 * eps)
        result.append(g)
    return result


def locate_gates(spec, name, expected, got, hidden):
    """'wrong in gate f (rows 2:4)' when only some gates' rows of a fused gradient differ."""
    if not spec.gates or expected.shape[0] != len(spec.gates) * hidden:
        return []
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        return []
    wrong = []
    for k, gate in enumerate(spec.gates):
        rows = slice(k * hidden, (k + 1) * hidden)
        if not np.allclose(got[rows], expected[rows], atol=1e-6, rtol=1e-4):
            wrong.append(f"{gate} ({GATE_NAMES[gate]}, rows {k * hidden}:{(k + 1) * hidden})")
    if not wrong or len(wrong) == len(spec.gates):
        return []
    if len(wrong) == 1:
        return [f"  {name}: only the rows of gate {wrong[0]} are wrong: look at its derivative"]
    which = ", ".join(wrong)
    return [f"  {name}: only the rows of gates {which} are wrong: look at their derivatives"]


def check_step(spec, module, seed=0):
    """The whole check: one step, then the unrolled graph; see the module docstring."""
    hidden = 2
    arrays = spec.sample(spec.number + seed)
    n = len(spec.states)
    out = call(module, spec.forward, *[a.copy() for a in arrays])
    out = _as_tuple(out, n + 1, spec.forward)
    states, cache = out[:n], out[n]
    with enable_grad():
        ref_in = _tensors(arrays)
        ref_out = spec.reference(*ref_in)
    problems = []
    for name, s, r in zip(spec.states, states, ref_out):
        problems += compare(f"{spec.forward}: {name}", r.data, s)
    if problems:
        return verdict(spec.number, spec.title, problems)
    rng = np.random.default_rng(spec.number + 50 + seed)
    upstream = [rng.normal(size=r.shape) for r in ref_out]
    got = call(module, spec.backward, *upstream, cache)
    got = _as_tuple(got, len(spec.grads), spec.backward)
    expected = grad(list(ref_out), ref_in, grad_outputs=upstream)
    numeric = numeric_grads(spec, [a.copy() for a in arrays], upstream)
    for e, m in zip(expected, numeric):
        if not np.allclose(e, m, atol=1e-6, rtol=1e-4):  # the engine itself is checked
            raise RuntimeError(
                f"exercise {spec.number}: the engine disagrees with finite differences"
            )
    wrong_names, gates = [], set()
    for name, e, g in zip(spec.grads, expected, got):
        wrong = compare(f"{spec.backward}: {name}", e, g)
        if wrong:
            located = locate_gates(spec, name, e, g, hidden)
            problems += wrong + located
            wrong_names.append(name)
            gates.update(
                line.split("gate ")[1].split(" (")[0] for line in located if "gate " in line
            )
    if wrong_names:
        summary = f"wrong: {', '.join(wrong_names)}"
        if len(gates) == 1:
            gate = gates.pop()
            summary += f"; the wrong rows of the fused gradients are all in gate {gate}"
            summary += f" ({GATE_NAMES[gate]})"
        problems.insert(0, summary)
    try:
        unrolled = unroll_both(spec, module, seed)
    except LearnerError:
        if not problems:
            raise
        # e.g. a gradient of the wrong shape: already reported above, and the unrolled
        # graph cannot run with it
        return verdict(spec.number, spec.title, problems)
    problems += unrolled["departure"]
    result = verdict(spec.number, spec.title, problems)
    result.graphs = (unrolled["yours"], unrolled["true"])
    return result


def _learner_function(spec, module):
    """The learner's forward and backward as one Function, used at every unrolled step."""
    n = len(spec.states)
    forward_fn = getattr(module, spec.forward)
    backward_fn = getattr(module, spec.backward)

    def forward(ctx, *arrays):
        out = _as_tuple(forward_fn(*arrays), n + 1, spec.forward)
        ctx.cache = out[n]
        return np.concatenate([np.asarray(s, dtype=np.float64) for s in out[:n]], axis=-1)

    def backward(ctx, grad_out):
        upstream = np.split(grad_out, n, axis=-1)
        return _as_tuple(backward_fn(*upstream, ctx.cache), len(spec.grads), spec.backward)

    name = f"{layer_class(spec.cell).__name__}Step"  # RNNStep, LSTMStep, GRUStep
    doc = f"your {spec.forward} / {spec.backward}"
    body = {"__doc__": doc, "forward": staticmethod(forward), "backward": staticmethod(backward)}
    return type(name, (Function,), body)


def _true_function(spec):
    """The same step from the engine's primitives, its backward the engine's own."""
    n = len(spec.states)

    def forward(ctx, *arrays):
        with enable_grad():
            ctx.inputs = _tensors(arrays)
            ctx.outputs = spec.reference(*ctx.inputs)
        return np.concatenate([o.data for o in ctx.outputs], axis=-1)

    def backward(ctx, grad_out):
        upstream = np.split(grad_out, n, axis=-1)
        return tuple(grad(list(ctx.outputs), ctx.inputs, grad_outputs=upstream))

    name = f"{layer_class(spec.cell).__name__}Step"  # RNNStep, LSTMStep, GRUStep
    body = {
        "__doc__": f"{name} from the engine's primitives",
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
    }
    return type(name, (Function,), body)


def unroll(spec, step_function, seed):
    """T steps of `step_function`; returns (loss E_{T-1}, the step nodes, parameters)."""
    rng = np.random.default_rng(seed)
    sample = spec.sample(seed)
    n = len(spec.states)
    batch, hidden = sample[1].shape
    x = Tensor(rng.normal(size=(T,) + sample[0].shape), label="x")
    states = [Tensor(s, label=f"{name}_init") for s, name in zip(sample[1 : 1 + n], spec.states)]
    params = [
        Tensor(p, requires_grad=True, label=name)
        for p, name in zip(sample[1 + n :], spec.args[1 + n :])
    ]
    nodes = []
    for t in range(T):
        with scope(t=t, cell=spec.cell):
            out = step_function.apply(x[t].named(f"x_{t}"), *states, *params)
            if n == 1:
                states = [out.named(f"h_{t}")]
            else:
                states = [
                    out[:, k * hidden : (k + 1) * hidden].named(f"{name}_{t}")
                    for k, name in enumerate(spec.states)
                ]
        nodes.append(out)
    v = np.random.default_rng(seed + 1).normal(size=(batch, hidden))
    with scope(t=T - 1, role="output"):
        loss = (states[0] * Tensor(v, label="v")).sum().named(f"E_{T - 1}")
    return loss, nodes, params


def unroll_both(spec, module, seed=0):
    """Backward through both unrolled graphs; the first step (from the last) that differs."""
    seed = 100 + spec.number + seed
    yours, your_nodes, _ = unroll(spec, _learner_function(spec, module), seed)
    true, true_nodes, _ = unroll(spec, _true_function(spec), seed)
    true.backward()
    call_engine(module, spec.backward, yours.backward)
    departure = []
    names = [f"d{a}" for a in spec.args]
    for t in range(T - 1, -1, -1):
        mine, theirs = your_nodes[t].edge_grads(), true_nodes[t].edge_grads()
        differ = []
        for name, a, b in zip(names, mine, theirs):
            if b is not None and (a is None or not np.allclose(a, b, atol=1e-6, rtol=1e-4)):
                differ.append(name)
        if differ:
            departure = [
                f"unrolled over {T} steps (loss E_{T - 1} on h_{T - 1}), walking back from "
                f"t={T - 1}: your gradient first departs from the true one at time step t={t}",
                f"  differing there: {', '.join(differ)} of step {t}",
            ]
            break
    return {"yours": yours, "true": true, "departure": departure}
