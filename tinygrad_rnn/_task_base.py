"""The base of every task: a `Batch` of arrays and the `Task` interface (shapes, metric,
baseline, config). The tasks themselves are in `tasks.py` and `language_tasks.py`.
"""

import numpy as np


class Batch:
    """`x` input, `y` target, `mask` (True where y counts; None: everywhere), `y_in` the
    decoder input for teacher forcing (y shifted right behind a start token), or None."""

    __slots__ = ("x", "y", "mask", "y_in")

    def __init__(self, x, y, mask=None, y_in=None):
        self.x, self.y, self.mask, self.y_in = x, y, mask, y_in


class Task:
    """What every task says about itself: shapes, metric, baseline, how to rebuild it.

    `input` is "float" (x has a feature axis), "tokens" (integer ids, `vocab_in` of them)
    or "class" (one id per sequence); `output` is "float" or "classes" (`n_out` of them);
    `per_step` says whether y has a time axis. `higher_is_better` orients the metric.
    """

    name = ""
    shape = ""
    input = "float"
    output = "classes"
    per_step = True
    metric = ""
    higher_is_better = True
    shapes = ("", "")
    baseline_text = ""
    n_in = 0  # features (float input) or vocabulary size (tokens, class)
    n_out = 0  # output features (float) or classes
    _baseline = None

    def batch(self, batch_size, seed):
        raise NotImplementedError

    def config(self):
        """The constructor's arguments (JSON-safe): `make_task(**task.config())` rebuilds it."""
        raise NotImplementedError

    def score(self, prediction, batch):
        """The task metric of `prediction` (floats shaped like y, or logits (..., n_out))."""
        prediction = np.asarray(prediction)
        if self.output == "float":
            return float(np.mean((prediction - batch.y) ** 2))
        return _masked_accuracy(prediction.argmax(axis=-1), batch.y, batch.mask)

    @property
    def baseline(self):
        """The metric of the trivial predictor named by `baseline_text`."""
        if self._baseline is None:
            self._baseline = self._compute_baseline()
        return self._baseline

    def describe(self):
        return {
            "task": self.name,
            "shape": self.shape,
            "input": self.shapes[0],
            "output": self.shapes[1],
            "metric": self.metric,
            "baseline": f"{self.baseline_text}: {self.baseline:.4g}",
        }


def _masked_accuracy(predicted, target, mask):
    hits = predicted == target
    if mask is None:
        return float(hits.mean())
    return float(hits[mask].mean())


def _check_length(task, length, minimum):
    if not isinstance(length, (int, np.integer)) or length < minimum:
        raise ValueError(f"{task}: length must be an integer >= {minimum}, got {length!r}")
    return int(length)
