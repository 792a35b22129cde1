"""The graph as the pictures read it: every node behind the roots, their consumers, the
nodes a name picks out ("h_3", "s_2", "h_0@2") and the paths between two sets of nodes.

The nodes come from the library's own walk (`tinygrad_rnn.autograd.topo_order`, every node,
inputs first to last); all walks use explicit stacks (a 100,000-node chain must not hit
Python's recursion limit), and every order is derived from the graph's own structure, so
the same graph always gives the same picture byte for byte.
"""

import re

from tinygrad_rnn import notation as notation_module
from tinygrad_rnn.analysis.breakpoints import base_label
from tinygrad_rnn.autograd import topo_order
from tinygrad_rnn.tensor import Tensor


class GraphView:
    """The nodes reachable from `roots` through `inputs`, each after all of its inputs.

    `nodes[i]` is a tensor, `index[tensor]` its position, `consumers[i]` the list of
    (consumer position, input slot) pairs reading node i, in a fixed order.
    """

    def __init__(self, roots):
        if isinstance(roots, Tensor):
            roots = [roots]
        roots = list(roots)
        for r in roots:
            if not isinstance(r, Tensor):
                raise TypeError(f"to_dot: roots must be tensors, got {type(r).__name__}")
        self.roots = roots
        self.nodes = topo_order(roots, every_node=True)
        self.index = {node: i for i, node in enumerate(self.nodes)}
        self.consumers = [[] for _ in self.nodes]
        for i, node in enumerate(self.nodes):
            for k, inp in enumerate(node.inputs):
                self.consumers[self.index[inp]].append((i, k))

    def __len__(self):
        return len(self.nodes)


# ----- names: "h_3", "E_3", "s_2" (the lecture's name for h_2), "h_0@2"; labels in a notation

_SPEC = re.compile(r"^(?P<label>.+?)(?:@(?P<t>-?\d+))?$")


def find(view, spec):
    """Positions of the nodes a spec names: a Tensor, a label, or `label@t` (t tag).

    `s_k` is accepted for `h_k` (the lecture writes s for the state). Raises ValueError
    with the labels that do exist when nothing matches.
    """
    if isinstance(spec, Tensor):
        if spec not in view.index:
            raise ValueError(f"{spec.label or 'the given tensor'} is not in the drawn graph")
        return [view.index[spec]]
    match = _SPEC.match(str(spec).strip())
    if not match:
        raise ValueError(f"cannot read the node name {spec!r}; write a label like h_0 or h_0@0")
    label, t = match.group("label"), match.group("t")
    wanted = {label}
    if re.fullmatch(r"s_-?\d+", label):
        wanted.add("h_" + label[2:])
    found = []
    for loose in (False, True):  # exact labels first, else every layer's and direction's
        for i, node in enumerate(view.nodes):
            name = node.label
            if loose and name is not None:
                name = base_label(name)
            if name in wanted and (t is None or node.tags.get("t") == int(t)):
                found.append(i)
        if found:
            break
    if not found:
        loss = re.fullmatch(r"E_(\d+)", label)
        if loss:
            drawn = ", ".join(n.label for n in view.roots if n.label) or "another loss"
            raise ValueError(
                f"no node labelled {spec!r}: the picture backpropagates {drawn}; "
                f"draw E_{loss.group(1)} with --loss {loss.group(1)} (or --loss all)"
            )
        raise ValueError(f"no node labelled {spec!r} in the graph; {_some_labels(view)}")
    return found


def _some_labels(view):
    labels = []
    # the roots (losses) first, then the rest from the loss downwards
    for node in list(view.roots) + view.nodes[::-1]:
        if node.label is not None and node.label not in labels and node.op is not None:
            labels.append(node.label)
    shown = ", ".join(labels[:12]) + (", ..." if len(labels) > 12 else "")
    return f"labels drawn: {shown}"


def namer(nodes, notation):
    """node -> the label to draw, in `notation`; parameters take the graph's one cell type."""
    if notation == "pytorch":
        return lambda node: node.label
    cells = {n.tags["cell"] for n in nodes if "cell" in n.tags}
    cell = cells.pop() if len(cells) == 1 else None
    return lambda node: notation_module.label(node, notation, cell)


# ----- paths --------------------------------------------------------------------------------


def _reach(view, start, forward):
    """Positions reachable from `start` along edges (forward: towards consumers)."""
    seen = [False] * len(view)
    stack = list(start)
    for i in start:
        seen[i] = True
    while stack:
        i = stack.pop()
        if forward:
            nxt = [c for c, _ in view.consumers[i]]
        else:
            nxt = [view.index[inp] for inp in view.nodes[i].inputs]
        for j in nxt:
            if not seen[j]:
                seen[j] = True
                stack.append(j)
    return seen


def path_between(view, a, b):
    """Nodes and edges on any path between the node sets `a` and `b` (either direction).

    Returns (on_node, on_edge): on_node[i] is True for nodes on a path; on_edge is the
    set of (consumer position, input slot) pairs whose edge lies on a path. An edge u -> v
    is on a path from s to d exactly when s reaches u and v reaches d.
    """
    for source, sink in ((b, a), (a, b)):
        below = _reach(view, source, forward=True)
        above = _reach(view, sink, forward=False)
        on_node = [x and y for x, y in zip(below, above)]
        if any(on_node[i] for i in source):
            on_edge = set()
            for v, node in enumerate(view.nodes):
                if not above[v]:
                    continue
                for k, inp in enumerate(node.inputs):
                    if below[view.index[inp]]:
                        on_edge.add((v, k))
            return on_node, on_edge, source
    return None
