"""Two graphs in one picture, left and right, on one colour scale: the learner's gradient
next to the true one (`tinygrad-rnn exercise check N FILE.py --picture FILE.svg|png`).

Each graph is laid out on its own (as `to_dot` draws it) and the two drawings are placed
side by side: nested in one outer svg, or pasted into one png (with Pillow). The colour
scale (`grad_range`) is shared, so the same colour means the same |grad| in both halves.
"""

import io
import os
import re
import tempfile

from tinygrad_rnn.files import write_atomic

from .dot import to_dot
from .render import RenderError, render
from .style import shared_range

_SIZE = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"[^>]*?\sheight="([\d.]+)pt"', re.S)
GAP = 24.0  # points (svg) or pixels (png) between the two drawings
FORMATS = (".svg", ".png")


def side_by_side(left, right, path, titles=("left", "right"), **options):
    """Draw the graphs behind `left` and `right` into one svg or png at `path`; returns it.

    `options` go to `to_dot` for both (e.g. detail="cell"); grad_range defaults to one
    range covering both graphs.
    """
    suffix = os.path.splitext(str(path))[1].lower()
    if suffix not in FORMATS:
        raise ValueError(f"a side-by-side picture is FILE.svg or FILE.png, got {path}")
    options.setdefault("grad_range", shared_range([left, right]))
    with tempfile.TemporaryDirectory() as tmp:
        halves = []
        for k, (root, title) in enumerate(zip((left, right), titles)):
            half = os.path.join(tmp, f"{k}{suffix}")
            render(to_dot(root, title=title, **options), half)
            halves.append(half)
        data = _join_svg(halves) if suffix == ".svg" else _join_png(halves)
    write_atomic(path, data)
    return path


def _svg_body(svg):
    """(width, height, the svg element without the xml prolog) of a Graphviz svg."""
    start = svg.find("<svg")
    if start < 0:
        raise RenderError("the layout engine did not return an svg drawing")
    found = _SIZE.search(svg, start)
    if found is None:
        raise RenderError("the svg drawing has no width/height in points")
    return float(found.group(1)), float(found.group(2)), svg[start:]


def _join_svg(paths):
    parts = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            parts.append(_svg_body(f.read()))
    (w0, h0, body0), (w1, h1, body1) = parts
    width, height = w0 + GAP + w1, max(h0, h1)
    text = (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width:.0f}pt" height="{height:.0f}pt" '
        f'viewBox="0 0 {width:.2f} {height:.2f}">\n'
        f'<rect width="100%" height="100%" fill="#ffffff"/>\n'
        f'<svg x="0" y="0" width="{w0:.2f}" height="{h0:.2f}" {_inner(body0)}'
        f'<svg x="{w0 + GAP:.2f}" y="0" width="{w1:.2f}" height="{h1:.2f}" {_inner(body1)}'
        "</svg>\n"
    )
    return text.encode("utf-8")


def _inner(body):
    """The drawing's own viewBox and content, nested at the position given before it."""
    head_end = body.find(">")
    head, content = body[:head_end], body[head_end + 1 :]
    view = re.search(r'viewBox="([^"]+)"', head)
    view_attr = f'viewBox="{view.group(1)}" ' if view else ""
    return f"{view_attr}>" + content.rstrip() + "\n"


def _join_png(paths):
    try:
        from PIL import Image
    except ImportError:
        raise RenderError(
            "a side-by-side png needs Pillow (pip install pillow); or use svg"
        ) from None
    left, right = (Image.open(p).convert("RGB") for p in paths)
    gap = int(GAP)
    joined = Image.new(
        "RGB", (left.width + gap + right.width, max(left.height, right.height)), "white"
    )
    joined.paste(left, (0, 0))
    joined.paste(right, (left.width + gap, 0))
    out = io.BytesIO()
    joined.save(out, format="PNG")
    return out.getvalue()
