"""What is drawn: the graph's nodes as boxes, ellipses, ghosts and clusters.

A `Scene` decides, for each node of a `GraphView` (viz.graph), what appears (op ellipse,
tensor box, parameter ghost per step, one box per cell step), in which cluster, and which
drawn edges stand for which graph edges (`under`: (consumer, input slot) pairs, or (node,
None) for the op-to-tensor edge inside one node). `viz.style` gives each item its attributes
and `viz.dot` prints the scene.
"""

import re

import numpy as np

from . import style


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


# seq2seq roles, in the order their boxes run from left to right
STAGES = {"encoder": 0, "decoder": 1}


class Scene:
    def __init__(self, view, detail, params, window):
        self.view = view
        self.detail = detail
        self.params = params
        self.window = window
        nodes = view.nodes
        self.t = [n.tags.get("t") for n in nodes]
        pairs = {(n.tags.get("layer"), n.tags["direction"]) for n in nodes if "direction" in n.tags}
        self.nested = len(pairs) > 1
        self.is_param = [n.op is None and n.requires_grad for n in nodes]
        self.is_const = [
            n.op is None and not n.requires_grad and n.label is None and n.data.size == 1
            for n in nodes
        ]
        self.visible = self._visibility()
        # drawn as nodes of their own (parameters are drawn per consumer, constants inline)
        self.shown = [
            v and not p and not c for v, p, c in zip(self.visible, self.is_param, self.is_const)
        ]
        self.nodes, self.edges = [], []
        self._items, self._edge_at, self._param_keys = {}, {}, {}
        self.has_recurrent = False

    # ----- which nodes are drawn, and where ------------------------------------------------
    def key(self, i):
        """The cluster of node i: None (outside), (t,) or (t, layer, direction)."""
        t = self.t[i]
        if t is None:
            return None
        tags = self.view.nodes[i].tags
        stage = STAGES.get(tags.get("role"))
        if stage is not None:  # an encoder-decoder: encoder steps, then decoder steps
            t = (stage, t)
        if self.nested and "direction" in tags:
            return (t, tags.get("layer", 0), tags["direction"])
        return (t,)

    def _visibility(self):
        n = len(self.view)
        if self.window is None:
            return [True] * n
        a, b = self.window[0], self.window[1]
        visible = [t is not None and a <= t <= b for t in self.t]
        # untimed nodes stay when they feed the window through untimed nodes (x, X W_ih^T)
        # or read it directly (the additions of a total loss)
        stack = [i for i in range(n) if visible[i]]
        while stack:
            i = stack.pop()
            for inp in self.view.nodes[i].inputs:
                j = self.view.index[inp]
                if not visible[j] and self.t[j] is None:
                    visible[j] = True
                    stack.append(j)
        for i in range(n):
            if visible[i] and self.t[i] is not None:
                for c, _ in self.view.consumers[i]:
                    if self.t[c] is None:
                        visible[c] = True
        return visible

    def edge_kind(self, u, v):
        """ "recurrent" for an edge carrying a state from one step into another, "initial"
        for the initial state (h_init, c_init) going into its first step, "sum" between the
        additions of a total loss E = E_0 + E_1 + ..., else "data"."""
        tu, tv = self.t[u], self.t[v]
        if tu is not None and tv is not None:
            return "recurrent" if tu != tv else "data"
        label = self.view.nodes[u].label
        if tu is None and tv is not None and label is not None and label.endswith("_init"):
            return "initial"
        if tu is None and tv is None and self._is_loss(u) and self._is_loss(v):
            return "sum"
        return "data"

    def _is_loss(self, i):
        return self.view.nodes[i].tags.get("role") == "loss"

    # ----- gradients ---------------------------------------------------------------------------
    def measure(self, grads, edge_grads):
        """Norms of every node's gradient and of every edge's, from the graph or the mappings."""
        view = self.view
        self.node_norm = [None] * len(view)
        self.edge_grad = {}
        for i, node in enumerate(view.nodes):
            g = node.grad if grads is None else grads.get(node)
            self.node_norm[i] = style.grad_norm(g)
            if not node.inputs or not self.visible[i]:
                continue
            if grads is None:
                per_input = node.edge_grads()
            elif edge_grads is not None:
                per_input = edge_grads.get(node) or ()
            else:
                per_input = ()
            for k, g in enumerate(per_input):
                if g is not None:
                    self.edge_grad[(i, k)] = g

    def edge_norm(self, under):
        """Norm of everything flowing along these graph edges together (sqrt of sum of squares)."""
        total, seen = 0.0, False
        for v, k in under:
            g = self.edge_grad.get((v, k)) if k is not None else None
            n = self.node_norm[v] if k is None else style.grad_norm(g)
            if n is None:
                continue
            seen = True
            total = total + n * n if np.isfinite(n) else n + total
        return np.sqrt(total) if seen else None

    # ----- building --------------------------------------------------------------------------
    def _levels(self):
        """Longest path from a leaf, ignoring edges between steps: equal for the same node
        at every step, so it picks the same anchor node in every step."""
        level = [0] * len(self.view)
        for i, node in enumerate(self.view.nodes):
            for inp in node.inputs:
                j = self.view.index[inp]
                if self.edge_kind(j, i) in ("data", "sum"):
                    level[i] = max(level[i], level[j] + 1)
        return level

    def build(self):
        level = self._levels()
        if self.detail == "cell":
            self._build_cells()
        else:
            self._build_ops()
        for edge in self.edges:
            edge.norm = self.edge_norm(edge.under)
        if self.window is not None:
            self._add_markers()
        for item in self.nodes:
            if item.members:
                item.level = (min(level[i] for i in item.members), item.members[0])

    def _add_item(self, item):
        self._items[item.id] = item
        self.nodes.append(item)
        return item

    def _add_edge(self, tail, head, under, kind="data"):
        """One drawn edge per (tail, head, kind); repeated graph edges add to its `under`."""
        at = (tail, head, kind)
        if at not in self._edge_at:
            self._edge_at[at] = Edge(tail, head, [], kind)
            self.edges.append(self._edge_at[at])
        self._edge_at[at].under.extend(under)

    def out_id(self, j):
        node = self.view.nodes[j]
        return f"n{j}" if node.op is None or node.label is not None else f"o{j}"

    def _build_ops(self):
        view = self.view
        for i, node in enumerate(view.nodes):
            if not self.shown[i]:
                continue
            key = self.key(i)
            if node.op is None:
                self._add_item(Item(f"n{i}", key, "input", [i], node))
                continue
            labelled = node.label is not None
            op = Item(f"o{i}", key, "op" if labelled else "result", [i], node)
            op.text = _op_text(node, self.is_const, view.index)
            op.norm = self.node_norm[i]
            self._add_item(op)
            if labelled:
                box = self._add_item(Item(f"n{i}", key, "tensor", [i], node))
                box.norm = self.node_norm[i]
                edge = Edge(op.id, box.id, [(i, None)], "internal")
                self.edges.append(edge)
            for k, inp in enumerate(node.inputs):
                j = view.index[inp]
                if self.is_const[j] or (self.is_param[j] and not self.params):
                    continue
                if self.is_param[j]:
                    tail = self._param_item(j, key)
                elif not self.visible[j]:
                    if self.t[j] is None:
                        continue  # an untimed node left out with the steps it serves
                    tail = self._marker_id(j)
                else:
                    tail = self.out_id(j)
                kind = self.edge_kind(j, i)
                self.has_recurrent |= kind in ("recurrent", "initial")
                self._add_edge(tail, op.id, [(i, k)], kind if self.visible[j] else "elided")
        self._edges_to_hidden(self.out_id)
        for item in self.nodes:
            if item.kind == "ghost":
                item.norm = style.grad_norm(self._ghost_grad(item))

    def _param_item(self, j, key):
        """The drawn node of parameter j for a consumer in cluster `key`: a ghost when the
        parameter is used in several clusters, else one ordinary node."""
        keys = self._param_keys.get(j)
        if keys is None:
            keys = []
            for c, _ in self.view.consumers[j]:
                if self.visible[c] and self.key(c) not in keys:
                    keys.append(self.key(c))
            self._param_keys[j] = keys
        node = self.view.nodes[j]
        if len(keys) <= 1:
            item_id = f"n{j}"
            if item_id not in self._items:
                item = self._add_item(Item(item_id, keys[0] if keys else None, "param", [j], node))
                item.norm = self.node_norm[j]
            return item_id
        item_id = f"p{j}_{keys.index(key)}"
        if item_id not in self._items:
            item = self._add_item(Item(item_id, key, "ghost", [j], node))
            item.uses = [(c, k) for c, k in self.view.consumers[j] if self.key(c) == key]
        return item_id

    def _ghost_grad(self, item):
        total = None
        for c, k in item.uses:
            g = self.edge_grad.get((c, k))
            if g is not None:
                total = np.array(g, dtype=float) if total is None else total + g
        return total

    def _edges_to_hidden(self, id_of):
        """Edges from drawn nodes into nodes the window leaves out go to the elision marker."""
        for j in range(len(self.view)):
            if not self.shown[j] or self.t[j] is None:
                continue
            for c, k in self.view.consumers[j]:
                if not self.visible[c] and self.t[c] is not None:
                    self._add_edge(id_of(j), self._marker_id(c), [(c, k)], "elided")

    # ----- cell detail: one box per step --------------------------------------------------------
    def _unit(self, i):
        key = self.key(i)
        if key is None:
            # the running sum E = E_0 + E_1 + ... is one box, not a staircase of additions
            return "loss" if self._is_loss(i) else f"n{i}"
        role = "out" if self.view.nodes[i].tags.get("role") == "output" else "cell"
        return (key, role)

    def _build_cells(self):
        view = self.view
        unit_id = {}
        for i, node in enumerate(view.nodes):
            if not self.shown[i]:
                continue
            unit = self._unit(i)
            if unit not in unit_id:
                if isinstance(unit, tuple) or unit == "loss":
                    kind = "unit"
                else:
                    kind = "input" if node.op is None else "tensor"
                item = self._add_item(Item(f"u{i}", self.key(i), kind, [], node))
                unit_id[unit] = item.id
            item = self._items[unit_id[unit]]
            item.members.append(i)
        for item in self.nodes:
            item.states = self._states(item, unit_id)
            lead = item.states[0] if item.states else item.members[-1]
            item.norm = self.node_norm[lead]
            if item.kind == "tensor" and item.node.label is None:
                item.text = _op_text(item.node, self.is_const, view.index)

        def id_of(j):
            return unit_id[self._unit(j)]

        for i, node in enumerate(view.nodes):
            if not self.shown[i]:
                continue
            for k, inp in enumerate(node.inputs):
                j = view.index[inp]
                if self.is_param[j] or self.is_const[j]:
                    continue
                if not self.visible[j]:
                    if self.t[j] is not None:
                        self._add_edge(self._marker_id(j), id_of(i), [(i, k)], "elided")
                    continue
                if id_of(j) == id_of(i):
                    continue
                kind = self.edge_kind(j, i)
                self.has_recurrent |= kind in ("recurrent", "initial")
                self._add_edge(id_of(j), id_of(i), [(i, k)], kind)
        self._edges_to_hidden(id_of)

    def _states(self, item, unit_id):
        """A cell box's states: h_t, c_t and labelled results read outside the box (or by
        nobody), h first."""
        if len(item.members) == 1:
            return list(item.members)
        states = []
        for i in item.members:
            node = self.view.nodes[i]
            if node.label is None or node.op is None:
                continue
            readers = self.view.consumers[i]
            named = re.fullmatch(r"[hc]_\d+", node.label) is not None
            if (
                named
                or not readers
                or any(unit_id.get(self._unit(c)) != item.id for c, _ in readers)
            ):
                states.append(i)
        states.sort(key=lambda i: not self.view.nodes[i].label.startswith("h"))
        return states

    # ----- windows ------------------------------------------------------------------------------
    def _marker_id(self, j):
        t = self.t[j]
        return "elided_after" if t is not None and t > self.window[1] else "elided_before"

    def _add_markers(self):
        a, b, first, last = self.window
        hidden = [i for i, v in enumerate(self.visible) if not v]
        used = {e.tail for e in self.edges} | {e.head for e in self.edges}
        for name, lo, hi in (("elided_before", first, a - 1), ("elided_after", b + 1, last)):
            if lo > hi and name not in used:
                continue
            count = sum(1 for i in hidden if self.t[i] is not None and lo <= self.t[i] <= hi)
            # inside the first (last) step drawn, which keeps it on the left (right)
            key = (a,) if name == "elided_before" else (b,)
            item = self._add_item(Item(name, key, "marker", [], None))
            span = f"t = {lo}" if lo == hi else f"t = {lo}..{hi}"
            item.text = f"... {span} not drawn ({count} nodes)" if lo <= hi else "... not drawn"


def _op_text(node, is_const, index):
    """An op's display text: '+', 'tanh', '[:, 0:3]', with constant operands written in."""
    op = node.op
    name = op.name
    params = op.params()
    if name == "getitem":
        return f"[{params.get('index', '')}]"
    symbol = _SYMBOLS.get(name)
    consts = [
        (k, inp) for k, inp in enumerate(node.inputs) if is_const[index[inp]] and inp.op is None
    ]
    if symbol is not None and len(node.inputs) == 2 and len(consts) == 1 and consts[0][1].size == 1:
        k, c = consts[0]
        value = np.format_float_positional(float(c.data), precision=4, trim="-")
        return f"{value} {symbol}" if k == 0 else f"{symbol} {value}"
    text = symbol or name
    if params:
        text += "(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"
    return text


_SYMBOLS = {"add": "+", "sub": "\u2212", "mul": "\u00d7", "div": "/", "sigmoid": "\u03c3"}
