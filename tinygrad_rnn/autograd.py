"""Reverse mode: topological order, backward, the step generator, grad(), jacobian(), modes.

One loop does all the work: `_walk` visits the nodes in reverse topological order, gives
each its complete gradient (the sum over all its consumers), runs hooks and the op's
backward rule, and sends the results along the input edges. `backward()` exhausts it,
`backward_steps()` hands its steps to a debugger, `grad()` runs it without touching `.grad`.
"""

import contextlib

import numpy as np

from ._context import state
from .ops import AnomalyError, SliceGrad
from .tensor import Tensor

# ----- graph order ----------------------------------------------------------------------


def topo_order(roots):
    """Nodes that require grad, each after all of its inputs (explicit stack, no recursion)."""
    order = []
    visited = set()
    stack = [(r, False) for r in reversed(roots) if r.requires_grad]
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
            if inp.requires_grad and inp not in visited:
                stack.append((inp, False))
    return order


# ----- the walk ----------------------------------------------------------------------------


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
        return [_dense(g, inp) for g, inp in zip(self._edges, self.node.inputs)]

    def __str__(self):
        node = self.node
        text = f"step {self.index}/{self.total}  "
        if node.op is None:
            text += f"leaf {_quoted(node)}"
        else:
            # an unlabelled node shows as its op alone: `mul`, not `mul <mul>`
            text += node.op.name if node.label is None else f"{node.op.name} '{node.label}'"
        where = format_tags(node.tags)
        if where:
            text += f" ({where})"
        text += f"  |grad|={_norm_text(self.grad)}"
        if self._edges is not None:
            parts = []
            for inp, g in zip(node.inputs, self.input_grads):
                if g is not None and inp.requires_grad:
                    parts.append(f"{_quoted(inp)} {_norm_text(g)}")
            if parts:
                text += "  -> " + ", ".join(parts)
        return text

    __repr__ = __str__


