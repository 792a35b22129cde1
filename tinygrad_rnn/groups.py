"""Node groups: many nodes whose backward runs as one vectorised pass, and stays readable.

A recurrent layer can compute a whole step, and the whole backward through time, in a few
numpy calls; the glass box still needs every per-gate node. A `Group` is the layer's side
of that bargain. Its member nodes are ordinary nodes (same op, inputs, label and tags as the
per-node graph; their data are views into the group's buffers), each marked with
`node._group = (group, k, role)` (k: the step, in processing order; role: the index of a state
node in the step's state tuple, -1 for every other member). Nothing refers back from the
group to its members (no reference cycle); it holds only its buffers, its external inputs
and weak references to each step's state nodes.

`backward()` walks a graph in which each group stands for all its members (`backward_order`):
the group runs once its external consumers are done, reading their gradients from the walk
and sending one gradient to each external input. A member's `.grad` and edge gradients are
then computed on first read (`materialise`), by the members' own backward rules, one step at
a time. Whenever fusing would change what a reader sees, the walk falls back to the
per-node order: hooks on a member, anomaly mode, `backward_steps()` and `grad()` never fuse,
nor does a second backward through the same graph, nor a graph that reaches the group other
than through its states (`Group.can_fuse`).
"""

import weakref


class Group:
    """Base class of a fused layer: `inputs` (external), `bptt_pass(...)` and step materialising.

    Subclasses fill `self.inputs`, `self.states[k]` (weak references to step k's state
    nodes) and implement `bptt_pass(entered_grads)` and `seeds(k)`.
    """

    is_group = True
    requires_grad = True
    op = None

    def __init__(self):
        self.inputs = ()
        self.states = []  # [k] -> tuple of weakref.ref to the state nodes (h_k, c_k)
        self.entered = {}  # member -> True: reached from outside the group in this walk
        self.used = False  # members may hold gradients of an earlier pass
        self.done = False  # the last pass was fused: members materialise on read
        self.hooked = False
        self.accumulate = None  # the walk's way of summing gradients, kept for `materialise`

    def can_fuse(self):
        """Fused only when the group is entered through its states, and its last state is.

        The last state depends on every member, so every member is on a path to the root
        and gets a gradient, as in the per-node walk.
        """
        if self.hooked or not self.states:
            return False
        for member in self.entered:
            if member._group[2] < 0:  # not a state: a gate, a product...
                return False
        return self.states[-1][0]() in self.entered

    def backward(self, grads, owned, accumulate):
        """Run the fused pass: gradients of the entered states in, external edges out."""
        entered = {m: grads.pop(m, None) for m in self.entered}
        for m in entered:
            owned.discard(m)
        self.entered = {}
        if self.used:  # a second pass through this graph: forget the first one's gradients
            self.done = False
            for k in range(len(self.states)):
                for node in _step_order([ref() for ref in self.states[k]], self, k):
                    node._grad = node._edge_grads = None
        self.used = True
        self.accumulate = accumulate
        self.check_versions()
        for inp, g in self.bptt_pass(entered):
            if g is not None and inp.requires_grad:
                accumulate(grads, owned, inp, g)
        self.done = True

    def forget(self):
        """A per-node pass resets the members: the fused results no longer describe them."""
        self.done = False
        self.used = True

    def materialise(self, k):
        """Give every member of step k its `.grad` and edges, by the members' own rules."""
        if not self.done:
            return
        accumulate = self.accumulate
        roots = [ref() for ref in self.states[k]]
        if any(r is None for r in roots):
            return
        grads, owned = {}, set()
        for root, seed in zip(roots, self.seeds(k)):
            grads[root] = seed
        for node in reversed(_step_order(roots, self, k)):
            g = grads.pop(node, None)
            if g is None:
                continue
            node._grad = g
            node._edge_grads = edges = node.op.backward(g)
            for inp, eg in zip(node.inputs, edges):
                member = inp._group
                if eg is not None and member is not None and member[0] is self and member[1] == k:
                    accumulate(grads, owned, inp, eg)

    def before_change(self):
        """A member's data is about to change in place: compute now whatever lazy value
        would read it later, so that every value stays what the forward pass made."""

    def check_versions(self):
        """Raise, as the per-node walk would, if data the fused pass reads has changed."""

    def bptt_pass(self, entered):
        """Backward through time of every step at once: yields (external input, gradient)."""
        raise NotImplementedError

    def seeds(self, k):
        raise NotImplementedError


def _step_order(roots, group, k):
    """The members of step k, each after its inputs (explicit stack)."""
    order, visited = [], set()
    stack = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for inp in node.inputs:
            member = inp._group
            if member is not None and member[0] is group and member[1] == k:
                stack.append((inp, False))
    return order


def state_refs(*nodes):
    return tuple(map(weakref.ref, nodes))


def backward_order(roots):
    """A topological order in which each group stands for its members, or None.

    None when a group must not fuse (see `Group.can_fuse`): the caller then walks node by
    node. A graph without groups gets its plain topological order (`topo_order`'s).
    """
    order, visited, found = [], set(), {}
    stack = []
    for r in reversed(roots):
        if r.requires_grad:
            stack.append((_enter(r, found), False))
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for inp in node.inputs:
            if inp.requires_grad:
                if inp._group is not None:  # (tested here: most nodes are not members)
                    inp = _enter(inp, found)
                if inp not in visited:
                    stack.append((inp, False))
    if all(g.can_fuse() for g in found):
        return order
    for g in found:
        g.entered = {}
    return None


def _enter(node, found):
    member = node._group
    if member is None:
        return node
    group = member[0]
    if group not in found:
        found[group] = True
        group.entered = {}
    group.entered[node] = True
    return group


def replay(order, fused_walk):
    """A fused backward's results handed out node by node, in the per-node walk's order.

    `backward_steps()` over a fused layer runs the fused pass first, then takes back what it
    wrote and gives it out again one step at a time (each node's gradient and edges appear
    at its step, none before), so exhausting the steps leaves exactly what `backward()`
    leaves. Yields (index, total, node, grad, edges) like the walk.
    """
    before = {n: n._grad for n in order if n.op is None}
    got = {node: (g, edges) for _, _, node, g, edges in fused_walk}
    for node in order:
        if node._group is not None and node not in got:
            got[node] = (node.grad, node._edges)  # reading .grad materialises the member
    after = {}
    for node in order:
        if node.op is None:
            after[node], node._grad = node._grad, before[node]
        else:
            node._grad = node._edge_grads = None
            if node._group is not None:
                node._group[0].forget()
    total = len(order)
    for i in range(total - 1, -1, -1):
        node = order[i]
        if node not in got:
            continue
        g, edges = got[node]
        if node.op is None:
            node._grad = after[node]
        else:
            node._grad, node._edge_grads = g, edges
        yield total - i, total, node, g, edges
