"""The legend drawn beside every picture: what the shapes, line styles and colours mean."""

from . import colors
from .sceneitems import html


def _row(cells, colspan=None):
    return "<tr>" + "".join(cells) + "</tr>"


def _text(text, span, bold=False):
    body = f"<b>{html(text)}</b>" if bold else html(text)
    return f'<td colspan="{span}" align="left">{body}</td>'


def _swatch(fill, text, border=1, style=None):
    font = colors.text_color(fill)
    extra = f' style="{style}"' if style else ""
    return (
        f'<td bgcolor="{fill}" border="{border}"{extra}>'
        f'<font color="{font}" point-size="9">{html(text)}</font></td>'
    )


def legend_node(colored, lo, hi, highlight, has_recurrent, params, detail, fixed=False):
    """A DOT statement for the legend: one borderless HTML table, no edges."""
    span = max(len(colors.scale_marks(lo, hi)), 4)
    rows = [_row([_text("How to read this picture", span, bold=True)])]
    if detail == "cell":
        rows.append(_row([_text("box: one step of a cell, its states and |grad|", span)]))
    else:
        rows.append(_row([_text("rounded box: a tensor (label, shape, |grad|)", span)]))
        rows.append(_row([_text("ellipse: the op that made the tensor above it", span)]))
        if params:
            rows.append(
                _row([_text("dashed box: a parameter, one copy per step it is used in;", span)])
            )
            rows.append(_row([_text("   its |grad| is that step's share of the gradient", span)]))
    rows.append(_row([_text("plain box: data (inputs, targets, initial states)", span)]))
    if has_recurrent:
        rows.append(_row([_text("double line: recurrent edge, state t-1 -> step t", span)]))
    if highlight is not None:
        a, b = highlight
        rows.append(_row([_text(f"thick lines: every path between {a} and {b}", span)]))
    if colored:
        rows.append(_row([_text("|grad| = L2 norm of dE/d(node), log scale:", span)]))
        cells = []
        for x, text in colors.scale_marks(lo, hi):
            cells.append(_swatch(colors.ramp(x), text))
        cells += ["<td></td>"] * (span - len(cells))
        rows.append(_row(cells))
        specials = [
            _swatch(colors.ZERO, "0"),
            _swatch(colors.NAN, "NaN"),
            _swatch(colors.INF, "Inf"),
            _swatch(colors.NO_GRAD, "none"),
        ]
        specials += ["<td></td>"] * (span - len(specials))
        rows.append(_row(specials))
        rows.append(_row([_text("lighter = smaller; dotted border or line: exactly 0", span)]))
        if fixed:
            ends = f"{colors.exponent_text(lo)} .. {colors.exponent_text(hi)}"
            rows.append(_row([_text(f"scale fixed at {ends}: values outside are clamped", span)]))
            rows.append(_row([_text("   to its ends and marked (below/above range)", span)]))
        rows.append(_row([_text("edges: the gradient that flowed along them", span)]))
    table = (
        '<table border="1" color="#b4b4b4" cellborder="0" cellspacing="2" cellpadding="2"'
        ' bgcolor="#ffffff">' + "".join(rows) + "</table>"
    )
    return f'legend [shape=plaintext, fontsize=10, margin="0", label=<{table}>];'
