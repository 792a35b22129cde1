"""Backpropagation through time, measured term by term on an unrolled graph.

The lecture writes the gradient of the loss at step T for a weight W used at every step as

    dE_T/dW = sum_{k<=T} dE_T/dy_T * dy_T/dh_T * dh_T/dh_k * d+h_k/dW

where d+h_k/dW is the immediate partial at step k. `analyze(run)` turns each factor into numbers:

- `dE/dh_k` for every step k, layer and direction (the engine's gradient at the node h_k);
- term_k of dE/dP for every parameter P: what reached P through its use at step k, read from the
  engine's edge gradients; the terms sum to P.grad and the report says how closely;
- the state Jacobians dh_T/dh_k (LSTM also the full (h, c) Jacobian and the cell-state path
  dc_T/dc_k) by vector-Jacobian products, with spectral norms (see `jacobians.py`);
- for a simple RNN the bound |dh_T/dh_k| <= (gamma sigma_max(W_hh))^(T-k) (Pascanu et al. 2013);
- a fitted per-step rate and a verdict (vanishing, exploding or stable);
- in scalar mode (hidden 1) each factor w f'(a_j) of the chain and the running product.
"""

import math

import numpy as np

from ..autograd import grad, scope, topo_order
from ..ops import SliceGrad
from .jacobians import (
    DEAD,
    GAMMA,
    STABLE_BAND,
    VERDICTS,
    ScalarFactor,
    cell_path_norms,
    consumer_map,
    dense,
    fit_rate,
    input_gradient,
    path_steps,
    recurrent_spectrum,
    scalar_chain,
    state_jacobians,
    step_jacobians,
    verdict,
)

_SHORT = {"W_hh": "weight_hh", "W_ih": "weight_ih", "b_hh": "bias_hh", "b_ih": "bias_ih"}


class Row:
    """One step k of the table: |dE/dh_k|, |dh_T/dh_k|_2, the bound, |term_k| and its share,
    |dE/dx_k| (`input_grad_norm`: how much the input at step k can still teach the loss) and,
    for the LSTM, |dc_T/dc_k|_2 along the cell state (`cell_path_norm`; None otherwise)."""

    __slots__ = (
        "k",
        "grad_norm",
        "jacobian_norm",
        "bound",
        "contribution_norm",
        "contribution_share",
        "input_grad_norm",
        "cell_path_norm",
    )

    def __init__(
        self,
        k,
        grad_norm,
        jacobian_norm,
        bound,
        contribution_norm,
        share,
        input_grad_norm=None,
        cell_path_norm=None,
    ):
        self.k = k
        self.grad_norm = grad_norm
        self.jacobian_norm = jacobian_norm
        self.bound = bound
        self.contribution_norm = contribution_norm
        self.contribution_share = share
        self.input_grad_norm = input_grad_norm
        self.cell_path_norm = cell_path_norm

    def to_dict(self):
        """The JSON row; `cell_path_norm` only for the LSTM (the one cell with a cell path)."""
        names = self.__slots__ if self.cell_path_norm is not None else self.__slots__[:-1]
        return {name: _json_number(getattr(self, name)) for name in names}


