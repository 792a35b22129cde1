"""Global, process-wide switches read by every op: grad mode, scope tags, anomaly mode.

Kept in one tiny module, with the context managers that flip them (`no_grad`, `scope`;
`detect_anomaly` is in anomaly.py), so that `ops.py` (which builds nodes) and `autograd.py`
can both import it without importing each other.
"""

import contextlib
import itertools


class _State:
    __slots__ = ("grad_enabled", "tags", "anomaly", "anomaly_check_inf", "writes", "changing")

    def __init__(self):
        self.grad_enabled = True
        # Every node created while a scope is active shares this dict (read-only by
        # convention); a new dict is made on every scope entry, never mutated afterwards.
        self.tags = {}
        self.anomaly = False
        self.anomaly_check_inf = True
        # data changes so far (versions.py): while 0, backward skips the version checks
        self.writes = 0
        self.changing = None  # what is changing data now ("SGD.step()"), for messages


state = _State()
# every node takes the next number when it is made (Tensor.seq): sorting by it replays the
# forward pass in the order it ran; one integer per node, never reset
next_seq = itertools.count().__next__


def no_grad():
    """Build no graph inside: results are leaves that do not require grad."""
    return _grad_mode(False)


def enable_grad():
    """Build the graph again inside a `no_grad()` block."""
    return _grad_mode(True)


@contextlib.contextmanager
def _grad_mode(enabled):
    previous = state.grad_enabled
    state.grad_enabled = enabled
    try:
        yield
    finally:
        state.grad_enabled = previous


class scope:
    """Tag every node created inside: `with scope(t=3, layer=0): ...` (nests, inner wins).

    A small class rather than a generator-based context manager: a recurrent layer enters
    one per time step, and this costs a third of what `contextlib` does.
    """

    __slots__ = ("tags", "previous")

    def __init__(self, **tags):
        self.tags = tags
        self.previous = None

    def __enter__(self):
        self.previous = state.tags
        state.tags = {**self.previous, **self.tags}

    def __exit__(self, *exc):
        state.tags = self.previous
        return False
