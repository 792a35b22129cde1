"""Check backward rules against central finite differences.

For a function `fn(*inputs) -> Tensor`, the analytic gradient of `L = sum(v * fn(...))`
(v a fixed random weighting, so every output element counts with a different weight)
is compared with the numeric one, element by element:

    dL/dx_i  ~=  (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

An element passes when |analytic - numeric| <= atol + rtol * |numeric|.
"""

import numpy as np

from .autograd import grad as _grad
from .autograd import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by `gradcheck` with a table of the worst elements; `.rows` holds them."""

    def __init__(self, message, rows):
        super().__init__(message)
        self.rows = rows


def _weights(shape, seed):
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=shape)
    return signs * rng.uniform(0.5, 1.5, size=shape)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, names=None, worst=8):
    """True if every input's analytic gradient matches central differences, else raise.

    `inputs`: tensors (those with requires_grad=True are checked; use float64).
    `names`: optional display names, one per input (default: label or `input k`).
    The error message is a table of the `worst` elements: input, index, analytic, numeric, error.
    """
    rows = gradient_errors(fn, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed, names=names)
    failed = sum(1 for r in rows if r[5])
    if failed:
        rows.sort(key=lambda r: (not r[5], -r[4]))
        raise GradcheckError(
            f"gradcheck: {failed} of {len(rows)} gradient elements differ "
            f"(eps={eps}, atol={atol}, rtol={rtol})\n" + format_table(rows[:worst]),
            rows,
        )
    return True


def gradient_errors(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, names=None):
    """What `gradcheck` compares, without raising: one row per checked element,
    (input, index, analytic, numeric, abs error, failed), in input and index order."""
    if callable(inputs) or not callable(fn):
        raise TypeError("gradcheck: call it as gradcheck(fn, inputs), fn a function of the inputs")
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for name, value, low in (("eps", eps, 0.0), ("atol", atol, None), ("rtol", rtol, None)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
            raise TypeError(f"gradcheck: {name} must be a number, got {value!r}")
        if not (np.isfinite(value) and (value > low if low is not None else value >= 0)):
            rule = "> 0" if low is not None else ">= 0"
            raise ValueError(f"gradcheck: {name} must be finite and {rule}, got {value}")
    if names is not None and len(names) != len(inputs):
        raise ValueError(f"gradcheck: {len(names)} names for {len(inputs)} inputs")
    checked = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for k in checked:
        if inputs[k].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {k} is {inputs[k].dtype}; finite differences need float64"
            )
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    v = _weights(out.shape, seed)
    analytic = _grad(out, [inputs[k] for k in checked], grad_outputs=v)

    def loss():
        with no_grad():
            return float(np.sum(v * fn(*inputs).data))

    rows = []
    for k, a_grad in zip(checked, analytic):
        x = inputs[k].data
        numeric = np.empty(x.size)
        # perturb x itself by index: x.reshape(-1) would be a copy for non-contiguous data
        for i, index in enumerate(np.ndindex(x.shape)):
            original = x[index]
            try:
                x[index] = original + eps
                plus = loss()
                x[index] = original - eps
                minus = loss()
            finally:
                x[index] = original  # also when fn raises: the caller's input is unchanged
            numeric[i] = (plus - minus) / (2 * eps)
        a_flat = a_grad.reshape(-1)
        error = np.abs(a_flat - numeric)
        # written as "not within tolerance" so that a NaN (analytic or numeric) fails
        bad = ~(error <= atol + rtol * np.abs(numeric))
        name = _name(inputs[k], k, names)
        for i in range(x.size):
            index = np.unravel_index(i, x.shape) if x.ndim else ()
            rows.append(
                (name, tuple(int(j) for j in index), a_flat[i], numeric[i], error[i], bool(bad[i]))
            )
    return rows


def _name(x, k, names):
    if names is not None:
        return names[k]
    return x.label if x.label is not None else f"input {k}"


def format_table(rows):
    """Rows of (input, index, analytic, numeric, error, failed) as aligned text."""
    header = ("input", "index", "analytic", "numeric", "abs error", "")
    lines = [header]
    for name, index, a, n, e, bad in rows:
        lines.append(
            (str(name), str(index), f"{a:.6g}", f"{n:.6g}", f"{e:.2e}", "FAIL" if bad else "")
        )
    widths = [max(len(row[c]) for row in lines) for c in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in lines
    )
