"""An unrolled graph as DOT text: one cluster per time step, gradients as colours.

    to_dot(run.loss, bptt_paths=(3, 0))      # the lecture's E_3 and its paths back to h_0

Layout: time runs left to right (one cluster `t = k` per step, nested per layer and
direction when there are several), inputs at the bottom, losses at the top. A tensor is a
rounded box (label, shape, |grad|) above a small ellipse naming the op that made it;
unlabelled intermediate results are just the ellipse. A parameter used at several steps is
drawn as one dashed copy per step showing the gradient of that step's use (the lecture's
per-step term). Edges from step t-1 into step t (the recurrence) are double lines, laid out
reversed so that every step puts its nodes at the same heights; ranked forwards they make
a staircase, which with fanned-out parameters takes Graphviz minutes to lay out at 50
steps (docs/rendering.md has the measurements).

Everything is derived from the graph's structure and tags, never from ids or hashes, so the
same graph and options give the same text byte for byte.
"""

import math

from tinygrad_rnn import notation as notation_module

from . import colors
from .graph import GraphView, find, path_between
from .legend import legend_node
from .scene import Scene
from .sceneitems import quote

DEFAULT_MAX_NODES = 2000
DETAILS = ("op", "cell")
COLORS = ("grad", "none")


class GraphTooLarge(ValueError):
    """The picture would have more nodes than the limit; the message says what to do."""


