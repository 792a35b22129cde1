"""Global, process-wide switches read by every op: grad mode, scope tags, anomaly mode.

Kept in one tiny module so that `ops.py` (which builds nodes) and `autograd.py` (which
flips the switches) can both import it without importing each other.
"""


class _State:
    __slots__ = ("grad_enabled", "tags", "anomaly", "anomaly_check_inf")

    def __init__(self):
        self.grad_enabled = True
        # Every node created while a scope is active shares this dict (read-only by
        # convention); a new dict is made on every scope entry, never mutated afterwards.
        self.tags = {}
        self.anomaly = False
        self.anomaly_check_inf = True


state = _State()
