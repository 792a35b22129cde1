"""Reverse mode: topological order, backward, the step generator, grad(), jacobian(), modes.

One loop does all the work: `_walk` visits the nodes in reverse topological order, gives
each its complete gradient (the sum over all its consumers), runs hooks and the op's
backward rule, and sends the results along the input edges. `backward()` exhausts it,
`backward_steps()` hands its steps to a debugger, `grad()` runs it without touching `.grad`.
The walk's chores are named helpers below it: pruning to targets, summing gradients
without writing into arrays others hold, hooks, and how a leaf stores its gradient.
Anomaly checks live in `anomaly.py`, the words printed in `display.py`.
"""

import numpy as np

from . import anomaly, groups, versions
from .anomaly import detect_anomaly  # noqa: F401  (re-exported: tinygrad_rnn.detect_anomaly)
from .arguments import paired_outputs, tensor_list
from .display import describe, format_tags, quoted, step_text  # noqa: F401  (public names)
from .modes import enable_grad, no_grad, scope, state  # noqa: F401  (the modes, re-exported)
from .ops import SliceGrad, dense_grad
from .tensor import Tensor

# ----- graph order ----------------------------------------------------------------------


def topo_order(roots, every_node=False):
    """Nodes that require grad, each after all of its inputs (explicit stack, no recursion).

    every_node=True: every node, data and constants too, each node's inputs visited first
    to last (the order in which the pictures number the nodes they draw).
    """
    order = []
    visited = set()
    stack = [(r, False) for r in reversed(roots) if every_node or r.requires_grad]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for inp in reversed(node.inputs) if every_node else node.inputs:
            if (every_node or inp.requires_grad) and inp not in visited:
                stack.append((inp, False))
    return order


# ----- the walk ----------------------------------------------------------------------------


def _walk(roots, root_grads, write=True, targets=None, fuse=False):
    """Yield (index, total, node, grad, edges) for each node in reverse topological order.

    write=True stores `node.grad` (leaves accumulate, others are reset) and edge gradients;
    write=False leaves the graph untouched and only visits nodes that lead to `targets`.
    fuse=True lets each fused recurrent layer run as one entry (`groups.py`; yields nothing).
    """
    order, keep, grads, owned = _start(roots, root_grads, write, targets, fuse)
    check, changed = state.anomaly, state.writes  # changed: some tensor's data was changed
    total = len(order)
    for i in range(total - 1, -1, -1):
        node, index = order[i], total - i
        if node.is_group:
            node.backward(grads, owned, _accumulate)
            continue
        g = grads.pop(node, None)
        if g is None:
            continue
        if check:  # every edge was checked when it was sent: a bad sum here is an overflow
            anomaly.check_gradient(g, node, anomaly.SUM, index)
        fresh = node in owned
        if node._hooks:
            g, fresh = _run_hooks(node, g, fresh, index)
        if node.op is None:
            if write:
                _store_leaf(node, g, fresh)
            yield index, total, node, g, None
            continue
        edges = _checked_rule(node, g, index, total) if check or changed else node.op.backward(g)
        if write:
            node._grad, node._edge_grads = g, edges
        for inp, eg in zip(node.inputs, edges):
            if eg is not None and inp.requires_grad and (keep is None or inp in keep):
                _accumulate(grads, owned, inp, eg)
        yield index, total, node, g, edges


def _start(roots, root_grads, write, targets, fuse):
    """The walk's order (fused layers as single entries unless anomaly mode is on), the set
    of nodes on a path to `targets`, and the root gradients as the first sums."""
    fused = groups.backward_order(roots) if fuse and not state.anomaly else None
    order, keep = _prune(topo_order(roots) if fused is None else fused, targets)
    if write:
        _reset(order)
    grads, owned = {}, set()
    for root, g in zip(roots, root_grads):
        _accumulate(grads, owned, root, g)
    return order, keep, grads, owned


def _checked_rule(node, g, index, total):
    """The op's backward rule, after checking no tensor it saved changed since the forward
    pass (only once some tensor's data did change) and, in anomaly mode, every edge."""
    if state.writes:
        versions.check_saved(node)
    edges = node.op.backward(g)
    if state.anomaly:
        anomaly.check_edges(edges, node, index, total)
    return edges


