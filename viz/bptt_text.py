"""The `bptt` command's text: a `tinygrad_rnn.analysis.bptt.Report` as header, table and summary.

Columns and the lecture's factors (for E_T and a weight W used at every step k):
    |dE_T/dh_k|     the gradient that reaches the state h_k (all paths)
    |dE_T/dx_k|     the gradient that reaches the input x_k: what x_k can still teach E_T
    |dh_T/dh_k|_2   the lecture's ds_T/ds_k, a product of T-k step Jacobians (spectral norm)
    bound           (gamma sigma_max(W_hh))^(T-k), simple RNN only
    |term_k|        dE_T/dh_T dh_T/dh_k d+h_k/dW: the part of dE/dW from W's use at step k
    share           |term_k| / sum_j |term_j|; the bar is scaled to the largest share
"""

import json

from tinygrad_rnn.analysis.bptt import STABLE_BAND
from tinygrad_rnn.analysis.bptt_sweep import DIRECTIONS
from tinygrad_rnn.nn.recurrent import layer_class

from .terminal import bar, percent, sci, table


def with_article(name):
    """'an RNN', 'an LSTM', 'a GRU': the article an acronym takes, read letter by letter."""
    return ("an " if name[:1] in tuple("AEFHILMNORSX") else "a ") + name


def _loss_name(report):
    if report.loss == "all":
        return "E = sum_t E_t"
    return f"E_{report.T}"


def header(report):
    """Two or three lines: what was differentiated through what, and W_hh's spectrum."""
    cfg = report.config
    Layer = layer_class(report.cell)
    cell = with_article(Layer.__name__)
    cell += f" ({report.activation})" if report.activation else ""
    where = f"layer {report.layer} {DIRECTIONS[report.direction]}"
    steps = f"{report.steps} step" + ("s" if report.steps != 1 else "")
    lines = [
        f"{_loss_name(report)} through {cell}, {steps}, hidden {cfg['hidden']}; "
        f"{where}, T = {report.T}; term_k for {report.param}"
    ]
    init = f"init {cfg['init']}, radius {cfg['radius']}" if cfg["radius"] else "PyTorch init"
    blocks = "" if Layer.Cell.gates == 1 else " (largest over the gate blocks)"
    lines.append(
        f"W_hh{blocks}: sigma_max {report.sigma_max:.4g}, spectral radius "
        f"{report.spectral_radius:.4g} ({init})"
    )
    if report.gamma is not None:
        limit = 1.0 / report.gamma
        if report.pascanu_vanishing:
            verdict = "the gradient must vanish (Pascanu et al. 2013)"
            relation = "<"
        elif report.pascanu_cannot_explode:
            verdict = "the bound is 1: it cannot explode, and vanishing is not guaranteed"
            relation = "="
        else:
            verdict = "vanishing is not guaranteed; exploding is possible, not certain"
            relation = ">"
        lines.append(
            f"bound (gamma sigma_max)^(T-k) with gamma = {report.gamma:g} for "
            f"{report.activation}: sigma_max {report.sigma_max:.4g} {relation} 1/gamma = "
            f"{limit:g}, so {verdict}"
        )
    return "\n".join(lines)


def rows_table(report, width=20):
    """One row per step k; the LSTM adds the cell-state path and the full (h, c) Jacobian."""
    lstm = report.cell_path_norms is not None
    headers = ["k", "|dE_T/dh_k|", "|dE_T/dx_k|", "|dh_T/dh_k|_2", "bound"]
    if lstm:
        headers += ["|dc_T/dc_k| cell", "|d(h,c)_T/d(h,c)_k|_2"]
    headers += ["|term_k|", "share", ""]
    top = max((r.contribution_share for r in report.rows), default=0.0)
    rows = []
    for r in report.rows:
        on_path = r.k in report.jacobians
        cells = [r.k, sci(r.grad_norm), sci(r.input_grad_norm)]
        cells += [sci(r.jacobian_norm) if on_path else "-", sci(r.bound)]
        if lstm:
            cells += [
                sci(r.cell_path_norm) if on_path else "-",
                sci(report.state_jacobian_norms.get(r.k)),
            ]
        share = r.contribution_share
        cells += [sci(r.contribution_norm), percent(share), bar(share / top if top else 0, width)]
        rows.append(cells)
    return table(headers, rows, align="r" * (len(headers) - 1) + "l")