def to_dot(
    roots,
    *,
    detail="op",
    color="grad",
    params=True,
    highlight=None,
    bptt_paths=None,
    steps=None,
    grads=None,
    edge_grads=None,
    current=None,
    grad_range=None,
    legend=True,
    title=None,
    max_nodes=DEFAULT_MAX_NODES,
    force=False,
    notation="pytorch",
):
    """DOT text for the graph behind `roots` (a tensor or a list of tensors).

    detail      "op": every op; "cell": one box per step (layer, direction) with its states.
    color       "grad": fill by log10 |grad| (see viz.colors); "none": plain.
    params      False hides parameters (and their edges).
    highlight   (A, B): emphasise every edge on a path between the nodes named A and B
                (labels like "E_3", "h_0", or "h_0@0" for the node tagged t=0; tensors
                work too) and dim the rest.
    bptt_paths  (t, k): the lecture's paths from E_t back to h_k; same as highlight.
    steps       (a, b): draw only t = a..b (inclusive), with markers for what is elided.
    grads       {node: grad} to colour by instead of node.grad (e.g. the part of a
                backward pass done so far); missing nodes count as "no gradient yet".
    edge_grads  {node: [grad per input]} for the edges when `grads` is given; without it
                edges are coloured by node.edge_grads() (only when `grads` is None).
    current     a node to emphasise (thick blue border), e.g. a debugger's current step.
    grad_range  (lo, hi): the colour scale runs over |grad| in [10^lo, 10^hi] (whole
                decades by default, from the gradients). Given, it is fixed: values
                outside are clamped to the scale's ends and marked "(below range)" or
                "(above range)", so a series of pictures shares one scale.
    max_nodes   refuse (GraphTooLarge) above this many drawn nodes unless `force`.
    notation    "pytorch" (the graph's own labels: h_t, weight_hh_l0) or "lecture" (s_t, U,
                W, V, C~_t; see tinygrad_rnn.notation).
    """
    if detail not in DETAILS:
        raise ValueError(f"detail must be one of {', '.join(DETAILS)}, got {detail!r}")
    if color not in COLORS:
        raise ValueError(f"color must be one of {', '.join(COLORS)}, got {color!r}")
    if highlight is not None and bptt_paths is not None:
        raise ValueError("give highlight or bptt_paths, not both")
    notation_module.check(notation)
    view = GraphView(roots)
    scene = Scene(view, detail, params, _window(view, steps))
    scene.measure(grads, edge_grads)

    if bptt_paths is not None:
        t, k = _pair(bptt_paths, "bptt_paths")
        highlight = (f"E_{t}", f"h_{k}")
    on = None
    if highlight is not None:
        a, b = _pair(highlight, "highlight")
        found = path_between(view, find(view, a), find(view, b))
        if found is None:
            raise ValueError(f"no path between {a} and {b} in the graph")
        on = found

    scene.build()
    count = len(scene.nodes)
    if count > max_nodes and not force:
        raise GraphTooLarge(
            f"the picture would have {count} nodes (limit {max_nodes}); "
            "use detail='cell' (--detail cell), a window such as steps=(0, 9) (--window 0:9), "
            "or force=True (--force)"
        )
    norms = [n.norm for n in scene.nodes] + [e.norm for e in scene.edges]
    lo, hi = grad_range if grad_range is not None else colors.decade_range(norms, span=12)
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        raise ValueError(f"grad_range must be (lo, hi) with hi > lo, got {grad_range!r}")
    style = _Style(color == "grad", lo, hi, on, current, view, scene.node_norm)
    style.fixed_range = grad_range is not None
    style.name = namer(view.nodes, notation)
    lines = _header(title)
    lines += scene.emit(style)
    if legend:
        if highlight is not None and notation != "pytorch":
            highlight = tuple(style.name(view.nodes[find(view, n)[0]]) for n in highlight)
        lines.append(
            "  "
            + legend_node(
                color == "grad",
                lo,
                hi,
                highlight,
                scene.has_recurrent,
                params,
                detail,
                fixed=grad_range is not None,
            )
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def namer(nodes, notation):
    """node -> the label to draw, in `notation`; parameters take the graph's one cell type."""
    if notation == "pytorch":
        return lambda node: node.label
    cells = {n.tags["cell"] for n in nodes if "cell" in n.tags}
    cell = cells.pop() if len(cells) == 1 else None
    return lambda node: notation_module.label(node, notation, cell)


def _pair(value, name):
    try:
        a, b = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair, got {value!r}") from None
    return a, b


def _window(view, steps):
    if steps is None:
        return None
    a, b = _pair(steps, "steps")
    a, b = int(a), int(b)
    ts = sorted({n.tags["t"] for n in view.nodes if "t" in n.tags})
    if not ts:
        raise ValueError("steps=(a, b) needs a graph with time steps (nodes tagged t)")
    if a > b or b < ts[0] or a > ts[-1]:
        raise ValueError(f"window {a}:{b} is outside the graph's steps {ts[0]}..{ts[-1]}")
    return (max(a, ts[0]), min(b, ts[-1]), ts[0], ts[-1])


def _header(title):
    lines = [
        "digraph unrolled {",
        '  graph [rankdir=BT, newrank=true, nodesep=0.18, ranksep=0.28, fontname="Helvetica",'
        ' fontsize=12, labelloc=t, labeljust=l, outputorder=edgesfirst, bgcolor="#ffffff"];',
        '  node [fontname="Helvetica", fontsize=11, margin="0.08,0.03"];',
        '  edge [arrowsize=0.6, color="#555555"];',
    ]
    if title:
        lines.insert(2, f"  label={quote(title)};")
    return lines


class _Style:
    """Turns a scene item (its norm, kind, whether it is on the highlighted path) into attrs."""

    def __init__(self, colored, lo, hi, on, current, view, norms):
        self.colored = colored
        self.view = view
        self.norms = norms
        self.lo, self.hi = lo, hi
        self.fixed_range = False
        self.on_node, self.on_edge, self.source = on if on is not None else (None, None, ())
        self.highlighting = on is not None
        self.current = view.index.get(current) if current is not None else None
        self.name = lambda node: node.label

    def fill(self, norm):
        if not self.colored:
            return "#ffffff"
        return colors.norm_color(norm, self.lo, self.hi)

    def node_on(self, members):
        if not self.highlighting:
            return True
        return any(self.on_node[i] for i in members)

    def edge_on(self, under):
        if not self.highlighting:
            return True
        for v, k in under:
            if k is None:
                if self.on_node[v] and v not in self.source:
                    return True
            elif (v, k) in self.on_edge:
                return True
        return False

    def edge_color(self, norm):
        if not self.colored or norm is None:
            return "#555555"
        if norm == 0.0:
            return colors.ZERO_EDGE  # a white line would vanish: grey, and dotted (below)
        if math.isnan(norm) or math.isinf(norm):
            return colors.norm_color(norm, self.lo, self.hi)
        # the palest end of the ramp is invisible as a thin line on white: start edges a bit in
        position = colors.norm_position(norm, self.lo, self.hi)
        return colors.ramp(0.22 + 0.78 * position)

    def edge_width(self, norm):
        position = colors.norm_position(norm, self.lo, self.hi) if self.colored else None
        return 1.0 if position is None else 0.8 + 1.6 * position
