"""How things are drawn: the gradient colours, the legend, and each item's DOT attributes.

Colours: log10 |grad| on one fixed light-to-dark ramp, plus the special cases. The ramp runs
from pale cream (small gradients) through orange and red to dark purple (large gradients),
with lightness falling steadily, so "lighter" always means "smaller": the lecture's picture
of a gradient fading as it travels back in time. Zero, NaN, Inf and "no gradient yet" get
colours that are not on the ramp at all.

    x = (log10 |g| - lo) / (hi - lo), clipped to [0, 1]     ->     ramp(x)

`lo` and `hi` are whole decades, chosen from the gradients in the picture unless given.
A `Style` turns a scene's items and edges into attribute dicts (fill means |grad| and
nothing else; a highlight changes outlines and edges only); `legend_node` says what the
shapes, lines and colours mean.
"""

import math

import numpy as np

from tinygrad_rnn.autograd import topo_order

# (position, (r, g, b)): lightness decreases monotonically from the first to the last
RAMP = (
    (0.00, (255, 247, 214)),
    (0.20, (253, 214, 140)),
    (0.40, (246, 156, 86)),
    (0.60, (221, 92, 76)),
    (0.80, (158, 45, 110)),
    (1.00, (58, 18, 84)),
)
ZERO = "#ffffff"  # white, drawn with a dotted border
ZERO_EDGE = "#9a9a9a"  # grey, dotted
NAN = "#16b84e"  # green: no gradient is ever green on the ramp
INF = "#1f5fff"  # blue
NO_GRAD = "#ececec"  # grey: not on the backward path, or not computed yet
DIM_EDGE = "#d4d4d4"
TEXT_DARK = "#1a1a1a"
TEXT_LIGHT = "#ffffff"
CURRENT = "#0a6cff"
CLUSTER_FILL = "#f6f6f6"
SUB_FILL = "#ececf4"
HIGHLIGHT_PLAIN = "#c2185b"  # highlighted edges when colouring is off


def hex_color(rgb):
    return "#{:02x}{:02x}{:02x}".format(*(int(round(c)) for c in rgb))


def parse_hex(color):
    """'#rrggbb' -> (r, g, b) integers."""
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))


def ramp(x):
    """The ramp's colour at x in [0, 1] (clipped), interpolated between the anchors."""
    x = min(1.0, max(0.0, x))
    for (x0, c0), (x1, c1) in zip(RAMP, RAMP[1:]):
        if x <= x1:
            w = (x - x0) / (x1 - x0)
            return hex_color(a + (b - a) * w for a, b in zip(c0, c1))
    return hex_color(RAMP[-1][1])


def luminance(color):
    """Relative luminance (WCAG) of '#rrggbb' in [0, 1]: 0 black, 1 white."""
    channels = []
    for c in parse_hex(color):
        c = c / 255.0
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_color(fill):
    """Dark text on light fills, white text on dark ones."""
    return TEXT_LIGHT if luminance(fill) < 0.3 else TEXT_DARK


def grad_norm(g):
    """The L2 (Frobenius) norm of a gradient as a float: None, 0, a number, nan or inf.

    Any NaN element makes the norm NaN and any Inf makes it Inf; finite huge values are
    scaled before squaring so they do not overflow to Inf.
    """
    if g is None:
        return None
    g = np.asarray(g)
    if g.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        if g.dtype.kind == "f":
            flat = g.ravel()
            squares = float(np.dot(flat, flat))
            if 1e-290 < squares < 1e290:  # the common case; else overflow, underflow or nan
                return math.sqrt(squares)
        biggest = float(np.max(np.abs(g)))
        if math.isnan(biggest):
            return math.nan
        if math.isinf(biggest):
            return math.inf
        if biggest == 0.0:
            return 0.0
        return biggest * float(np.sqrt(np.sum(np.square(g / biggest))))


