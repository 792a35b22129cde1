"""The base of every task: a `Batch` of arrays and the `Task` interface (shapes, metric,
baseline, config). The tasks themselves are in `synthetic.py` and `language.py`.
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
        return masked_accuracy(prediction.argmax(axis=-1), batch.y, batch.mask)

    def score_parts(self, prediction, batch):
        """Per sequence, (sum, count) of what `score` averages: score = sum(sums) / sum(counts).
        The spread of these over the batch gives the metric's standard error."""
        prediction = np.asarray(prediction)
        if self.output == "float":
            values = (prediction - batch.y) ** 2
            counts = np.ones(values.shape)
        else:
            values = (prediction.argmax(axis=-1) == batch.y).astype(np.float64)
            counts = np.ones(values.shape) if batch.mask is None else batch.mask.astype(float)
            values = values * counts
        return per_sequence(values, counts, self.per_step)

    def standard_error(self, prediction, batch):
        """The standard error of `score` over the batch's sequences: sequences are the
        independent draws (the steps within one are not), so this is the ratio estimator's
        sqrt(B/(B-1) sum_b (s_b - m n_b)^2) / sum_b n_b, 0 for a single sequence."""
        sums, counts = self.score_parts(prediction, batch)
        total = counts.sum()
        if len(sums) < 2 or total == 0:
            return 0.0
        mean = sums.sum() / total
        spread = np.sum((sums - mean * counts) ** 2) * len(sums) / (len(sums) - 1)
        return float(np.sqrt(spread) / total)

    def extra_metrics(self, prediction, batch):
        """Task-specific numbers recorded with each evaluation (e.g. adding1997's
        wrong_fraction); none by default."""
        return {}

    def compare(self, metric, standard_error, sigmas=3.0):
        """'beats', 'at' or 'worse': the metric against the baseline, counting a margin of
        `sigmas` standard errors or less as noise (the baseline is exact)."""
        margin = metric - self.baseline if self.higher_is_better else self.baseline - metric
        if not np.isfinite(margin):
            return "worse"
        if abs(margin) <= sigmas * standard_error:
            return "at"
        return "beats" if margin > 0 else "worse"

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


def per_sequence(values, counts, per_step):
    """Sum `values` and `counts` over every axis but the batch axis (1 for time-major per-step
    targets (T, B, ...), else 0): two arrays of length B."""
    axis = 1 if per_step and values.ndim > 1 else 0
    values = np.moveaxis(values, axis, 0).reshape(values.shape[axis], -1)
    counts = np.moveaxis(counts, axis, 0).reshape(counts.shape[axis], -1)
    return values.sum(axis=1), counts.sum(axis=1)


def masked_accuracy(predicted, target, mask):
    """The fraction of `predicted == target` where `mask` is True (everywhere when None)."""
    hits = predicted == target
    if mask is None:
        return float(hits.mean())
    return float(hits[mask].mean())


def check_length(task, length, minimum):
    """`length` as an int, or ValueError naming the task when it is not an integer >= minimum."""
    if not isinstance(length, (int, np.integer)) or length < minimum:
        raise ValueError(
            f"{task}: length must be an integer >= {minimum} (--length), got {length!r}"
        )
    return int(length)
