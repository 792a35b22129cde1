"""The stepper page: one self-contained HTML file that walks a graph forward, then backward.

    write_page(run.loss, "walk.html", bptt_param=run.model.weight_hh_l0)

The page holds the picture (the SVG that `to_dot` and Graphviz make, inline), the numbers
(one JSON object: every node's label, op, time step, shape, values, gradient, and the order
of both passes) and a small script; it loads nothing from anywhere, so it opens from a USB
stick in any browser. The forward pass shows the nodes appearing one by one in the order the
engine made them (`forward_order`: time step by time step, the lecture's animation of "What
time is it?"); the backward pass is the engine's own walk (`backward_steps`), one node per
step, each node filled by |grad| once its gradient is complete. A side panel shows the
current node, and the running BPTT sum for the recurrent weight: term_k is added when the
walk has passed every use of the weight at step k, and the sum ends at the engine's gradient.
"""

import json
import operator
import os
import re

import numpy as np

from tinygrad_rnn.analysis.bptt import step_terms
from tinygrad_rnn.analysis.jacobians import consumer_map
from tinygrad_rnn.autograd import backward_steps, topo_order
from tinygrad_rnn.files import write_atomic

from .dot import drawn_edges, to_dot
from .graph import GraphView, namer
from .render import layout
from .scene import Scene
from .style import grad_norm

ENTRIES = 16  # tensors with at most this many elements show every entry
PANEL_COLUMNS = 34  # characters of the panel's monospace column (stepper.css: 380 px, 12 px)
LANGS = ("en", "zh")
_ASSETS = os.path.dirname(os.path.abspath(__file__))


def forward_order(root):
    """Every node behind `root` in the order the forward pass made them (`Tensor.seq`).

    This is the network reading its sequence as it ran: the parameters and the input (made
    before the run), then each step's nodes in the order the cell's code computes them (a
    bidirectional layer's forward direction, then its reverse direction; a stacked network's
    layer 0, then layer 1). A fused layer numbers its nodes as the per-node step would, so
    both give the same order. Each node comes after its inputs: they existed before it.
    """
    return sorted(GraphView(root).nodes, key=operator.attrgetter("seq"))


def _numbers(array):
    """A JSON-safe description of an array: norm, and the entries when it is small."""
    if array is None:
        return None
    a = np.asarray(array, dtype=float)
    norm = grad_norm(a)
    out = {"norm": _num(norm)}
    if a.size <= ENTRIES:
        out["entries"] = _entries(a.squeeze() if a.ndim > 1 and a.size > 1 else a)
    elif a.size:
        out["stats"] = [_num(a.min()), _num(a.max()), _num(a.mean())]
    return out


def _entries(a):
    """The entries to 3 significant digits, aligned, in lines that fit the panel's column: a
    gradient of 1e-5 reads 1e-05, not a rounded -0."""
    width = max(len(f"{v:.3g}") for v in a.ravel())
    return np.array2string(
        a, max_line_width=PANEL_COLUMNS, formatter={"float_kind": lambda v: f"{v:>{width}.3g}"}
    )


def _num(x):
    if x is None:
        return None
    x = float(x)
    return float(f"{x:.4g}") if np.isfinite(x) else str(x)


def _where(tags):
    """'t = 2, layer 0, reverse': where a node sits in the unrolled network."""
    parts = [f"t = {tags['t']}"] if "t" in tags else []
    if "layer" in tags:
        parts.append(f"layer {tags['layer']}")
    if "direction" in tags:
        parts.append(tags["direction"])
    if "role" in tags:
        parts.append(tags["role"])
    return ", ".join(parts)


def _formula(node, name):
    """'c_2 = f_2 × c_1 + i_2 × g_2': what the op computed, in its inputs' names; an input
    without a name is written out (four levels deep, then ...), a scalar constant as its value."""
    if node.op is None:
        return None
    call = _expression(node, name, 4, top=True)[0]
    head = name(node)
    return call if head is None or head == call else f"{head} = {call}"


_INFIX = {"add": ("+", 1), "sub": ("\u2212", 1), "mul": ("\u00d7", 2), "div": ("/", 2)}
_ATOM = 3  # a name, a value, a call: never needs parentheses


def _expression(node, name, depth, top=False):
    """(text, precedence) of `node` as an operand."""
    label = None if top else name(node)
    if label:  # a label with a space ("h_0 W_hh^T") is a product
        return label, 2 if " " in label else _ATOM
    if node.op is None:
        if node.data.size == 1:
            return np.format_float_positional(float(node.data), precision=4, trim="-"), _ATOM
        return "const", _ATOM
    op = node.op.name
    if depth == 0:
        return "\u2026", _ATOM
    args = [_expression(inp, name, depth - 1) for inp in node.inputs]
    params = node.op.params()
    if op in _INFIX and len(args) == 2:
        symbol, level = _INFIX[op]
        (left, lp), (right, rp) = args
        # parentheses where the operand binds less tightly: (a + b) × c, a − (b + c)
        left = left if lp >= level else f"({left})"
        right = right if rp > level or (rp == level and op in ("add", "mul")) else f"({right})"
        return f"{left} {symbol} {right}", level
    if op == "getitem":
        text, level = args[0]
        text = text if level == _ATOM else f"({text})"
        return f"{text}[{params.get('index', '')}]", _ATOM
    texts = [text for text, _ in args] + [f"{k}={v}" for k, v in params.items()]
    call = "\u03c3" if op == "sigmoid" else op
    return f"{call}({', '.join(texts)})", _ATOM


