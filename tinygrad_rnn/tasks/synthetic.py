"""Synthetic data sets for the lecture's sequence shapes, every one seeded and vectorised.

`task.batch(batch_size, seed)` is a pure function of its arguments: the same seed (an int
or a list of ints, as `np.random.default_rng` takes) gives the same arrays, so a training
run can regenerate batch k from (seed, k) and resume exactly. Arrays are time-major like
PyTorch's recurrent layers: (T, B, ...).

    task       shape    input                    output                    metric
    adding     N-vs-1   (T, B, 2) value, marker  (B, 1) sum of 2 marked    MSE        (1/6)
    adding1997 N-vs-1   (L, B, 2) the 1997 task  (B, 1) 0.5 + (X1+X2)/4    MSE        (~1/24)
    copy       N-vs-M   (T, B) symbols           (T, B) the same symbols   token acc. (chance)
    reverse    N-vs-M   (T, B) symbols           (T, B) them reversed      token acc. (chance)
    echo       N-vs-N   (T, B) symbols           (T, B) x_{t-d}            token acc. (chance)
    intent     N-vs-1   (T, B) words, left-pad   (B,) intent               accuracy   (majority)
    tagging    N-vs-N   (T, B) words, right-pad  (T, B) word classes       accuracy   (word's tag)
    generate   1-vs-N   (B,) class               (T, B) its spelled name   token acc. (position)
    sine       N-vs-N   (T, B, 1) x_t            (T, B, 1) x_{t+1}         MSE        (persistence)
    text       N-vs-N   (T, B) characters        (T, B) next characters    bits/char  (unigram)

The numbers in brackets are the baselines a model must beat, each computed in `baseline`.
This file holds the synthetic ones; intent, tagging, generate and text are in `language.py`.
"""

import numpy as np

from .base import Batch, Task, check_length

__all__ = [
    "GO",
    "AddingProblem",
    "CopyTask",
    "EarlyAddingProblem",
    "EchoTask",
    "ReverseTask",
    "SineTask",
]


# ----- adding problem ----------------------------------------------------------------------


class AddingProblem(Task):
    """Hochreiter & Schmidhuber's adding problem in its common modern form.

    x_t = (u_t, m_t), u_t ~ U[0, 1]; m_t = 1 at one position in the first half and one in
    the second half, 0 elsewhere; y = sum_t m_t u_t. Predicting the constant 1 = E[y] has
    MSE Var(u_a + u_b) = 2 * 1/12 = 1/6, the line a model must get under.
    """

    name, shape, input, output, per_step = "adding", "N-vs-1", "float", "float", False
    metric, higher_is_better = "MSE", False
    shapes = ("(T, B, 2) float: value, marker", "(B, 1) float: sum of the two marked values")
    baseline_text = "always predict 1 (MSE = 1/6)"
    n_in, n_out = 2, 1

    def __init__(self, length=50):
        self.length = check_length("adding", length, 2)

    def config(self):
        return {"name": self.name, "length": self.length}

    def batch(self, batch_size, seed):
        rng = np.random.default_rng(seed)
        T = self.length
        values = rng.uniform(0.0, 1.0, size=(T, batch_size))
        first, second = self._marker_positions(rng, batch_size)
        markers = np.zeros((T, batch_size))
        cols = np.arange(batch_size)
        markers[first, cols] = 1.0
        markers[second, cols] = 1.0
        y = (values * markers).sum(axis=0)[:, None]
        return Batch(np.stack([values, markers], axis=-1), y)

    def _marker_positions(self, rng, batch_size):
        """One position in the first half and one in the second, per sequence."""
        half = self.length // 2
        return rng.integers(0, half, size=batch_size), rng.integers(half, self.length, batch_size)

    def _compute_baseline(self):
        return 1.0 / 6.0


