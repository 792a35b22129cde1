"""Gradient colours: log10 |grad| on one fixed light-to-dark ramp, plus the special cases.

The ramp runs from pale cream (small gradients) through orange and red to dark purple (large
gradients), with lightness falling steadily, so "lighter" always means "smaller": the
lecture's picture of a gradient fading as it travels back in time. Zero, NaN, Inf and "no
gradient yet" get colours that are not on the ramp at all.

    x = (log10 |g| - lo) / (hi - lo), clipped to [0, 1]     ->     ramp(x)

`lo` and `hi` are whole decades, chosen from the gradients in the picture unless given.
"""

import math

import numpy as np

# (position, (r, g, b)): lightness decreases monotonically from the first to the last
RAMP = (
    (0.00, (255, 247, 214)),
    (0.20, (253, 214, 140)),
    (0.40, (246, 156, 86)),
    (0.60, (221, 92, 76)),
    (0.80, (158, 45, 110)),
    (1.00, (58, 18, 84)),
)
ZERO = "#ffffff"  # white, drawn with a dotted border
ZERO_EDGE = "#9a9a9a"  # grey, dotted
NAN = "#16b84e"  # green: no gradient is ever green on the ramp
INF = "#1f5fff"  # blue
NO_GRAD = "#ececec"  # grey: not on the backward path, or not computed yet
DIM_EDGE = "#d4d4d4"
TEXT_DARK = "#1a1a1a"
TEXT_LIGHT = "#ffffff"
TEXT_DIM = "#9a9a9a"


def hex_color(rgb):
    return "#{:02x}{:02x}{:02x}".format(*(int(round(c)) for c in rgb))


def parse_hex(color):
    """'#rrggbb' -> (r, g, b) integers."""
    color = color.lstrip("#")
    return tuple(int(color[i : i + 2], 16) for i in (0, 2, 4))


def ramp(x):
    """The ramp's colour at x in [0, 1] (clipped), interpolated between the anchors."""
    x = min(1.0, max(0.0, x))
    for (x0, c0), (x1, c1) in zip(RAMP, RAMP[1:]):
        if x <= x1:
            w = (x - x0) / (x1 - x0)
            return hex_color(a + (b - a) * w for a, b in zip(c0, c1))
    return hex_color(RAMP[-1][1])


def luminance(color):
    """Relative luminance (WCAG) of '#rrggbb' in [0, 1]: 0 black, 1 white."""
    channels = []
    for c in parse_hex(color):
        c = c / 255.0
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_color(fill):
    """Dark text on light fills, white text on dark ones."""
    return TEXT_LIGHT if luminance(fill) < 0.3 else TEXT_DARK


def blend(color, toward="#ffffff", amount=0.75):
    """Mix `color` with `toward`; amount 1 gives `toward`. Used to dim what is not highlighted."""
    a, b = parse_hex(color), parse_hex(toward)
    return hex_color(p + (q - p) * amount for p, q in zip(a, b))


def grad_norm(g):
    """The L2 (Frobenius) norm of a gradient as a float: None, 0, a number, nan or inf.

    Any NaN element makes the norm NaN and any Inf makes it Inf; finite huge values are
    scaled before squaring so they do not overflow to Inf.
    """
    if g is None:
        return None
    g = np.asarray(g)
    if g.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        if g.dtype.kind == "f":
            flat = g.ravel()
            squares = float(np.dot(flat, flat))
            if 1e-290 < squares < 1e290:  # the common case; else overflow, underflow or nan
                return math.sqrt(squares)
        biggest = float(np.max(np.abs(g)))
        if math.isnan(biggest):
            return math.nan
        if math.isinf(biggest):
            return math.inf
        if biggest == 0.0:
            return 0.0
        return biggest * float(np.sqrt(np.sum(np.square(g / biggest))))


def decade_range(norms, span=None):
    """Whole decades (lo, hi) covering the finite positive norms; (-3, 0) if there are none.

    `span` (an int) limits hi - lo, keeping the large end: gradients smaller than 10^lo
    all get the lightest colour.
    """
    finite = [n for n in norms if n is not None and n > 0 and math.isfinite(n)]
    if not finite:
        return (-3, 0)
    lo = math.floor(math.log10(min(finite)))
    hi = math.ceil(math.log10(max(finite)))
    if hi <= lo:
        hi = lo + 1
    if span is not None and hi - lo > span:
        lo = hi - span
    return (lo, hi)


def norm_color(norm, lo, hi):
    """Fill colour for a gradient norm on the ramp over [10^lo, 10^hi], or a special colour."""
    if norm is None:
        return NO_GRAD
    if math.isnan(norm):
        return NAN
    if math.isinf(norm):
        return INF
    if norm == 0.0:
        return ZERO
    return ramp((math.log10(norm) - lo) / (hi - lo))


def norm_position(norm, lo, hi):
    """Where a finite positive norm sits on the ramp, in [0, 1]; None for the special cases."""
    if norm is None or not math.isfinite(norm) or norm <= 0.0:
        return None
    return min(1.0, max(0.0, (math.log10(norm) - lo) / (hi - lo)))


def range_side(norm, lo, hi):
    """ "below" or "above" when a finite positive norm lies outside [10^lo, 10^hi], else None."""
    if norm is None or not math.isfinite(norm) or norm <= 0.0:
        return None
    exponent = math.log10(norm)
    if exponent < lo - 1e-12:
        return "below"
    if exponent > hi + 1e-12:
        return "above"
    return None


def scale_marks(lo, hi):
    """The legend's swatches for a scale over [10^lo, 10^hi]: (position in [0, 1], text) at
    each end and at every whole decade in between."""
    marks = [(0.0, lo)]
    marks += [((k - lo) / (hi - lo), k) for k in range(math.floor(lo) + 1, math.ceil(hi))]
    marks.append((1.0, hi))
    return [(x, exponent_text(k)) for x, k in marks]


def exponent_text(k):
    """10^k as text: decade_text for whole k, else the value (3e-05, 0.25)."""
    if float(k).is_integer():
        return decade_text(int(k))
    return f"{10.0**k:.2g}"


def format_norm(norm):
    """Short text for a norm: 0.0123, 4.56e-07, 0, nan, inf."""
    if norm is None:
        return "-"
    if math.isnan(norm):
        return "NaN"
    if math.isinf(norm):
        return "Inf"
    if norm == 0.0:
        return "0"
    return f"{norm:.3g}"


def decade_text(k):
    """10^k as '1e-3', '1', '10' style text for the legend."""
    if k == 0:
        return "1"
    if k == 1:
        return "10"
    return f"1e{k}"