def bptt_sum(root, param, backward_index):
    """The running sum of term_k for `param`, as the walk passes each step k.

    Returns a list of additions in walk order: {k, at (walk step after which term_k is
    complete), term, sum} (norms, entries when small) and the engine's gradient.
    """
    order = topo_order([root])
    consumers = consumer_map(order)
    terms = step_terms(root, param, order, consumers)
    done_at = {}
    region, stack = {param}, [param]
    while stack:
        for consumer, _ in consumers.get(stack.pop(), ()):
            if "t" in consumer.tags:
                k = consumer.tags["t"]
                done_at[k] = max(done_at.get(k, 0), backward_index.get(consumer, 0))
            elif consumer not in region:
                region.add(consumer)
                stack.append(consumer)
    done_at[None] = backward_index.get(param, 0)
    running = np.zeros_like(param.grad, dtype=float)
    additions = []
    for k in sorted(terms, key=lambda k: (done_at.get(k, 0), -1 if k is None else -k)):
        running = running + terms[k]
        additions.append(
            {
                "k": k,
                "at": done_at.get(k, 0),
                "term": _numbers(terms[k]),
                "sum": _numbers(running),
            }
        )
    error = float(np.max(np.abs(running - param.grad))) if param.grad.size else 0.0
    return {"additions": additions, "grad": _numbers(param.grad), "error": _num(error)}


def page_data(
    root,
    bptt_param=None,
    notation="pytorch",
    title=None,
    max_nodes=2000,
    detail="op",
    grad_range=None,
):
    """Run `root`'s backward pass and collect everything the page shows, as plain data.

    Returns (data, dot): the JSON-ready dict and the DOT text of the final picture.
    """
    walk = list(backward_steps(root))
    backward_index = {s.node: s.index for s in walk}
    view = GraphView(root)
    name = namer(view.nodes, notation)
    fwd = [n for n in forward_order(root) if n.op is not None]
    fwd_index = {node: k for k, node in enumerate(fwd, start=1)}
    nodes = []
    for node in view.nodes:
        nodes.append(
            {
                "name": name(node) or (node.op.name if node.op else "const"),
                "label": node.label,
                "op": node.op.name if node.op else None,
                "where": _where(node.tags),
                "t": node.tags.get("t"),
                "shape": list(node.shape),
                "formula": _formula(node, name),
                "value": _numbers(node.data),
                "grad": _numbers(node.grad),
                "fwd": fwd_index.get(node, 0),
                "bwd": backward_index.get(node),
            }
        )
    dot = to_dot(
        root,
        title=title,
        notation=notation,
        max_nodes=max_nodes,
        detail=detail,
        grad_range=grad_range,
    )
    scene = Scene(view, detail, True, None)
    scene.measure(None, None)
    scene.build()
    items = {}
    for item in scene.nodes:
        uses = [c for c, _ in item.uses] if item.kind == "ghost" else []
        items[item.id] = {"members": list(item.members), "uses": uses, "kind": item.kind}
    edges = {}
    for edge, tail, head, _ in drawn_edges(scene):  # as the svg names them
        edges[f"{tail}->{head}"] = sorted({v for v, _ in edge.under})
    index = {node: i for i, node in enumerate(view.nodes)}
    data = {
        "title": title or "",
        "nodes": nodes,
        "forward": [index[n] for n in fwd],
        "backward": [index[s.node] for s in walk],
        "items": items,
        "edges": edges,
        "bptt": None,
    }
    if bptt_param is not None and bptt_param.grad is not None:
        data["bptt"] = bptt_sum(root, bptt_param, backward_index)
        data["bptt"]["name"] = name(bptt_param) or "W_hh"
        data["bptt"]["root"] = name(root) or "E"
    return data, dot


def _svg(dot):
    """The picture as inline SVG: Graphviz's output without the XML prolog and doctype."""
    text = layout(dot, "svg").decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _asset(name):
    with open(os.path.join(_ASSETS, name), encoding="utf-8") as f:
        return f.read()


def page(
    root,
    bptt_param=None,
    notation="pytorch",
    title=None,
    lang="en",
    max_nodes=2000,
    detail="op",
    grad_range=None,
):
    """The whole page as one string (see the module docstring)."""
    if lang not in LANGS:
        raise ValueError(f"unknown page language {lang!r} (choose from {', '.join(LANGS)})")
    data, dot = page_data(root, bptt_param, notation, title, max_nodes, detail, grad_range)
    data["lang"] = lang
    # "</script>" or "<!--" inside the JSON would end the script: write every "<" escaped
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    parts = {
        "TITLE": (title or "backward pass").replace("&", "&amp;").replace("<", "&lt;"),
        "LANG": "zh-CN" if lang == "zh" else "en",
        "CSS": _asset("stepper.css"),
        "SVG": _svg(dot),
        "DATA": payload,
        "JS": _asset("stepper.js"),
    }
    # one pass, so nothing inserted is read again as a placeholder
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], _asset("stepper.html"))


def write_page(root, path, **options):
    """Write `page(root, **options)` to `path` atomically; returns `path`."""
    write_atomic(path, page(root, **options).encode("utf-8"))
    return path