def decade_range(norms, span=None):
    """Whole decades (lo, hi) covering the finite positive norms; (-3, 0) if there are none.

    `span` (an int) limits hi - lo, keeping the large end: gradients smaller than 10^lo
    all get the lightest colour.
    """
    finite = [n for n in norms if n is not None and n > 0 and math.isfinite(n)]
    if not finite:
        return (-3, 0)
    lo = math.floor(math.log10(min(finite)))
    hi = math.ceil(math.log10(max(finite)))
    if hi <= lo:
        hi = lo + 1
    if span is not None and hi - lo > span:
        lo = hi - span
    return (lo, hi)


def norm_color(norm, lo, hi):
    """Fill colour for a gradient norm on the ramp over [10^lo, 10^hi], or a special colour."""
    if norm is None:
        return NO_GRAD
    if math.isnan(norm):
        return NAN
    if math.isinf(norm):
        return INF
    if norm == 0.0:
        return ZERO
    return ramp((math.log10(norm) - lo) / (hi - lo))


def norm_position(norm, lo, hi):
    """Where a finite positive norm sits on the ramp, in [0, 1]; None for the special cases."""
    if norm is None or not math.isfinite(norm) or norm <= 0.0:
        return None
    return min(1.0, max(0.0, (math.log10(norm) - lo) / (hi - lo)))


def range_side(norm, lo, hi):
    """ "below" or "above" when a finite positive norm lies outside [10^lo, 10^hi], else None."""
    if norm is None or not math.isfinite(norm) or norm <= 0.0:
        return None
    exponent = math.log10(norm)
    if exponent < lo - 1e-12:
        return "below"
    if exponent > hi + 1e-12:
        return "above"
    return None


def scale_marks(lo, hi):
    """The legend's swatches for a scale over [10^lo, 10^hi]: (position in [0, 1], text) at
    each end and at every whole decade in between."""
    marks = [(0.0, lo)]
    marks += [((k - lo) / (hi - lo), k) for k in range(math.floor(lo) + 1, math.ceil(hi))]
    marks.append((1.0, hi))
    return [(x, decade_text(k)) for x, k in marks]


def format_norm(norm):
    """Short text for a norm: 0.0123, 4.56e-07, 0, nan, inf."""
    if norm is None:
        return "-"
    if math.isnan(norm):
        return "NaN"
    if math.isinf(norm):
        return "Inf"
    if norm == 0.0:
        return "0"
    return f"{norm:.3g}"


def decade_text(k):
    """10^k as the legend writes it: '1e-3', '1', '10' for whole k, else the value (0.25)."""
    if not float(k).is_integer():
        return f"{10.0**k:.2g}"
    return {0: "1", 1: "10"}.get(int(k), f"1e{int(k)}")


def shared_range(roots):
    """One colour scale for several pictures, so their colours can be compared: whole
    decades covering every node's |grad| and every edge's (a parameter's share at one step,
    drawn on its per-step copy) in all the graphs behind `roots` (at most 12 decades)."""
    norms = []
    for node in topo_order(list(roots)):
        norms.append(grad_norm(node.grad))
        if node.inputs:
            norms.extend(grad_norm(g) for g in node.edge_grads() if g is not None)
    return decade_range(norms, span=12)


# ----- labels and attributes --------------------------------------------------------------