def _accumulate(grads, owned, node, g):
    """grads[node] += g without ever writing into an array somebody else holds.

    A first dense gradient is kept by reference (no copy); a second one makes a fresh sum
    that this walk owns, and later ones are added into it in place.
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


def _walk(roots, root_grads, write=True, targets=None):
    """Yield (index, total, node, grad, edges) for each node in reverse topological order.

    write=True stores `node.grad` (leaves accumulate, others are reset) and edge gradients;
    write=False leaves the graph untouched and only visits nodes that lead to `targets`.
    """
    order = topo_order(roots)
    if targets is not None:
        relevant = set(targets)
        for node in order:
            if node not in relevant:
                for inp in node.inputs:
                    if inp in relevant:
                        relevant.add(node)
                        break
        order = [n for n in order if n in relevant]
    if write:
        for node in order:
            if node.op is not None:
                node.grad = None
                node._edges = None
    grads, owned = {}, set()
    for root, g in zip(roots, root_grads):
        if root.requires_grad:
            _accumulate(grads, owned, root, g)
    anomaly = state.anomaly
    if anomaly:
        for root in roots:
            _check_backward(grads.get(root), root, "the gradient given to backward()")
    total = len(order)
    for i in range(total - 1, -1, -1):
        node = order[i]
        g = grads.pop(node, None)
        if g is None:
            continue
        if anomaly:
            # every edge was checked when it was sent, so a bad sum here is an overflow
            _check_backward(g, node, "the sum of its consumers' (finite) gradients", total - i)
        fresh = node in owned
        if node._hooks:
            for handle in list(node._hooks):
                replaced = handle.fn(g)
                if replaced is not None:
                    g = _replacement(replaced, node)
                    fresh = False
                    if anomaly:
                        _check_backward(g, node, "a hook's replacement gradient", total - i)
        if node.op is None:
            if write:
                dtype = node.data.dtype
                if node.grad is None:
                    # the leaf keeps its own array, in its own dtype (float32 stays float32)
                    fresh = fresh and g.dtype == dtype
                    node.grad = g if fresh else np.array(g, dtype=dtype)
                else:
                    # a new array (whoever holds the old .grad keeps it); `out=` keeps a 0-d
                    # gradient an array and the leaf's dtype
                    node.grad = np.add(node.grad, g, out=np.empty(node.shape, dtype=dtype))
            yield total - i, total, node, g, None
            continue
        if write:
            node.grad = g
        edges = node.op.backward(g)
        if anomaly:
            _check_edges(edges, node, total - i, total)
        if write:
            node._edges = edges
        for inp, eg in zip(node.inputs, edges):
            if eg is not None and inp.requires_grad and (targets is None or inp in relevant):
                _accumulate(grads, owned, inp, eg)
        yield total - i, total, node, g, edges


def _replacement(replaced, node):
    if isinstance(replaced, Tensor):
        replaced = replaced.data
    replaced = np.asarray(replaced, dtype=node.data.dtype)
    if replaced.shape != node.shape:
        raise ValueError(
            f"hook on {_quoted(node)} returned a gradient of shape {replaced.shape}, "
            f"expected {node.shape}"
        )
    return replaced


def _root_grads(outputs, grad_outputs, caller):
    if isinstance(outputs, Tensor):
        outputs = [outputs]
        grad_outputs = [grad_outputs]
    elif grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    result = []
    for out, g in zip(outputs, grad_outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"{caller}: expected a Tensor, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(
                f"{caller}: {_quoted(out)} does not require grad "
                "(no tensor with requires_grad=True leads to it)"
            )
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"{caller}: a gradient can be implied only for a scalar output; "
                    f"{_quoted(out)} has shape {out.shape}: pass grad=..."
                )
            g = np.ones(out.shape, dtype=out.data.dtype)
        else:
            g = np.asarray(g.data if isinstance(g, Tensor) else g, dtype=out.data.dtype)
            if g.shape != out.shape:
                raise ValueError(
                    f"{caller}: grad has shape {g.shape} but {_quoted(out)} has shape {out.shape}"
                )
        result.append(g)
    return list(outputs), result


def backward(root, grad=None):
    """Fill `.grad` of every node on a path to `root` with d(root)/d(node).

    Leaves accumulate across calls (call `zero_grad()` between steps, as in PyTorch);
    every other node's gradient is reset at the start of each call.
    """
    roots, grads = _root_grads(root, grad, "backward")
    for _ in _walk(roots, grads):
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
    if stop is not None:
        from .breakpoints import stop_rule

        stop = stop_rule(stop, roots)
    for index, total, node, g, edges in _walk(roots, grads):
        step = Step(index, total, node, g, edges)
        if stop is None or stop(step):
            yield step


def grad(outputs, inputs, grad_outputs=None):
    """d(outputs)/d(inputs) as arrays, without touching any `.grad`.

    `inputs` may be leaves or intermediate nodes (for example `h_k` of an unrolled RNN);
    an input that the outputs do not depend on gets zeros.
    """
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
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
    if node._edges is None:
        return [None] * len(node.inputs)
    return [_dense(g, inp) for g, inp in zip(node._edges, node.inputs)]


def _dense(g, like):
    if type(g) is SliceGrad:
        return g.dense(like.data.dtype)
    if g is not None and g.shape != like.shape:
        return np.broadcast_to(g, like.shape)
    return g


# ----- modes -------------------------------------------------------------------------------


@contextlib.contextmanager
def no_grad():
    """Build no graph inside: results are leaves that do not require grad."""
    previous = state.grad_enabled
    state.grad_enabled = False
    try:
        yield
    finally:
        state.grad_enabled = previous


@contextlib.contextmanager
def enable_grad():
    previous = state.grad_enabled
    state.grad_enabled = True
    try:
        yield
    finally:
        state.grad_enabled = previous


@contextlib.contextmanager
def scope(**tags):
    """Tag every node created inside: `with scope(t=3, layer=0): ...` (nests, inner wins)."""
    previous = state.tags
    state.tags = {**previous, **tags}
    try:
        yield
    finally:
        state.tags = previous


@contextlib.contextmanager
def detect_anomaly(check_inf=True):
    """Raise `AnomalyError` at the first NaN (and Inf, unless check_inf=False) in forward or
    backward, naming the op, the node's label and tags, its input shapes, and where the
    non-finite value was born."""
    previous = (state.anomaly, state.anomaly_check_inf)
    state.anomaly, state.anomaly_check_inf = True, check_inf
    try:
        yield
    finally:
        state.anomaly, state.anomaly_check_inf = previous


def _bad(a):
    if a is None:
        return False
    if type(a) is SliceGrad:
        a = a.value
    if a.dtype.kind not in "fc":
        return False
    if state.anomaly_check_inf:
        return not np.isfinite(a).all()
    return bool(np.isnan(a).any())


def _what(a):
    if type(a) is SliceGrad:
        a = a.value
    kinds = []
    if np.isnan(a).any():
        kinds.append("nan")
    if np.isinf(a).any():
        kinds.append("inf")
    return "/".join(kinds)


def _where(node):
    text = _quoted(node)
    tags = format_tags(node.tags)
    return f"{text} ({tags})" if tags else text


def check_forward(out, op_name, inputs):
    """Called by `Op.apply` in anomaly mode, right after the forward of `op_name`.

    The node has no label yet (`.named()` runs after the op), so the message names the
    op, the tags of the scope it runs in (time step, layer) and the line that built it.
    """
    if not _bad(out.data):
        return
    lines = [
        f"detect_anomaly: forward of {op_name} at {_where(out)} produced {_what(out.data)} "
        f"({_count_bad(out.data)})",
        "  input shapes: " + ", ".join(str(t.shape) for t in inputs),
    ]
    origin = out
    if any(_bad(t.data) for t in inputs):
        origin = _forward_origin(inputs)
        lines.append(f"  origin: {_describe_origin(origin)}; an input here was already non-finite")
    else:
        clean = "finite" if state.anomaly_check_inf else "free of nan"
        lines.append(f"  origin: this op (its inputs are {clean})")
    lines += _rule(out.op) + _caller()
    raise AnomalyError("\n".join(lines), node=origin, phase="forward")


def _rule(op):
    """The op's formula and derivative, from the first line of its docstring."""
    doc = (type(op).__doc__ or "").strip().splitlines() if op is not None else []
    return [f"  rule: {doc[0]}"] if doc else []


