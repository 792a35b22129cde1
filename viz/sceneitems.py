"""Printing a scene: node and edge statements, clusters per time step, DOT quoting."""

import math

from . import colors

CURRENT = "#0a6cff"
CLUSTER_FILL = "#f6f6f6"
SUB_FILL = "#ececf4"
HIGHLIGHT_PLAIN = "#c2185b"  # highlighted edges when colouring is off


class Item:
    """A drawn node: `id`, cluster `key`, `kind` (tensor, op, result, input, param, ghost,
    unit, marker), the graph positions it stands for, and the norm it is coloured by."""

    __slots__ = ("id", "key", "kind", "members", "node", "norm", "text", "uses", "states", "level")

    def __init__(self, id, key, kind, members, node):
        self.id = id
        self.key = key
        self.kind = kind
        self.members = members
        self.node = node
        self.norm = None
        self.text = None
        self.uses = ()
        self.states = ()
        self.level = (0, 0)


class Edge:
    """A drawn edge; `under` lists the graph edges it stands for."""

    __slots__ = ("tail", "head", "under", "kind", "norm")

    def __init__(self, tail, head, under, kind):
        self.tail = tail
        self.head = head
        self.under = under
        self.kind = kind
        self.norm = None


def quote(text):
    """A DOT double-quoted string."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def html(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attr_list(attrs):
    parts = []
    for k, v in attrs.items():
        if isinstance(v, str) and v.startswith("<") and v.endswith(">"):
            parts.append(f"{k}={v}")
        elif isinstance(v, float):
            parts.append(f"{k}={v:.2f}")
        else:
            parts.append(f"{k}={quote(v)}")
    return ", ".join(parts)


def shape_text(shape):
    return "scalar" if shape == () else "(" + ", ".join(str(d) for d in shape) + ")"


def _lines(title, rest, bold=True):
    head = f"<b>{html(title)}</b>" if bold else html(title)
    if not rest:
        return f"<{head}>"
    return f'<{head}<br/><font point-size="9">{html(rest)}</font>>'


def _grad_text(norm, style):
    if not style.colored or norm is None:
        return ""
    text = f"|grad| {colors.format_norm(norm)}"
    if getattr(style, "fixed_range", False):
        position = colors.range_side(norm, style.lo, style.hi)
        if position:
            text += f" ({position} range)"  # clamped to the scale's end: say so
    return text


def node_attrs(item, style):
    kind, node, norm = item.kind, item.node, item.norm
    fill = style.fill(norm)
    attrs = {}
    if kind in ("op", "result"):
        attrs["shape"] = "ellipse"
        attrs["fontsize"] = "9"
        attrs["height"] = "0.22"
        attrs["width"] = "0.3"
        attrs["margin"] = "0.03,0.01"
        attrs["label"] = item.text
        attrs["style"] = "filled"
        attrs["fillcolor"] = fill if kind == "result" else "#ffffff"
        attrs["color"] = "#777777"
        grad = _grad_text(norm, style)
        attrs["tooltip"] = f"{item.text} {shape_text(node.shape)} {grad}".strip()
    elif kind == "marker":
        attrs.update(shape="box", style="dashed", color="#999999", fontcolor="#666666")
        attrs["label"] = item.text
        return attrs
    elif kind == "input":
        attrs.update(shape="box", style="filled", fillcolor="#ffffff", color="#8a8a8a")
        attrs["margin"] = "0.1,0.06"
        name = style.name(node) if node.label is not None else (item.text or "const")
        attrs["label"] = _lines(name, shape_text(node.shape), bold=False)
    elif kind == "unit":
        attrs.update(shape="box", style="rounded,filled", fillcolor=fill)
        attrs["label"] = _unit_label(item, style)
    else:  # tensor, param, ghost
        dashed = kind in ("param", "ghost")
        attrs.update(shape="box", style="rounded,filled" + (",dashed" if dashed else ""))
        attrs["fillcolor"] = fill
        name = style.name(node) if node.label is not None else (item.text or "?")
        rest = shape_text(node.shape)
        grad = _grad_text(norm, style)
        attrs["label"] = _lines(name, f"{rest}  {grad}" if grad else rest)
    if kind != "op":
        attrs["fontcolor"] = colors.text_color(attrs["fillcolor"])
    if style.colored and norm is not None and norm == 0.0 and kind != "op":
        attrs["style"] = attrs["style"].replace(",dashed", "") + ",dotted"
    if style.colored and norm is not None and not math.isfinite(norm):
        attrs["peripheries"] = "2"
    members = item.members
    if item.kind == "ghost":
        on = style.highlighting and any(style.edge_on([u]) for u in item.uses)
    else:
        on = style.node_on(members)
    # fill means |grad| and nothing else: a highlight changes outlines only, so a node off
    # the path keeps its colour (lighter is still smaller) and only its border recedes
    if style.highlighting and not on:
        attrs["color"] = "#c8c8c8"
        attrs["penwidth"] = "0.6"
    elif style.highlighting:
        attrs["penwidth"] = "2.6"
        attrs["color"] = "#111111"
    if style.current is not None and style.current in members:
        attrs["color"] = CURRENT
        attrs["penwidth"] = "3.5"
    return attrs


def _unit_label(item, style):
    rows = []
    for i in item.states or item.members[-1:]:
        node = style.view.nodes[i]
        name = style.name(node) if node.label is not None else node.op.name
        grad = _grad_text(style.norms[i], style)
        small = f' <font point-size="9">{html(grad)}</font>' if grad else ""
        rows.append(f"<b>{html(name)}</b>{small}")
    return "<" + "<br/>".join(rows) + ">"


def edge_attrs(edge, style, flat=False):
    norm = edge.norm
    color = style.edge_color(norm)
    width = style.edge_width(norm)
    on = style.edge_on(edge.under)
    classes = [edge.kind]
    attrs = {}
    if style.highlighting and on and edge.kind != "elided":
        classes.append("highlight")
        width = max(width, 2.2) + 0.8
        if not style.colored:
            color = HIGHLIGHT_PLAIN
    elif style.highlighting:
        classes.append("dim")
        color, width = colors.DIM_EDGE, 0.8
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
    if style.colored and norm == 0.0 and "style" not in attrs:
        attrs["style"] = "dotted"
    if edge.kind == "internal":
        attrs["arrowsize"] = "0.45"
    attrs["penwidth"] = width
    attrs["class"] = " ".join(classes)
    return attrs


def emit(scene, style):
    """The node, cluster and edge statements of a scene, as lines."""
    lines = []
    clusters = {}
    for item in scene.nodes:
        if item.key is None:
            lines.append(f"  {item.id} [{attr_list(node_attrs(item, style))}];")
        else:
            clusters.setdefault(item.key[0], {}).setdefault(item.key[1:], []).append(item)
    for t in sorted(clusters, key=step_order):
        groups = clusters[t]
        cluster, title = step_name(t)
        lines.append(f"  subgraph cluster_{cluster} {{")
        lines.append(
            f'    label="{title}"; style="rounded,filled"; fillcolor="{CLUSTER_FILL}"; '
            'color="#b4b4b4"; fontsize=14; fontname="Helvetica-Bold";'
        )
        for item in groups.get((), []):
            lines.append(f"    {item.id} [{attr_list(node_attrs(item, style))}];")
        subs = sorted((k for k in groups if k), key=_sub_order)
        for layer, direction in subs:
            lines.append(f"    subgraph cluster_{cluster}_l{layer}_{direction} {{")
            name = f"layer {layer}, {direction}"
            lines.append(
                f'      label="{name}"; style="rounded,filled"; fillcolor="{SUB_FILL}"; '
                'color="#c4c4d4"; fontsize=10; fontname="Helvetica";'
            )
            for item in groups[(layer, direction)]:
                lines.append(f"      {item.id} [{attr_list(node_attrs(item, style))}];")
            lines.append("    }")
        lines.append("  }")
    lines += _anchor_edges(clusters)
    step_of = {item.id: item.key[0] for item in scene.nodes if item.key is not None}
    for edge in scene.edges:
        tail, head = edge.tail, edge.head
        flat = scene.detail == "cell"
        attrs = edge_attrs(edge, style, flat)
        if edge.kind == "recurrent" and not flat:
            tail, head = head, tail
        elif edge.kind == "recurrent" and step_order(step_of.get(tail, 0)) > step_order(
            step_of.get(head, 0)
        ):
            # a reverse direction's state flows from t+1 back to t; a flat edge puts its
            # tail on the left, so it is written from t to t+1 and drawn backwards
            tail, head = head, tail
            attrs["dir"] = "back"
        lines.append(f"  {tail} -> {head} [{attr_list(attrs)}];")
    return lines


def _anchor_edges(clusters):
    """Invisible edges that keep the steps in time order from left to right.

    Each cluster's first op (ties broken by the order of the graph) is joined to the same
    cluster's op at the next step by a zero-length edge: Graphviz puts both on one rank and
    the tail to the left of the head.
    """
    lines = []
    chains = {}
    for t in sorted(clusters, key=step_order):
        for sub in sorted(clusters[t], key=_sub_order):
            anchor = _anchor(clusters[t][sub])
            if anchor is not None:
                chains.setdefault(sub, []).append(anchor)
    for sub in sorted(chains, key=_sub_order):
        chain = [c.id for c in chains[sub]]
        for a, b in zip(chain, chain[1:]):
            lines.append(f"  {a} -> {b} [style=invis, minlen=0, weight=20];")
    # A time axis: one invisible point per step on one rank, in order. Flat edges between
    # nodes outside clusters keep their order; flat edges between clusters need not
    # (the layout orders whole clusters by crossings). An edge from each point up into its
    # step's clusters makes any other order of the clusters cross them.
    steps = sorted(clusters, key=step_order)
    if len(steps) > 1:
        point = {t: "time_" + step_name(t)[0] for t in steps}
        lines.append("  { rank=same; " + " ".join(f"{point[t]};" for t in steps) + " }")
        for t in steps:
            lines.append(f'  {point[t]} [shape=point, style=invis, width=0.01, label=""];')
        for a, b in zip(steps, steps[1:]):
            lines.append(f"  {point[a]} -> {point[b]} [style=invis, minlen=1, weight=20];")
        for t in steps:
            for sub in sorted(clusters[t], key=_sub_order):
                anchor = _anchor(clusters[t][sub])
                if anchor is not None:
                    lines.append(f"  {point[t]} -> {anchor.id} [style=invis, weight=5];")
    return lines


def step_order(key):
    """Sort key of a step: t, or (stage, t) for an encoder-decoder (encoder first)."""
    return key if isinstance(key, tuple) else (-1, key)


def step_name(key):
    """(cluster name, title) of a step: ("t3", "t = 3"), ("enc_t3", "encoder t = 3")."""
    if isinstance(key, tuple):
        stage, t = key
        role = ("encoder", "decoder")[stage]
        return f"{role[:3]}_t{t}", f"{role} t = {t}"
    return f"t{key}", f"t = {key}"


def _anchor(items):
    """The item that stands for its step in the chains: the lowest op of the recurrence
    (an output head or a loss exists only at some steps, so it never anchors)."""
    ops = [it for it in items if it.kind in ("op", "result", "unit")]
    inner = [it for it in ops if it.node is None or it.node.tags.get("role") != "output"]
    return min(inner or ops, key=lambda it: it.level) if ops else None


def _sub_order(key):
    """Inner clusters of a step: by layer, then forward before reverse."""
    return (key[0], key[1] != "forward", key[1]) if key else ()
