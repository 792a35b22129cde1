"""detect_anomaly: stop at the first NaN or Inf and say where it was born.

In anomaly mode `Op.apply` calls `check_forward` after every forward, and the backward walk
calls `check_edges` on what each backward rule sends and `check_gradient` on every sum and
hook result. Each raises `AnomalyError` naming the op, the node's label and tags, its input
shapes, the op's rule (the first line of its docstring) and the line of code that built it.
"""

import contextlib

import numpy as np

from .display import quoted, where
from .modes import state

SUM = "the sum of its consumers' (finite) gradients"  # what the walk checks at each node


class AnomalyError(RuntimeError):
    """A non-finite value found by `detect_anomaly()`; `.node` is where it was born."""

    def __init__(self, message, node=None, phase="forward"):
        super().__init__(message)
        self.node = node
        self.phase = phase


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


def _array(a):
    # a getitem's gradient travels as a SliceGrad: the part it carries is its `.value`
    return getattr(a, "value", a)


def is_bad(a):
    """True when `a` holds a NaN (or an Inf, unless the mode was entered with check_inf=False)."""
    if a is None:
        return False
    a = _array(a)
    if a.dtype.kind not in "fc":
        return False
    if state.anomaly_check_inf:
        return not np.isfinite(a).all()
    return bool(np.isnan(a).any())


def _what(a):
    a = _array(a)
    kinds = []
    if np.isnan(a).any():
        kinds.append("nan")
    if np.isinf(a).any():
        kinds.append("inf")
    return "/".join(kinds)


def check_forward(out, op_name, inputs):
    """Called by `Op.apply` in anomaly mode, right after the forward of `op_name`.

    The node has no label yet (`.named()` runs after the op), so the message names the
    op, the tags of the scope it runs in (time step, layer) and the line that built it.
    """
    if not is_bad(out.data):
        return
    lines = [
        f"detect_anomaly: forward of {op_name} at {where(out)} produced {_what(out.data)} "
        f"({_count_bad(out.data)})",
        "  input shapes: " + ", ".join(str(t.shape) for t in inputs),
    ]
    origin = out
    if any(is_bad(t.data) for t in inputs):
        origin = _forward_origin(inputs)
        lines.append(f"  origin: {_describe_origin(origin)}; an input here was already non-finite")
    else:
        clean = "finite" if state.anomaly_check_inf else "free of nan"
        lines.append(f"  origin: this op (its inputs are {clean})")
    lines += _rule(out.op) + _caller()
    raise AnomalyError("\n".join(lines), node=origin, phase="forward")


def check_edges(edges, node, index, total):
    """Called by the walk after `node`'s backward rule sent `edges` (one per input)."""
    for k, (inp, eg) in enumerate(zip(node.inputs, edges)):
        if inp.requires_grad and is_bad(eg):
            lines = [
                f"detect_anomaly: backward of {node.op.name} at {where(node)} produced "
                f"{_what(eg)} in the gradient for input {k} {quoted(inp)}",
                f"  backward step: {index} of {total}",
                "  input shapes: " + ", ".join(str(t.shape) for t in node.inputs),
                "  origin: this op's backward rule (the gradient it received is finite)",
                *_rule(node.op),
            ]
            # e.g. check_inf=False let an inf through the forward, and inf * 0 is nan here
            seen = [t for t in (node, *node.inputs) if not np.isfinite(t.data).all()]
            if seen:
                found = ", ".join(f"{quoted(t)} has {_what(t.data)}" for t in seen)
                lines.append(f"  forward values already non-finite: {found}")
            raise AnomalyError("\n".join(lines), node=node, phase="backward")


def check_gradient(g, node, what, index=None):
    """Called by the walk on a gradient it did not get from a rule: a root's, a sum, a hook's."""
    if g is not None and is_bad(g):
        lines = [f"detect_anomaly: {what} for {where(node)} contains {_what(g)}"]
        if index is not None:
            lines.append(f"  backward step: {index}")
        lines.append("  origin: here")
        raise AnomalyError("\n".join(lines), node=node, phase="backward")


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
    engine = {
        os.path.join(package, f) for f in ("ops.py", "tensor.py", "autograd.py", "anomaly.py")
    }
    inside = []
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if path not in engine:
            source = linecache.getline(path, frame.f_lineno).strip()
            relative = os.path.relpath(path)
            at = f"{path if relative.startswith('..') else relative}:{frame.f_lineno} `{source}`"
            if not path.startswith(package):
                if not inside:
                    return [f"  built at: {at}"]
                named = [w for w, src in inside if ".named(" in src] or [inside[0][0]]
                return [f"  built at: {named[0]}", f"  called from: {at}"]
            inside.append((at, source))
        frame = frame.f_back
    return [f"  built at: {inside[0][0]}"] if inside else []


def _forward_origin(inputs):
    """The first node upstream whose output is non-finite while all its inputs are finite."""
    stack = [t for t in inputs if is_bad(t.data)]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        bad_inputs = [t for t in node.inputs if is_bad(t.data)]
        if not bad_inputs:
            return node
        stack.extend(bad_inputs)
    return inputs[0]


def _describe_origin(node):
    if node.op is None:
        return f"the leaf {where(node)} (its data is non-finite)"
    shapes = ", ".join(str(t.shape) for t in node.inputs)
    return f"{node.op.name} {where(node)} (input shapes {shapes})"