def _count_bad(a):
    return f"{int(np.size(a) - np.isfinite(a).sum())} of {np.size(a)} values"


def _caller():
    """`built at: file:line `source`` lines naming the code that built the node.

    Inside the library (a layer), the line that goes on to `.named()` the node says what it
    will be, so that line is preferred; the first frame outside the library follows as
    `called from`.
    """
    import linecache
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__))
    engine = {os.path.join(package, f) for f in ("ops.py", "tensor.py", "autograd.py")}
    inside = []
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if path not in engine:
            source = linecache.getline(path, frame.f_lineno).strip()
            relative = os.path.relpath(path)
            where = f"{path if relative.startswith('..') else relative}:{frame.f_lineno} `{source}`"
            if not path.startswith(package):
                if not inside:
                    return [f"  built at: {where}"]
                named = [w for w, src in inside if ".named(" in src] or [inside[0][0]]
                return [f"  built at: {named[0]}", f"  called from: {where}"]
            inside.append((where, source))
        frame = frame.f_back
    return [f"  built at: {inside[0][0]}"] if inside else []


def _forward_origin(inputs):
    """The first node upstream whose output is non-finite while all its inputs are finite."""
    stack = [t for t in inputs if _bad(t.data)]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        bad_inputs = [t for t in node.inputs if _bad(t.data)]
        if not bad_inputs:
            return node
        stack.extend(bad_inputs)
    return inputs[0]


def _describe_origin(node):
    if node.op is None:
        return f"the leaf {_where(node)} (its data is non-finite)"
    shapes = ", ".join(str(t.shape) for t in node.inputs)
    return f"{node.op.name} {_where(node)} (input shapes {shapes})"