def _prune(order, targets):
    """The order, and (with targets) only the nodes on a path to them, as a set to test edges."""
    if targets is None:
        return order, None
    keep = set(targets)
    for node in order:
        if node not in keep:
            for inp in node.inputs:
                if inp in keep:
                    keep.add(node)
                    break
    return [n for n in order if n in keep], keep


def _reset(order):
    """Non-leaf gradients and edges belong to one pass: cleared before it starts."""
    for node in order:
        if node.op is not None:
            node._grad = node._edge_grads = None
            if node._group is not None:  # this pass is per node: fused results are stale
                node._group[0].forget()


def _accumulate(grads, owned, node, g):
    """grads[node] += g without ever writing into an array somebody else holds.

    A first dense gradient is kept by reference (no copy); a second one makes a fresh sum
    that this walk owns (`owned`), and later ones are added into it in place.
    """
    current = grads.get(node)
    if type(g) is SliceGrad:
        if current is None:
            current = np.zeros(g.shape, dtype=node.data.dtype)
            grads[node] = current
            owned.add(node)
        elif node not in owned:
            current = np.array(current, dtype=node.data.dtype)
            grads[node] = current
            owned.add(node)
        g.add_into(current)
    elif current is None:
        grads[node] = g
    elif node in owned:
        current += g
    else:
        # np.asarray: numpy returns the sum of 0-d arrays as an immutable scalar, and
        # `current += g` on a scalar would rebind a local and silently drop gradients
        grads[node] = np.asarray(current + g)
        owned.add(node)


def _run_hooks(node, grad, fresh, index):
    """Call the node's hooks in order; a hook may return a replacement gradient (same shape).

    Returns (grad, fresh): a replaced gradient is the hook's array, never ours to keep.
    """
    for handle in list(node._hooks):
        replaced = handle.fn(grad)
        if replaced is None:
            continue
        if isinstance(replaced, Tensor):
            replaced = replaced.data
        replaced = np.asarray(replaced, dtype=node.data.dtype)
        if replaced.shape != node.shape:
            raise ValueError(
                f"hook on {quoted(node)} returned a gradient of shape {replaced.shape}, "
                f"expected {node.shape}"
            )
        grad, fresh = replaced, False
        if state.anomaly:
            anomaly.check_gradient(grad, node, "a hook's replacement gradient", index)
    return grad, fresh


def _store_leaf(leaf, g, fresh):
    """A leaf accumulates across passes (PyTorch semantics), in its own dtype.

    A sum the walk owns becomes `.grad` as it is; anything else is copied, because the
    array may be held elsewhere (a hook's result, another node's gradient). A second pass
    makes a new array: whoever holds the old `.grad` keeps it.
    """
    dtype = leaf.data.dtype
    if leaf._grad is None:
        leaf._grad = g if fresh and g.dtype == dtype else np.array(g, dtype=dtype)
    else:
        # `out=` keeps a 0-d gradient an array and the leaf's dtype
        leaf._grad = np.add(leaf._grad, g, out=np.empty(leaf.shape, dtype=dtype))


def _root_grads(outputs, grad_outputs, caller):
    """The roots as a list and the gradient each starts with (ones for a scalar), checked."""
    outputs, grad_outputs = paired_outputs(outputs, grad_outputs, caller)
    result = []
    for out, g in zip(outputs, grad_outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"{caller}: expected a Tensor, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(
                f"{caller}: {quoted(out)} does not require grad "
                "(no tensor with requires_grad=True leads to it)"
            )
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"{caller}: a gradient can be implied only for a scalar output; "
                    f"{quoted(out)} has shape {out.shape}: pass grad=..."
                )
            g = np.ones(out.shape, dtype=out.data.dtype)
        else:
            g = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=out.data.dtype)
            if g.shape != out.shape:
                raise ValueError(
                    f"{caller}: grad has shape {g.shape} but {quoted(out)} has shape {out.shape}"
                )
        if state.anomaly:
            anomaly.check_gradient(g, out, "the gradient given to backward()")
        result.append(g)
    return list(outputs), result


