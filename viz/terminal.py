"""Plain-text tables, bars and numbers for the CLI (no colour codes, no terminal queries).

print(table(["k", "|x|"], [[0, sci(1e-3)], [1, sci(0.5)]]))
"""

BAR_BLOCKS = " ▏▎▍▌▋▊▉█"


def sci(value, digits=3):
    """`1.23e-04` style, `-` for None, `inf`/`nan` as words (fixed width for a column)."""
    if value is None:
        return "-"
    value = float(value)
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits - 1}e}"


def percent(fraction):
    """0.123 -> `12.3%`."""
    return f"{100.0 * fraction:.1f}%"


def bar(fraction, width=20):
    """A horizontal bar `fraction` (0..1, clipped) of `width` cells, in eighths of a cell."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, rest = divmod(eighths, 8)
    return (BAR_BLOCKS[-1] * full + (BAR_BLOCKS[rest] if rest else "")).ljust(width)


def table(headers, rows, align=None, gap=2):
    """Rows of cells under headers, columns padded; `align` is a string of `l`/`r` per column
    (default: the first column left, the others right). Trailing spaces are stripped."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    count = len(headers)
    align = align or "l" + "r" * (count - 1)
    widths = [max(len(row[i]) for row in cells) for i in range(count)]
    lines = []
    for row in cells:
        parts = [
            cell.ljust(w) if a == "l" else cell.rjust(w) for cell, w, a in zip(row, widths, align)
        ]
        lines.append((" " * gap).join(parts).rstrip())
    return "\n".join(lines)


def grid(rows, columns, values, corner=""):
    """A matrix as text: one line per `rows` label (cut to 10 characters), one column per
    `columns` label (cut to the column width, at least 6), values in `.2g`; `corner` heads
    the label column (e.g. "t \\ k")."""
    width = max(6, *(len(c) for c in columns))
    lines = [f"{corner:>10} " + " ".join(f"{c[:width]:>{width}}" for c in columns)]
    for label, row in zip(rows, values):
        lines.append(f"{label[:10]:>10} " + " ".join(f"{v:>{width}.2g}" for v in row))
    return "\n".join(lines)