class EarlyAddingProblem(AddingProblem):
    """The adding problem exactly as Hochreiter & Schmidhuber (1997, Experiment 4) define it.

    Each step is a pair (value, marker): values U[-1, 1]; markers 1, 0 or -1. The length L
    is random in [T, T + T/10] (one L per batch: the paper trained on one sequence at a
    time, so every sequence still has a uniformly drawn length). Exactly two pairs are
    marked 1: one of the first ten (value X1), then one of the first T/2 - 1 still unmarked
    (X2). The first and the last pair carry marker -1 unless marked 1; when the very first
    pair is marked, its value is set to 0. Only at the end, the target
    y = 0.5 + (X1 + X2) / 4, in [0, 1]. A sequence is correct when |prediction - y| < 0.04
    (`wrong_fraction` counts the others). The paper stopped training once the average
    training error was below 0.01 and the 2,000 most recent sequences were correct
    (`Run.stopping_criterion`). Predicting 0.5 has MSE Var(X1 + X2) / 16 (about 1/24).
    """

    name = "adding1997"
    shapes = ("(L, B, 2) float: value, marker", "(B, 1) float: 0.5 + (X1 + X2) / 4")
    baseline_text = "always predict 0.5"
    tolerance = 0.04  # the paper's success test, in the target's units
    stop_error, stop_window = 0.01, 2000  # the paper's stopping criterion

    def __init__(self, length=50):
        self.length = check_length("adding1997", length, 6)

    def batch(self, batch_size, seed):
        rng = np.random.default_rng(seed)
        T = self.length
        L = int(rng.integers(T, T + T // 10 + 1))
        values = rng.uniform(-1.0, 1.0, size=(L, batch_size))
        first, second = self._marker_positions(rng, batch_size)
        cols = np.arange(batch_size)
        markers = np.zeros((L, batch_size))
        markers[0], markers[-1] = -1.0, -1.0
        markers[first, cols] = 1.0
        markers[second, cols] = 1.0
        values[0, markers[0] == 1.0] = 0.0  # the very first pair marked: X1 = 0
        y = 0.5 + (values * (markers == 1.0)).sum(axis=0)[:, None] / 4.0
        return Batch(np.stack([values, markers], axis=-1), y)

    def _marker_positions(self, rng, batch_size):
        early = self.length // 2 - 1
        first = rng.integers(0, min(10, early), size=batch_size)
        # a distinct second position in [0, early): draw from early - 1 slots, skip `first`
        second = rng.integers(0, early - 1, size=batch_size)
        second += second >= first
        return first, second

    def _compute_baseline(self):
        # Var(X) = 1/3 for X ~ U[-1, 1], 0 for a value zeroed at the first pair, which is
        # marked with probability p0 = P(first = 0) + P(first != 0) P(second = 0)
        early = self.length // 2 - 1
        p_first = 1.0 / min(10, early)
        p0 = p_first + (1.0 - p_first) / (early - 1)
        return (2.0 - p0) / 3.0 / 16.0

    def sequence_errors(self, prediction, batch):
        """|prediction - y| per sequence, in the target's units (the paper's test)."""
        return np.abs(np.asarray(prediction, dtype=np.float64).reshape(-1) - batch.y[:, 0])

    def extra_metrics(self, prediction, batch):
        wrong = self.sequence_errors(prediction, batch) >= self.tolerance
        return {"wrong_fraction": float(np.mean(wrong))}


# ----- copy and reverse (seq2seq) -------------------------------------------------------------

GO = 0  # the decoder's start token in copy/reverse; symbols are 1..n_symbols


class CopyTask(Task):
    """Read T symbols, then write them out again (or reversed, with `reverse=True`).

    Symbols are 1..n_symbols, uniform and independent; token 0 is the decoder's start
    token (`y_in = [0, y_0, ..., y_{T-2}]`). Guessing gives accuracy 1/n_symbols.
    """

    shape, input, output, per_step = "N-vs-M", "tokens", "classes", True
    metric = "token accuracy"
    shapes = ("(T, B) int: symbols 1..n", "(T, B) int: the symbols (y_in: decoder input)")
    baseline_text = "guess a symbol (1/n_symbols)"

    def __init__(self, length=8, n_symbols=8, reverse=False):
        self.length = check_length("copy", length, 1)
        if n_symbols < 2:
            raise ValueError(f"copy: n_symbols must be >= 2, got {n_symbols}")
        self.n_symbols, self.reverse = int(n_symbols), bool(reverse)
        self.name = "reverse" if reverse else "copy"
        self.n_in = self.n_out = self.n_symbols + 1

    def config(self):
        return {"name": self.name, "length": self.length, "n_symbols": self.n_symbols}

    def batch(self, batch_size, seed):
        rng = np.random.default_rng(seed)
        x = rng.integers(1, self.n_symbols + 1, size=(self.length, batch_size))
        y = x[::-1].copy() if self.reverse else x.copy()
        y_in = np.concatenate([np.full((1, batch_size), GO), y[:-1]], axis=0)
        return Batch(x, y, y_in=y_in)

    def _compute_baseline(self):
        return 1.0 / self.n_symbols


class ReverseTask(CopyTask):
    """The copy task with the target reversed: y_t = x_{T-1-t}."""

    def __init__(self, length=8, n_symbols=8):
        super().__init__(length, n_symbols, reverse=True)


class EchoTask(Task):
    """Say each symbol again `delay` steps later: y_t = x_{t-d} (N-vs-N, one sequence).

    The steps t < d have nothing to echo and are masked out. A model must carry every
    symbol for exactly d steps, so truncated BPTT with k2 <= d never sees a loss and its
    source in the same graph, and cannot learn it. Guessing gives 1/n_symbols.
    """

    name, shape, input, output, per_step = "echo", "N-vs-N", "tokens", "classes", True
    metric = "token accuracy"
    shapes = ("(T, B) int: symbols 1..n", "(T, B) int: x_{t-d} (mask: t >= d)")
    baseline_text = "guess a symbol (1/n_symbols)"

    def __init__(self, length=20, delay=5, n_symbols=8):
        if not isinstance(delay, (int, np.integer)) or delay < 1:
            raise ValueError(f"echo: delay must be a positive integer, got {delay!r}")
        self.delay = int(delay)
        self.length = check_length("echo", length, self.delay + 1)
        if n_symbols < 2:
            raise ValueError(f"echo: n_symbols must be >= 2, got {n_symbols}")
        self.n_symbols = int(n_symbols)
        self.n_in = self.n_out = self.n_symbols + 1

    def config(self):
        return {
            "name": self.name,
            "length": self.length,
            "delay": self.delay,
            "n_symbols": self.n_symbols,
        }

    def batch(self, batch_size, seed):
        rng = np.random.default_rng(seed)
        x = rng.integers(1, self.n_symbols + 1, size=(self.length, batch_size))
        y = np.zeros_like(x)
        y[self.delay :] = x[: -self.delay]
        mask = np.zeros(x.shape, dtype=bool)
        mask[self.delay :] = True
        return Batch(x, y, mask)

    def _compute_baseline(self):
        return 1.0 / self.n_symbols


# ----- seasonal time series -----------------------------------------------------------------


class SineTask(Task):
    """Forecast tomorrow from the days so far: a noisy seasonal series, one step ahead.

    x_t = a sin(2 pi t / P + phi) + b sin(2 pi t / (4P) + psi) + noise, with random
    amplitudes and phases per sequence and noise N(0, sigma^2); y_t = x_{t+1}. The
    baseline is persistence ("tomorrow is like today"); no model beats sigma^2 on average.
    """

    name, shape, input, output, per_step = "sine", "N-vs-N", "float", "float", True
    metric, higher_is_better = "MSE", False
    shapes = ("(T, B, 1) float: x_0..x_{T-1}", "(T, B, 1) float: x_1..x_T")
    baseline_text = "persistence, predict x_{t+1} = x_t"
    n_in, n_out = 1, 1

    def __init__(self, length=48, period=12, noise=0.1):
        self.length = check_length("sine", length, 2)
        if period <= 1:
            raise ValueError(f"sine: period must be > 1, got {period}")
        self.period, self.noise = float(period), float(noise)

    def config(self):
        return {
            "name": self.name,
            "length": self.length,
            "period": self.period,
            "noise": self.noise,
        }

    def batch(self, batch_size, seed):
        rng = np.random.default_rng(seed)
        t = np.arange(self.length + 1)[:, None]
        a = rng.uniform(0.5, 1.5, size=batch_size)
        b = rng.uniform(0.0, 0.5, size=batch_size)
        phi, psi = rng.uniform(0, 2 * np.pi, size=(2, batch_size))
        series = a * np.sin(2 * np.pi * t / self.period + phi)
        series += b * np.sin(2 * np.pi * t / (4 * self.period) + psi)
        series += self.noise * rng.normal(size=series.shape)
        return Batch(series[:-1, :, None], series[1:, :, None])

    def _compute_baseline(self):
        b = self.batch(4096, [7, 0])
        return float(np.mean((b.x - b.y) ** 2))