class Report:
    """What `analyze` measured. `to_dict()` gives the JSON fields of the CLI's `--json`.

    Beyond those: `state_grads[(layer, direction)][k]` (dE/dh_k arrays), `terms[name][k]`
    (term_k of dE/dP, key None for a use outside any step), `sum_errors[name]`, `jacobians[k]`
    (dh_T/dh_k as a matrix), for the LSTM `state_jacobians[k]` (the full (h, c) Jacobian),
    `step_jacobians[j]` (one step's), `cell_path_norms[k]` and `state_jacobian_norms[k]`,
    `gamma`, `pascanu_vanishing` (gamma sigma_max < 1: must vanish), `pascanu_cannot_explode`
    (gamma sigma_max <= 1: the bound never exceeds 1), `scalar` (a list of ScalarFactor) and
    `scalar_error`.
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def to_dict(self):
        return {
            "rows": [row.to_dict() for row in self.rows],
            "sum_check_error": _json_number(self.sum_check_error),
            "rate": _json_number(self.rate),
            "verdict": self.verdict,
            "cell": self.cell,
            "steps": self.steps,
            "radius": _json_number(self.radius),
            "sigma_max": _json_number(self.sigma_max),
            "spectral_radius": _json_number(self.spectral_radius),
        }

    def _repr_html_(self):
        """The rows as an HTML table, for Jupyter (the CLI prints the same numbers)."""
        rows = [row.to_dict() for row in self.rows]
        columns = list(rows[0]) if rows else []
        head = "".join(f"<th>{_HEADINGS.get(c, c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{_cell(r[c], c)}</td>" for c in columns) + "</tr>" for r in rows
        )
        caption = (
            f"{self.cell}, {self.steps} steps: dE/d{self.param} = &Sigma;<sub>k</sub> "
            f"term<sub>k</sub>; the terms sum to the engine's gradient within "
            f"{self.sum_check_error:.1e}; rate {_cell(self.rate, 'rate')} per step: "
            f"<b>{self.verdict}</b>"
        )
        return (
            f"<table><caption style='text-align:left'>{caption}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


_HEADINGS = {
    "k": "k",
    "grad_norm": "|dE/dh<sub>k</sub>|",
    "jacobian_norm": "|dh<sub>T</sub>/dh<sub>k</sub>|",
    "bound": "bound (&gamma;&sigma;)<sup>T-k</sup>",
    "contribution_norm": "|term<sub>k</sub>|",
    "contribution_share": "share",
    "input_grad_norm": "|dE/dx<sub>k</sub>|",
    "cell_path_norm": "|dc<sub>T</sub>/dc<sub>k</sub>|",
}


def _cell(value, column):
    if value is None:
        return "-"
    if column == "k":
        return str(int(value))
    if column == "contribution_share":
        return f"{100 * float(value):.1f}%"
    return f"{float(value):.3g}"


def _json_number(value):
    if value is None or isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return None if value is None else int(value)
    value = float(value)
    return value if np.isfinite(value) else None


# ----- the loss and the parameter -------------------------------------------------------------


def loss_root(run, loss="last"):
    """The scalar to differentiate: E_t for an int t, E_{T-1} for "last", sum_t E_t for "all"."""
    steps = len(run.losses)
    if loss == "last":
        return run.losses[-1]
    if loss == "all":
        if run.config.get("loss") == "all":
            return run.loss
        root = run.losses[0]
        with scope(role="loss"):
            for e_t in run.losses[1:]:
                root = root + e_t
        return root.named("E")
    if isinstance(loss, (int, np.integer)) and not isinstance(loss, bool) and 0 <= loss < steps:
        return run.losses[loss]
    raise ValueError(f"loss must be 'last', 'all' or a step 0..{steps - 1}, got {loss!r}")


def reference_step(loss, steps, reverse):
    """T of dh_T/dh_k: the loss step; for "all", the last state the direction computes."""
    if loss == "last":
        return steps - 1
    if loss == "all":
        return 0 if reverse else steps - 1
    return int(loss)


def resolve_param(run, param, layer, direction):
    """(name, tensor): an exact name, or weight_hh/W_hh-style short names for one layer."""
    named = dict(run.named_parameters())
    if param in named:
        return param, named[param]
    full = f"{_SHORT.get(param, param)}_l{layer}" + ("_reverse" if direction else "")
    if full in named:
        return full, named[full]
    raise ValueError(f"unknown parameter '{param}' (--param; choose from {', '.join(named)})")


# ----- dE/dh_k and the per-step terms -------------------------------------------------------


def state_gradients(root, states):
    """dE/dh_k for every layer and direction: {(layer, direction): [array per step]}."""
    keys, nodes = [], []
    for layer, per_layer in enumerate(states):
        for direction, seq in enumerate(per_layer):
            keys.append((layer, direction))
            nodes.extend(s[0] for s in seq)
    found = grad(root, nodes)
    result, start = {}, 0
    for key in keys:
        count = len(states[key[0]][key[1]])
        result[key] = found[start : start + count]
        start += count
    return result


def step_terms(root, param, order, consumers):
    """{k: term_k} with term_k = the gradient that reached `param` through its use at step k.

    A consumer made inside step t contributes its edge gradient to term_t. A consumer made
    outside every step (layer 0's `X W_ih^T`, projected once and sliced per step) is attributed
    by its own consumers: each timed consumer's edge gradient into it is pushed through its
    op's backward alone. Backward rules are linear in grad_out, so the terms still sum to the
    gradient. Key None collects what reaches the root through no step at all.
    Needs a completed `root.backward()` (the edge gradients).
    """
    position = {node: i for i, node in enumerate(order)}
    region, stack, seen = [param], [param], {param}
    while stack:
        for consumer, _ in consumers.get(stack.pop(), ()):
            if "t" not in consumer.tags and consumer not in seen:
                seen.add(consumer)
                region.append(consumer)
                stack.append(consumer)
    region.sort(key=position.__getitem__, reverse=True)  # consumers before their inputs
    # What each region node received from timed consumers, by step, kept as the engine sent it
    # (a slice's gradient stays sparse): dense copies would hold T arrays of T steps each.
    direct = {}
    for node in region:
        acc = {}
        if node is root:
            acc[None] = np.ones(node.shape, dtype=node.data.dtype)
        for consumer, i in consumers.get(node, ()):
            if "t" in consumer.tags and consumer._edges is not None:
                _add(acc, consumer.tags["t"], consumer._edges[i], node)
        direct[node] = acc
    inner = {n: [(c, i) for c, i in consumers.get(n, ()) if c in seen] for n in region}
    # Then each step's part, pushed through the region's own ops one step at a time, so that
    # memory stays linear in the number of steps.
    terms = {}
    for key in dict.fromkeys(k for acc in direct.values() for k in acc):
        got = {}
        for node in region:
            g = direct[node].get(key)
            for consumer, i in inner[node]:
                if consumer in got:
                    part = _push(consumer, got[consumer], i, node)
                    if part is not None:
                        g = part if g is None else dense(g, node) + part
            if g is not None:
                got[node] = g
        if param in got:
            terms[key] = np.array(dense(got[param], param))
    return terms


def _push(consumer, g, i, node):
    """What `consumer`'s backward sends to its input i for grad_out g. A step's slice of a
    projection made once for all steps (`linear` on x of shape (T, B, I)) only touches that
    step's rows, so it is pushed through those rows alone: linear time over all the steps."""
    if (
        type(g) is SliceGrad
        and g.basic
        and i in (1, 2)
        and consumer.op.name == "linear"
        and _rows_only(g.index, consumer.ndim)
    ):
        value = g.value.reshape(-1, g.value.shape[-1])
        if i == 2:
            return value.sum(axis=0)
        x = consumer.inputs[0].data[g.index]
        return value.T @ x.reshape(-1, x.shape[-1])
    return dense(consumer.op.backward(dense(g, consumer))[i], node)


def _rows_only(index, ndim):
    """True when a basic index selects along the leading axes and keeps the last whole."""
    parts = index if isinstance(index, tuple) else (index,)
    if Ellipsis in parts or None in parts or len(parts) >= ndim + 1:
        return False
    if len(parts) == ndim:
        last = parts[-1]
        return isinstance(last, slice) and last == slice(None)
    return True


def _add(acc, key, g, like):
    """acc[key] += g, keeping a lone slice gradient sparse."""
    if g is None:
        return
    if key in acc:
        acc[key] = dense(acc[key], like) + dense(g, like)
    else:
        acc[key] = g


def decompose(run, root):
    """Run `root.backward()` (parameters' .grad cleared first, so .grad is this loss's gradient)
    and split every parameter's gradient into per-step terms.

    Returns (terms, errors): terms[name] = {k: term_k}; errors[name] = max |sum_k term_k - .grad|.
    """
    named = run.named_parameters()
    for _, p in named:
        p.grad = None
    root.backward()
    order = topo_order([root])
    consumers = consumer_map(order)
    terms, errors = {}, {}
    for name, p in named:
        if p.grad is None:
            continue
        terms[name] = step_terms(root, p, order, consumers)
        total = sum(terms[name].values(), np.zeros_like(p.grad))
        errors[name] = float(np.max(np.abs(total - p.grad))) if p.grad.size else 0.0
    return terms, errors


# ----- everything at once -----------------------------------------------------------------


def geometric(base, n):
    """base ** n for the bound (gamma sigma_max)^(T-k); inf where a float overflows (a
    spectral radius of 1e308 makes no finite bound), not Python's OverflowError."""
    try:
        return base**n
    except OverflowError:
        return math.inf


def analyze(run, loss=None, param="weight_hh", layer=0, direction=0):
    """Measure every factor of the lecture's sum on a `lecture.build(...)` run; see the module.

    loss: "last" (E_{T-1}), "all" (E = sum_t E_t) or a step t (E_t); default the run's own.
    param: the parameter whose per-step terms fill the table (any name of
    `run.named_parameters()`, or weight_hh / W_hh style for `layer` and `direction`).
    Calls `backward()`: afterwards every parameter's .grad is this loss's gradient.
    """
    config = run.config
    cell, steps = config["cell"], config["steps"]
    loss = config["loss"] if loss is None else loss
    if not -len(run.states) <= layer < len(run.states):
        raise ValueError(f"layer must be in 0..{len(run.states) - 1}, got {layer}")
    layer %= len(run.states)
    if direction not in range(len(run.states[layer])):
        if direction == 1:
            raise ValueError("the reverse direction needs a bidirectional model (--bidirectional)")
        raise ValueError(f"direction must be 0 (forward) or 1 (reverse), got {direction!r}")
    root = loss_root(run, loss)
    name, _ = resolve_param(run, param, layer, direction)
    T = reference_step(loss, steps, direction == 1)
    path = path_steps(T, steps, direction == 1)
    terms, errors = decompose(run, root)
    state_grads = state_gradients(root, run.states)
    seq = run.states[layer][direction]
    jac = state_jacobians(seq, T, path)
    n = seq[T][0].data.size
    w_hh = run.model.layer_parameters(layer, direction)[1]
    sigma, rho = recurrent_spectrum(w_hh.data, config["hidden"])
    Cell = run.model.Cell
    # the Pascanu bound gamma sigma_max holds for h_t = act(a_t), the simple cell
    simple = Cell.has_nonlinearity
    gamma = GAMMA[config["activation"]] if simple else None
    param_terms = terms.get(name, {})
    x_grad = input_gradient(root, run.x)
    lstm = Cell.has_cell_state
    step_jac, cell_norms, state_norms = None, None, None
    if lstm:
        step_jac = step_jacobians(seq, path, direction == 1)
        cell_norms = cell_path_norms(step_jac, T, n, direction == 1)
        state_norms = {k: float(np.linalg.norm(jac[k], 2)) for k in path}
    rows = []
    for k in range(steps):
        on_path = k in jac
        norm_j = float(np.linalg.norm(jac[k][:n, :n], 2)) if on_path else 0.0
        bound = geometric(gamma * sigma, abs(T - k)) if gamma is not None and on_path else None
        term = param_terms.get(k)
        norm_t = float(np.linalg.norm(term)) if term is not None else 0.0
        grad_norm = float(np.linalg.norm(state_grads[(layer, direction)][k]))
        input_norm = float(np.linalg.norm(x_grad[k]))
        cell_norm = cell_norms.get(k, 0.0) if lstm else None
        rows.append(Row(k, grad_norm, norm_j, bound, norm_t, 0.0, input_norm, cell_norm))
    total = sum(r.contribution_norm for r in rows)
    for r in rows:
        r.contribution_share = r.contribution_norm / total if total > 0 else 0.0
    # gamma sigma_max = 1 up to rounding (radius 1.0 orthogonal): the bound is 1, not above it
    bound_base = gamma * sigma if gamma is not None else None
    at_limit = gamma is not None and abs(bound_base - 1.0) <= 1e-9
    chain = [rows[k].jacobian_norm for k in path if k != T]
    rate = fit_rate([abs(T - k) for k in path], [rows[k].jacobian_norm for k in path])
    if any(v == 0.0 for v in chain):
        rate = 0.0  # dead from some step back: no geometric rate, the gradient is gone
    scalar, scalar_error = None, None
    if simple and n == 1:
        scalar = scalar_chain(seq, w_hh, config["activation"], T, path)
        by_k = {link.j + (1 if direction == 1 else -1): link.product for link in scalar}
        scalar_error = max((abs(v - jac[k][0, 0]) for k, v in by_k.items()), default=0.0)
    return Report(
        rows=rows,
        sum_check_error=max(errors.values(), default=0.0),
        rate=rate,
        verdict=verdict(rate, chain),
        cell=cell,
        steps=steps,
        radius=config.get("radius"),
        sigma_max=sigma,
        spectral_radius=rho,
        config=dict(config),
        T=T,
        loss=loss,
        layer=layer,
        direction=direction,
        param=name,
        param_grad=dict(run.named_parameters())[name].grad,
        activation=config["activation"] if simple else None,
        gamma=gamma,
        pascanu_vanishing=bound_base < 1.0 and not at_limit if gamma is not None else None,
        pascanu_cannot_explode=bound_base <= 1.0 or at_limit if gamma is not None else None,
        state_grads=state_grads,
        terms=terms,
        sum_errors=errors,
        jacobians={k: j[:n, :n] for k, j in jac.items()},
        state_jacobians=jac if lstm else None,
        step_jacobians=step_jac,
        cell_path_norms=cell_norms,
        state_jacobian_norms=state_norms,
        scalar=scalar,
        scalar_error=scalar_error,
    )


def clip_effect(run, param, max_norm):
    """Clip the run's gradients with `optim.clip_grad_norm_` (in place) and say what changed:
    (total norm before, after, |dE/dP| before, after) for the parameter named `param`."""
    from .. import optim

    named = run.named_parameters()
    p = dict(named)[param]
    p_before = float(np.linalg.norm(p.grad))
    before = float(optim.clip_grad_norm_(named, max_norm))
    after = float(np.sqrt(sum(np.sum(q.grad**2) for _, q in named if q.grad is not None)))
    return before, after, p_before, float(np.linalg.norm(p.grad))


__all__ = [
    "DEAD",
    "GAMMA",
    "STABLE_BAND",
    "VERDICTS",
    "Report",
    "Row",
    "ScalarFactor",
    "analyze",
    "cell_path_norms",
    "clip_effect",
    "decompose",
    "fit_rate",
    "input_gradient",
    "loss_root",
    "path_steps",
    "recurrent_spectrum",
    "scalar_chain",
    "state_gradients",
    "state_jacobians",
    "step_jacobians",
    "step_terms",
    "verdict",
]
