"""Two graphs in one svg, left and right, on one colour scale: the learner's gradient next to
the true one (`tinygrad-rnn exercise check N FILE.py --picture FILE.svg`).

Each graph is laid out on its own (as `to_dot` draws it) and the two svg drawings are
placed side by side in one outer svg; the colour scale (`grad_range`) is shared, so the
same colour means the same |grad| in both halves.
"""

import os
import re
import tempfile

from tinygrad_rnn import topo_order

from . import colors
from .dot import to_dot
from .render import RenderError, _write_atomic, render

_SIZE = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"[^>]*?\sheight="([\d.]+)pt"', re.S)
GAP = 24.0  # points between the two drawings


def shared_range(roots):
    """Whole decades covering every node's |grad| in all the graphs."""
    norms = [colors.grad_norm(n.grad) for n in topo_order(list(roots))]
    return colors.decade_range(norms, span=12)


def _svg_body(svg):
    """(width, height, the svg element without the xml prolog) of a Graphviz svg."""
    start = svg.find("<svg")
    if start < 0:
        raise RenderError("the layout engine did not return an svg drawing")
    found = _SIZE.search(svg, start)
    if found is None:
        raise RenderError("the svg drawing has no width/height in points")
    return float(found.group(1)), float(found.group(2)), svg[start:]


def side_by_side(left, right, path, titles=("left", "right"), **options):
    """Draw the graphs behind `left` and `right` into one svg at `path`; returns `path`.

    `options` go to `to_dot` for both (e.g. detail="cell"); grad_range defaults to one
    range covering both graphs.
    """
    if not str(path).lower().endswith(".svg"):
        raise ValueError(f"a side-by-side picture is an svg file: give FILE.svg, got {path}")
    options.setdefault("grad_range", shared_range([left, right]))
    parts = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (root, title) in enumerate(zip((left, right), titles)):
            svg_path = os.path.join(tmp, f"{k}.svg")
            render(to_dot(root, title=title, **options), svg_path)
            with open(svg_path, encoding="utf-8") as f:
                parts.append(_svg_body(f.read()))
    width = parts[0][0] + GAP + parts[1][0]
    height = max(parts[0][1], parts[1][1])
    x_right = parts[0][0] + GAP
    text = (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width:.0f}pt" height="{height:.0f}pt" '
        f'viewBox="0 0 {width:.2f} {height:.2f}">\n'
        f'<rect width="100%" height="100%" fill="#ffffff"/>\n'
        f'<svg x="0" y="0" width="{parts[0][0]:.2f}" height="{parts[0][1]:.2f}" '
        f"{_inner_attrs(parts[0][2])}"
        f'<svg x="{x_right:.2f}" y="0" width="{parts[1][0]:.2f}" height="{parts[1][1]:.2f}" '
        f"{_inner_attrs(parts[1][2])}"
        "</svg>\n"
    )
    _write_atomic(path, text.encode("utf-8"))
    return path


def _inner_attrs(body):
    """The drawing's own viewBox and content, nested at the position given before it."""
    head_end = body.find(">")
    head, content = body[:head_end], body[head_end + 1 :]
    view = re.search(r'viewBox="([^"]+)"', head)
    view_attr = f'viewBox="{view.group(1)}" ' if view else ""
    return f"{view_attr}>" + content.rstrip() + "\n"
