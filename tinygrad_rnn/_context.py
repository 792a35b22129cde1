"""Global, process-wide switches read by every op: grad mode, scope tags, anomaly mode.

Kept in one tiny module so that `ops.py` (which builds nodes) and `autograd.py` (which
flips the switches) can both import it without importing each other.
"""


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