def summary(report):
    """The sum check, the fitted rate and the verdict, on one line."""
    count = len(report.sum_errors)
    rate = "-" if report.rate is None else f"{report.rate:.4g} per step"
    return (
        f"sum_k term_k = dE/d{report.param}: max |difference| {sci(report.sum_check_error)} "
        f"(all {count} parameters checked); rate {rate}; verdict {report.verdict} "
        f"(stable within {1 / STABLE_BAND:.3g}..{STABLE_BAND:g})"
    )


def scalar_table(report):
    """The lecture's chain for hidden size 1: each factor w f'(a_j) and the running product."""
    if not report.scalar:
        return "scalar chain: a single step has no factors"
    w = report.scalar[0].w
    rows = [
        [link.j, f"{link.a:.4f}", f"{link.fprime:.4f}", f"{link.factor:.4f}", f"{link.product:.4g}"]
        for link in report.scalar
    ]
    prev = "j+1" if report.direction else "j-1"
    text = table(["j", "a_j", "f'(a_j)", "w * f'(a_j)", f"dh_T/dh_{{{prev}}}"], rows)
    chain = " -> ".join(f"{link.product:.3g}" for link in report.scalar)
    return (
        f"scalar chain, w = W_hh = {w:.4f}, f = {report.activation}:\n{text}\n"
        f"running product: {chain}\n"
        f"(equals the engine's dh_T/dh_k to {sci(report.scalar_error)})"
    )


def compare_table(labelled):
    """|dh_T/dh_k|_2 side by side for [(label, report), ...] of the same steps and loss."""
    first = labelled[0][1]
    headers = ["k"] + [label for label, _ in labelled]
    rows = []
    for k in range(first.steps):
        cells = [k]
        for _, report in labelled:
            row = report.rows[k]
            cells.append(sci(row.jacobian_norm) if k in report.jacobians else "-")
        rows.append(cells)
    inputs = [
        [k] + [sci(report.rows[k].input_grad_norm) for _, report in labelled]
        for k in range(first.steps)
    ]
    lines = [
        f"|dh_T/dh_k|_2, T = {first.T} ({_loss_name(first)})",
        table(headers, rows),
        "",
        f"input_grad_norm |dE_T/dx_k|: how much the input at step k can still teach E_{first.T}",
        table(headers, inputs),
        "",
    ]
    for label, report in labelled:
        rate = "-" if report.rate is None else f"{report.rate:.4g}"
        lines.append(
            f"{label}: sigma_max {report.sigma_max:.4g}, rate {rate} per step, "
            f"{report.verdict}; sum check {sci(report.sum_check_error)}"
        )
    return "\n".join(lines)


def clip_text(max_norm, param, before, after, param_before, param_after):
    """What `clip_grad_norm_` did to the whole gradient and to the table's parameter."""
    scale = after / before if before else 1.0
    return (
        f"clip_grad_norm_(max_norm={max_norm:g}): total |grad| {sci(before)} -> {sci(after)} "
        f"(x {scale:.3g}); |dE/d{param}| {sci(param_before)} -> {sci(param_after)}; every "
        "term_k is scaled alike, so the shares (the direction) do not change"
    )


def clip_notes(measured, max_norm):
    """`clip_text` for every `bptt_sweep.Measured` that was clipped, labelled when several."""
    notes = []
    for m in measured:
        if m.clip is not None:
            text = clip_text(max_norm, m.report.param, *m.clip)
            notes.append(text if len(measured) == 1 else f"{m.label}: {text}")
    return notes


def sweep_text(measured, scalar=False):
    """The `bptt` command's output for a list of `bptt_sweep.Measured`: one model's header,
    rows and summary (and its chain of scalar factors), or several side by side."""
    if len(measured) > 1:
        return compare_table([(m.label, m.report) for m in measured])
    report = measured[0].report
    parts = [header(report), rows_table(report), summary(report)]
    if scalar:
        parts.append(scalar_table(report))
    return "\n".join(parts)


def sweep_json(measured):
    """`bptt --json`: one report's dict, or a list of them for several models."""
    dicts = [m.report.to_dict() for m in measured]
    return json.dumps(dicts[0] if len(dicts) == 1 else dicts, indent=2)