def _check_edges(edges, node, index, total):
    for k, (inp, eg) in enumerate(zip(node.inputs, edges)):
        if inp.requires_grad and _bad(eg):
            lines = [
                f"detect_anomaly: backward of {node.op.name} at {_where(node)} produced "
                f"{_what(eg)} in the gradient for input {k} {_quoted(inp)}",
                f"  backward step: {index} of {total}",
                "  input shapes: " + ", ".join(str(t.shape) for t in node.inputs),
                "  origin: this op's backward rule (the gradient it received is finite)",
                *_rule(node.op),
            ]
            # e.g. check_inf=False let an inf through the forward, and inf * 0 is nan here
            seen = [t for t in (node, *node.inputs) if not np.isfinite(t.data).all()]
            if seen:
                found = ", ".join(f"{_quoted(t)} has {_what(t.data)}" for t in seen)
                lines.append(f"  forward values already non-finite: {found}")
            raise AnomalyError("\n".join(lines), node=node, phase="backward")


def _check_backward(g, node, what, index=None):
    if g is not None and _bad(g):
        lines = [f"detect_anomaly: {what} for {_where(node)} contains {_what(g)}"]
        if index is not None:
            lines.append(f"  backward step: {index}")
        lines.append("  origin: here")
        raise AnomalyError("\n".join(lines), node=node, phase="backward")


# ----- display -----------------------------------------------------------------------------


_TAG_ORDER = ("t", "layer", "direction", "cell", "role")


def _ordered_tags(tags):
    """(key, value) pairs with the time step first, whatever order the scopes nested in."""
    known = [(k, tags[k]) for k in _TAG_ORDER if k in tags]
    return known + [(k, v) for k, v in tags.items() if k not in _TAG_ORDER]


def format_tags(tags):
    """`t=2, layer 0, reverse, output` text for a node's tags (empty when untagged).

    The forward direction and the cell type are left out: they are the usual case and the
    op names already say which cell it is.
    """
    parts = []
    for key, value in _ordered_tags(tags):
        if key == "cell" or (key == "direction" and value == "forward"):
            continue
        if key == "t":
            parts.append(f"t={value}")
        elif key == "layer":
            parts.append(f"layer {value}")
        elif key in ("direction", "role"):
            parts.append(str(value))
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def _quoted(node):
    if node.label is not None:
        return f"'{node.label}'"
    if node.op is not None:
        return f"<{node.op.name}>"
    return f"<leaf {tuple(node.shape)}>"


def _norm_text(g):
    if g is None:
        return "-"
    if type(g) is SliceGrad:
        g = g.value
    return f"{float(np.sqrt(np.sum(np.square(g)))):.3g}"


def describe(node):
    """The repr: label, op, shape, tags, |grad| and a few values, on one line."""
    parts = []
    if node.label is not None:
        parts.append(repr(node.label))
    data = node.data
    if data.ndim == 0:
        parts.append(
            np.format_float_positional(data.item(), precision=6, trim="-")
            if data.dtype.kind == "f"
            else str(data.item())
        )
    if node.op is not None:
        parts.append(f"op={node.op.name}")
    if data.ndim:
        parts.append(f"shape={tuple(data.shape)}")
    if data.dtype != np.float64:
        parts.append(f"dtype={data.dtype}")
    tags = ", ".join(f"{k}={v}" for k, v in _ordered_tags(node.tags))
    if tags:
        parts.append(tags)
    if node.requires_grad and node.op is None:
        parts.append("requires_grad=True")
    if node.grad is not None:
        parts.append(f"|grad|={_norm_text(node.grad)}")
    if data.ndim:
        flat = data.ravel()
        shown = ", ".join(f"{v:.4g}" for v in flat[:4])
        parts.append(f"data=[{shown}{', ...' if flat.size > 4 else ''}]")
    return f"Tensor({', '.join(parts)})"
