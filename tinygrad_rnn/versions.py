"""Saved-tensor versions: data changed after the forward pass is an error, not a wrong gradient.

Every tensor counts the changes to its data (`_version`): assigning `.data`, an in-place
method (`zero_`, `fill_`, `copy_`, `add_`, `mul_`) or an optimizer step. When `Op.apply`
builds a node whose backward reads its inputs (mul reads both factors, add reads neither)
it records their versions; the backward walk compares them before it runs the op's rule.
Training code that steps the optimizer and then calls backward on the old graph gets
torch's "modified by an inplace operation" error, naming the op and the tensor.
"""

import contextlib

import numpy as np

from .display import quoted, where
from .modes import state


@contextlib.contextmanager
def changing(what):
    """Name what changes data inside (`SGD.step()`), for the error message."""
    previous, state.changing = state.changing, what
    try:
        yield
    finally:
        state.changing = previous


def bump(tensor, what=None):
    """Record one change to `tensor`'s data."""
    tensor._version += 1
    tensor._changed_by = what or state.changing or "an assignment to .data"
    state.writes += 1


def check_saved(node):
    """Raise if an input (or the output) this node's backward reads has changed since."""
    op = node.op
    if op.saves_inputs:
        for k, (t, saved) in enumerate(zip(node.inputs, op.versions)):
            if t._version != saved:
                raise _modified(f"{op.name} at {where(node)}", t, f"input {k}", saved)
    if op.saves_output and node._version:
        raise _modified(f"{op.name} at {where(node)}", node, "output", 0)


def check_read(what, saved):
    """Raise if a tensor a fused backward (`what`) reads changed since: [(tensor, version)]."""
    for t, version in saved:
        if t._version != version:
            raise _modified(what, t, "input", version)


def _modified(what, t, role, saved):
    return RuntimeError(
        f"backward of {what}: its {role} {where(t)} {tuple(t.shape)} "
        f"was saved at version {saved} and is now at version {t._version}: "
        f"{t._changed_by} changed it after the forward pass (one of the variables needed for "
        "gradient computation has been modified by an inplace operation). Run the forward "
        "pass again after changing it, or change a copy."
    )


# ----- in-place methods (torch's trailing underscore) ------------------------------------------
def _inplace(t, name, change):
    if t.requires_grad and state.grad_enabled:
        raise RuntimeError(
            f"{name}: {quoted(t)} requires grad, so an in-place change would corrupt its "
            "gradient; do it under no_grad() (as an optimizer step does) or use the "
            "out-of-place op"
        )
    if t._group is not None:  # a fused layer's member: values that read it are made first
        t._group[0].before_change()
    change(t._data)
    bump(t, f"{name}()")
    return t


def _value(other):
    return other._data if hasattr(other, "_data") else np.asarray(other)


def zero_(t):
    """Set every element to 0 in place."""
    return _inplace(t, "zero_", lambda a: a.fill(0))


def fill_(t, value):
    """Set every element to `value` in place."""
    return _inplace(t, "fill_", lambda a: a.fill(_value(value)))


def copy_(t, src):
    """Copy `src` (broadcast to t's shape) into t in place."""
    return _inplace(t, "copy_", lambda a: np.copyto(a, _value(src), casting="same_kind"))


def add_(t, other, alpha=1):
    """t += alpha * other, in place."""
    return _inplace(
        t, "add_", lambda a: np.add(a, alpha * _value(other), out=a, casting="same_kind")
    )


def mul_(t, other):
    """t *= other, in place."""
    return _inplace(t, "mul_", lambda a: np.multiply(a, _value(other), out=a, casting="same_kind"))