# ----- the entry points -------------------------------------------------------------------


class Step:
    """One node of the backward pass: what it received and what it passed on.

    `index` counts from 1 to `total`; `grad` is the node's complete gradient (after hooks);
    `input_grads` is aligned with `node.inputs` (None where nothing flows).
    """

    __slots__ = ("index", "total", "node", "grad", "_edges")

    def __init__(self, index, total, node, grad, edges):
        self.index = index
        self.total = total
        self.node = node
        self.grad = grad
        self._edges = edges

    @property
    def input_grads(self):
        if self._edges is None:
            return []
        return [dense_grad(g, inp) for g, inp in zip(self._edges, self.node.inputs)]

    def __str__(self):
        return step_text(self)

    __repr__ = __str__


def backward(root, grad=None):
    """Fill `.grad` of every node on a path to `root` with d(root)/d(node).

    Leaves accumulate across calls (call `zero_grad()` between steps, as in PyTorch);
    every other node's gradient is reset at the start of each call.
    """
    roots, grads = _root_grads(root, grad, "backward")
    for _ in _walk(roots, grads, fuse=True):
        pass


def backward_steps(root, grad=None, stop=None):
    """The backward pass as a generator of `Step`s, in reverse topological order.

    A step is yielded after it ran: its node's gradient is complete and has been sent
    along the input edges. With `stop` the walk still visits every node but yields only
    where `stop` matches (breakpoints): a predicate `fn(step) -> bool`, a label
    (`"h_2"`, every node so labelled), a tag spec (`"t=2"`, `"t=2 layer=1"`: the first
    step of a node carrying those tags), or a list of these (see `breakpoints.py`).
    Exhausting it leaves exactly the gradients `backward()` leaves; stopping early leaves
    the nodes not yet visited without a gradient.
    """
    roots, grads = _root_grads(root, grad, "backward_steps")
    order = topo_order(roots)
    if stop is not None:
        from .analysis.breakpoints import stop_rule

        stop = stop_rule(stop, order)  # checked now, not at the first next()
    return _steps(roots, grads, stop, order)


def _steps(roots, grads, stop, order):
    fused = None if state.anomaly else groups.backward_order(roots)
    if fused is None or not any(node.is_group for node in fused):
        walk = _walk(roots, grads)
    else:  # a fused layer: backward()'s own numbers, handed out node by node
        walk = groups.replay(order, _walk(roots, grads, fuse=True))
    for index, total, node, g, edges in walk:
        step = Step(index, total, node, g, edges)
        if stop is None or stop(step):
            yield step


def grad(outputs, inputs, grad_outputs=None):
    """d(outputs)/d(inputs) as arrays, without touching any `.grad`.

    `inputs` may be leaves or intermediate nodes (for example `h_k` of an unrolled RNN);
    an input that the outputs do not depend on gets zeros.
    """
    single = isinstance(inputs, Tensor)
    inputs = tensor_list(inputs, "grad")
    roots, root_grads = _root_grads(outputs, grad_outputs, "grad")
    wanted = set(inputs)
    found = {}
    for _, _, node, g, _ in _walk(roots, root_grads, write=False, targets=inputs):
        if node in wanted:
            found[node] = g
    result = []
    for x in inputs:
        g = found.get(x)
        result.append(np.zeros_like(x.data) if g is None else np.array(g))
    return result[0] if single else result


def jacobian(y, x):
    """dy/dx as an array of shape y.shape + x.shape, one vector-Jacobian product per row."""
    out = np.zeros(y.shape + x.shape, dtype=y.data.dtype)
    flat = out.reshape(y.data.size, *x.shape)
    for k in range(y.data.size):
        seed = np.zeros(y.data.size, dtype=y.data.dtype)
        seed[k] = 1.0
        flat[k] = grad(y, x, grad_outputs=seed.reshape(y.shape))
    return out


def dense_edge_grads(node):
    """What flowed along each input edge of `node` in the last backward, as full arrays."""
    if node.grad is None or node._edges is None:  # reading .grad materialises a fused node
        return [None] * len(node.inputs)
    return [dense_grad(g, inp) for g, inp in zip(node._edges, node.inputs)]