def html(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shape_text(shape):
    return "scalar" if shape == () else "(" + ", ".join(str(d) for d in shape) + ")"


def _lines(title, rest, bold=True):
    head = f"<b>{html(title)}</b>" if bold else html(title)
    if not rest:
        return f"<{head}>"
    return f'<{head}<br/><font point-size="9">{html(rest)}</font>>'


class Style:
    """Turns a scene item (its norm, kind, whether it is on the highlighted path) into attrs."""

    def __init__(self, colored, lo, hi, on, current, view, norms, fixed_range, name):
        self.colored = colored
        self.view = view
        self.norms = norms
        self.lo, self.hi = lo, hi
        self.fixed_range = fixed_range
        self.on_node, self.on_edge, self.source = on if on is not None else (None, None, ())
        self.highlighting = on is not None
        self.current = view.index.get(current) if current is not None else None
        self.name = name

    def fill(self, norm):
        if not self.colored:
            return "#ffffff"
        return norm_color(norm, self.lo, self.hi)

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
            return ZERO_EDGE  # a white line would vanish: grey, and dotted (below)
        if math.isnan(norm) or math.isinf(norm):
            return norm_color(norm, self.lo, self.hi)
        # the palest end of the ramp is invisible as a thin line on white: start edges a bit in
        position = norm_position(norm, self.lo, self.hi)
        return ramp(0.22 + 0.78 * position)

    def edge_width(self, norm):
        position = norm_position(norm, self.lo, self.hi) if self.colored else None
        return 1.0 if position is None else 0.8 + 1.6 * position

    def _grad_text(self, norm):
        if not self.colored or norm is None:
            return ""
        text = f"|grad| {format_norm(norm)}"
        if self.fixed_range:
            position = range_side(norm, self.lo, self.hi)
            if position:
                text += f" ({position} range)"  # clamped to the scale's end: say so
        return text

    def node(self, item):
        """The DOT attributes of a drawn node, in the order they are printed."""
        kind, node, norm = item.kind, item.node, item.norm
        fill = self.fill(norm)
        attrs = {}
        if kind in ("op", "result"):
            attrs.update(shape="ellipse", fontsize="9", height="0.22", width="0.3")
            attrs.update(margin="0.03,0.01", label=item.text, style="filled")
            attrs.update(fillcolor=fill if kind == "result" else "#ffffff", color="#777777")
            grad = self._grad_text(norm)
            attrs["tooltip"] = f"{item.text} {shape_text(node.shape)} {grad}".strip()
        elif kind == "marker":
            attrs.update(shape="box", style="dashed", color="#999999", fontcolor="#666666")
            return {**attrs, "label": item.text}
        elif kind == "input":
            attrs.update(shape="box", style="filled", fillcolor="#ffffff", color="#8a8a8a")
            attrs["margin"] = "0.1,0.06"
            name = self.name(node) if node.label is not None else (item.text or "const")
            attrs["label"] = _lines(name, shape_text(node.shape), bold=False)
        elif kind == "unit":
            attrs.update(shape="box", style="rounded,filled", fillcolor=fill)
            attrs["label"] = self._unit_label(item)
        else:  # tensor, param, ghost
            dashed = kind in ("param", "ghost")
            attrs.update(shape="box", style="rounded,filled" + (",dashed" if dashed else ""))
            attrs["fillcolor"] = fill
            name = self.name(node) if node.label is not None else (item.text or "?")
            rest = shape_text(node.shape)
            grad = self._grad_text(norm)
            attrs["label"] = _lines(name, f"{rest}  {grad}" if grad else rest)
        if kind != "op":
            attrs["fontcolor"] = text_color(attrs["fillcolor"])
        if self.colored and norm is not None and norm == 0.0 and kind != "op":
            attrs["style"] = attrs["style"].replace(",dashed", "") + ",dotted"
        if self.colored and norm is not None and not math.isfinite(norm):
            attrs["peripheries"] = "2"
        members = item.members
        if item.kind == "ghost":
            on = self.highlighting and any(self.edge_on([u]) for u in item.uses)
        else:
            on = not self.highlighting or any(self.on_node[i] for i in members)
        # fill means |grad| and nothing else: a highlight changes outlines only, so a node off
        # the path keeps its colour (lighter is still smaller) and only its border recedes
        if self.highlighting and not on:
            attrs.update(color="#c8c8c8", penwidth="0.6")
        elif self.highlighting:
            attrs.update(penwidth="2.6", color="#111111")
        if self.current is not None and self.current in members:
            attrs.update(color=CURRENT, penwidth="3.5")
        return attrs

    def _unit_label(self, item):
        rows = []
        for i in item.states or item.members[-1:]:
            node = self.view.nodes[i]
            name = self.name(node) if node.label is not None else node.op.name
            grad = self._grad_text(self.norms[i])
            small = f' <font point-size="9">{html(grad)}</font>' if grad else ""
            rows.append(f"<b>{html(name)}</b>{small}")
        return "<" + "<br/>".join(rows) + ">"

    def edge(self, edge, flat=False):
        """The DOT attributes of a drawn edge (`flat`: one box per step, states sideways)."""
        norm = edge.norm
        color = self.edge_color(norm)
        width = self.edge_width(norm)
        on = self.edge_on(edge.under)
        classes = [edge.kind]
        attrs = {}
        if self.highlighting and on and edge.kind != "elided":
            classes.append("highlight")
            width = max(width, 2.2) + 0.8
            if not self.colored:
                color = HIGHLIGHT_PLAIN
        elif self.highlighting:
            classes.append("dim")
            color, width = DIM_EDGE, 0.8
        if edge.kind in ("recurrent", "initial"):
            attrs["color"] = f"{color}:invis:{color}"
            if edge.kind == "recurrent" and flat:
                # one box per step: the state goes sideways, same rank, tail on the left
                attrs["minlen"] = "0"
            elif edge.kind == "recurrent":
                # laid out reversed (the state sits above the op that reads it at the next step),
                # so every step's nodes stay at the same heights instead of climbing a staircase
                attrs["dir"] = "back"
            else:
                classes.insert(0, "recurrent")
            width = max(width, 1.3)
        elif edge.kind == "sum":
            # the total loss's additions run along the top, left to right, not up a staircase
            attrs.update(color=color, minlen="0")
        elif edge.kind == "elided":
            attrs.update(color="#999999", style="dashed", constraint="false")
        else:
            attrs["color"] = color
        if self.colored and norm == 0.0 and "style" not in attrs:
            attrs["style"] = "dotted"
        if edge.kind == "internal":
            attrs["arrowsize"] = "0.45"
        attrs.update(penwidth=width, **{"class": " ".join(classes)})
        return attrs


# ----- the legend -------------------------------------------------------------------------


def _swatch(fill, text):
    return (
        f'<td bgcolor="{fill}" border="1">'
        f'<font color="{text_color(fill)}" point-size="9">{html(text)}</font></td>'
    )


def legend_node(style, highlight, has_recurrent, params, detail):
    """A DOT statement for the legend: one borderless HTML table, no edges."""
    marks = scale_marks(style.lo, style.hi)
    span = max(len(marks), 4)
    rows = []

    def line(text, bold=False):
        body = f"<b>{html(text)}</b>" if bold else html(text)
        rows.append(f'<tr><td colspan="{span}" align="left">{body}</td></tr>')

    def swatches(pairs):
        cells = [_swatch(fill, text) for fill, text in pairs]
        rows.append("<tr>" + "".join(cells + ["<td></td>"] * (span - len(cells))) + "</tr>")

    line("How to read this picture", bold=True)
    if detail == "cell":
        line("box: one step of a cell, its states and |grad|")
    else:
        line("rounded box: a tensor (label, shape, |grad|)")
        line("ellipse: the op that made the tensor above it")
        if params:
            line("dashed box: a parameter, one copy per step it is used in;")
            line("   its |grad| is that step's share of the gradient")
    line("plain box: data (inputs, targets, initial states)")
    if has_recurrent:
        line("double line: recurrent edge, state t-1 -> step t")
    if highlight is not None:
        line(f"thick lines: every path between {highlight[0]} and {highlight[1]}")
    if style.colored:
        line("|grad| = L2 norm of dE/d(node), log scale:")
        swatches([(ramp(x), text) for x, text in marks])
        swatches([(ZERO, "0"), (NAN, "NaN"), (INF, "Inf"), (NO_GRAD, "none")])
        line("lighter = smaller; dotted border or line: exactly 0")
        if style.fixed_range:
            ends = f"{decade_text(style.lo)} .. {decade_text(style.hi)}"
            line(f"scale fixed at {ends}: values outside are clamped")
            line("   to its ends and marked (below/above range)")
        line("edges: the gradient that flowed along them")
    table = (
        '<table border="1" color="#b4b4b4" cellborder="0" cellspacing="2" cellpadding="2"'
        ' bgcolor="#ffffff">' + "".join(rows) + "</table>"
    )
    return f'legend [shape=plaintext, fontsize=10, margin="0", label=<{table}>];'
