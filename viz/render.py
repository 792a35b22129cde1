"""DOT text -> an svg, png or pdf file, through the `graphviz` package.

The layout engine is whichever is found first:
  1. a system Graphviz `dot` on PATH (the only one that writes pdf);
  2. `graphviz-pure`, the static Graphviz port that `pip install -e .` brings, looked up
     next to the running interpreter first (it is there even when the venv is not
     activated), then on PATH.
The `graphviz` package runs whatever `graphviz.backend.dot_command.DOT_BINARY` names, so
rendering points that at the engine found. Every failure is a `RenderError` with a
one-line message saying what to do.
"""

import json
import os
import re
import shutil
import struct
import sys
import sysconfig

from tinygrad_rnn.files import write_atomic

FORMATS = ("svg", "png", "pdf", "dot")
_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
_PURE = "graphviz-pure"
_NO_ENGINE = (
    "no Graphviz layout engine found: `pip install graphviz-pure` (svg, png) "
    "or `apt-get install graphviz` (also pdf)"
)


class RenderError(RuntimeError):
    """Rendering failed; the message is one line saying why and what to do."""


class Engine:
    """A layout engine: `path` of the executable, `system` True for a real Graphviz `dot`."""

    __slots__ = ("path", "system")

    def __init__(self, path, system):
        self.path = path
        self.system = system

    def __repr__(self):
        kind = "system dot" if self.system else _PURE
        return f"Engine({kind} at {self.path})"


def _script_dirs():
    """Where pip puts console scripts for this interpreter (both spellings, in order)."""
    dirs = []
    for d in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        if d and d not in dirs:
            dirs.append(d)
    return dirs


def find_engine():
    """The layout engine to use, or raise `RenderError` saying how to install one."""
    dot = shutil.which("dot")
    if dot:
        return Engine(dot, system=True)
    for d in _script_dirs():
        # shutil.which with a path checks the executable bit (and .exe on Windows)
        found = shutil.which(_PURE, path=d)
        if found:
            return Engine(found, system=False)
    found = shutil.which(_PURE)
    if found:
        return Engine(found, system=False)
    raise RenderError(_NO_ENGINE)


def format_for(path, format=None):
    """The output format: `format` if given, else from the file suffix."""
    if format is None:
        suffix = os.path.splitext(str(path))[1].lower()
        if suffix not in _SUFFIXES:
            raise RenderError(
                f"cannot tell the format of {path!r} from its suffix; "
                f"use .svg, .png, .pdf or .dot, or pass format="
            )
        return _SUFFIXES[suffix]
    format = format.lower()
    if format not in FORMATS:
        raise RenderError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    return format


def output_for(out=None, format=None):
    """(path, format) of a picture to write: the format from `format`, else from the suffix
    of `out`, else svg; the path `out`, else graph.FORMAT. RenderError for an unknown
    format or suffix."""
    if format is None:
        format = format_for(out) if out is not None else "svg"
    format = format_for(out or "graph", format)
    return (f"graph.{format}" if out is None else out), format


def _with_defaults(dot_source, attrs):
    """Insert `graph [attrs]` right after the graph's opening brace.

    Placed first, they act as defaults: a `graph [...]` statement in the source itself
    comes later and wins, as later graph attributes do in Graphviz.
    """
    brace = dot_source.find("{")
    if brace < 0 or not attrs:
        return dot_source
    text = ", ".join(f'{k}="{v}"' for k, v in attrs.items())
    return f"{dot_source[: brace + 1]}\n  graph [{text}];{dot_source[brace + 1 :]}"


def layout(dot_source, format="svg", attrs=None):
    """Lay out `dot_source` and return the svg or png bytes (nothing is written), with the
    time steps left to right as `render` makes them; `attrs` are default graph attributes."""
    if format not in ("svg", "png"):
        raise RenderError(f"layout returns svg or png, not {format!r}")
    data, _, _ = _layout_in_time_order(dot_source, format, find_engine(), dict(attrs or {}))
    return data


def _layout(dot_source, format, engine, pinned=False):
    """Graphviz's output; `pinned`: draw at the positions the source gives (neato -n2)."""
    import graphviz  # heavy optional import, only when something is drawn
    from graphviz.backend import dot_command

    dot_command.DOT_BINARY = engine.path
    data = dot_source.encode("utf-8")
    try:
        if pinned:
            return graphviz.pipe("neato", format, data, neato_no_op=2, quiet=True)
        return graphviz.pipe("dot", format, data, quiet=True)
    except graphviz.ExecutableNotFound:
        raise RenderError(f"layout engine {engine.path} cannot be run; {_NO_ENGINE}") from None
    except graphviz.CalledProcessError as exc:
        raise RenderError(f"{os.path.basename(engine.path)}: {_first_line(exc.stderr)}") from None


def _first_line(stderr):
    if isinstance(stderr, bytes):
        stderr = stderr.decode("utf-8", "replace")
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    return lines[0] if lines else "failed without a message"


# A 100-step LSTM drawn op by op is 45,000 px wide at 96 dpi; beyond this, use svg.
DEFAULT_MAX_PIXELS = 16000

# Graph attributes tried in turn until the time steps come out left to right. Graphviz
# orders clusters by a crossing-reduction heuristic that can swap whole steps; which
# setting avoids it depends on the graph, and every layout is checked, never assumed.
ORDER_ATTEMPTS = ({}, {"mclimit": "0.05"}, {"mclimit": "3"}, {"remincross": "false"})
_STEP = re.compile(r"cluster_t(\d+)$")


class Rendered(str):
    """The path written (a str), with `size` (width, height) in pixels for png, `natural`
    the size before the --max-pixels cap, `shrunk` whether the cap scaled it down, and
    `in_time_order` whether the steps were laid out left to right."""

    size = natural = None
    shrunk = False
    in_time_order = True


def step_boxes(layout):
    """{t: (x_left, x_right)} of each `cluster_t<t>` in Graphviz's json output."""
    boxes = {}
    for obj in layout.get("objects", ()):
        found = _STEP.match(obj.get("name", ""))
        if found and "bb" in obj:
            x0, _, x1, _ = (float(v) for v in obj["bb"].split(","))
            boxes[int(found.group(1))] = (x0, x1)
    return boxes


def order_faults(boxes):
    """How many neighbouring steps are out of order or overlap (0: time runs left to right)."""
    steps = sorted(boxes)
    return sum(1 for a, b in zip(steps, steps[1:]) if boxes[a][1] > boxes[b][0] + 0.01)


def _layout_in_time_order(dot_source, format, engine, attrs):
    """Lay out with the first of ORDER_ATTEMPTS whose steps run left to right (the one
    with the fewest faults if none does): (bytes, json layout, in order?)."""
    if "subgraph cluster_t" not in dot_source and format != "png":
        return _layout(_with_defaults(dot_source, attrs), format, engine), None, True
    best = None
    for attempt in ORDER_ATTEMPTS:
        source = _with_defaults(dot_source, {**attempt, **attrs})
        try:
            layout = json.loads(_layout(source, "json", engine))
        except ValueError:  # an engine without json output: lay out once, unchecked
            return _layout(source, format, engine), None, True
        faults = order_faults(step_boxes(layout))
        if best is None or faults < best[0]:
            best = (faults, source, layout)
        if faults == 0 or "subgraph cluster_t" not in dot_source:
            break
    faults, source, layout = best
    return _layout(source, format, engine), layout, faults == 0


def render(dot_source, path, format=None, dpi=None, max_pixels=DEFAULT_MAX_PIXELS):
    """Lay out `dot_source` and write it to `path`; returns `path`.

    `format`: svg, png, pdf, or dot (the text itself, no engine needed); None takes it
    from the suffix. For png only: `dpi` sets the resolution (Graphviz's default is 96)
    and `max_pixels` (default 16,000; None for no cap) caps the longer side by scaling
    the drawing down (Graphviz's `size`). Both are defaults that a `graph [...]`
    statement in the source overrides. Returns a `Rendered` path that also says whether
    the steps came out in time order and, for png, whether the cap shrank it and to what.
    """
    format = format_for(path, format)
    if format == "dot":
        write_atomic(path, dot_source.encode("utf-8"))
        return Rendered(path)
    engine = find_engine()
    if format == "pdf" and not engine.system:
        raise RenderError(
            f"pdf needs a system Graphviz `dot` (`apt-get install graphviz`); "
            f"{_PURE} writes svg and png only"
        )
    attrs = {}
    if format == "png":
        if dpi is not None:
            attrs["dpi"] = dpi
        if max_pixels is not None:
            # size is in inches; the drawing only shrinks to fit, never grows
            inches = max_pixels / (96 if dpi is None else dpi)
            attrs["size"] = f"{inches:.4g},{inches:.4g}"
    data, layout, in_order = _layout_in_time_order(dot_source, format, engine, attrs)
    write_atomic(path, data)
    result = Rendered(path)
    result.in_time_order = in_order
    if format == "png" and layout is not None and data[:8] == b"\x89PNG\r\n\x1a\n":
        result.size = struct.unpack(">II", data[16:24])
        # the layout's bounding box is in points (1/72 inch) before any size= scaling
        _, _, width, height = (float(v) for v in layout["bb"].split(","))
        scale = (96 if dpi is None else float(dpi)) / 72.0
        result.natural = (round(width * scale), round(height * scale))
        result.shrunk = max(result.natural) > max(result.size) * 1.02 + 2
    return result


# ----- one layout, many drawings: the frames of an animation keep every node in place --------

_ID = r'(?:[A-Za-z_]\w*|"(?:[^"\\]|\\.)*")'
_EDGE = re.compile(rf"^(\s*{_ID} -> {_ID}(?: \[.*\])?);$", re.M)  # one per line, as to_dot
_KEEP = {"node": ("pos", "width", "height", "xlp"), "cluster": ("bb", "lp")}
_KEEP["edge"] = ("pos", "lp", "xlp", "head_lp", "tail_lp")


def positions(dot_source):
    """Lay `dot_source` out once: Graphviz's json (where each node, cluster and edge goes,
    in points), with the time steps left to right as `render` makes them."""
    data, _, _ = _layout_in_time_order(dot_source, "json", find_engine(), {})
    return json.loads(data)


def draw_at(dot_source, placed, format="png", attrs=None):
    """Draw `dot_source` with every node, cluster and edge where `placed` (a `positions`
    result) has it, without laying it out again: Graphviz only draws (neato -n2).

    `dot_source` must be the same graph as the one laid out (the same nodes, clusters and
    edge statements in the same order, one edge per line); labels, colours and the title
    may differ. `attrs` are default graph attributes (`dpi`).
    """
    return _layout(pin(dot_source, placed, attrs), format, find_engine(), pinned=True)


def pin(dot_source, placed, attrs=None):
    """`dot_source` with the geometry of `placed` written into it: each edge statement gets
    its route, and statements added at the end place every node and cluster (a later
    attribute overrides an earlier one)."""
    edges = placed.get("edges", [])
    found = len(_EDGE.findall(dot_source))
    if found != len(edges):
        raise RenderError(
            f"cannot draw at a layout of another graph: the layout has {len(edges)} edges, "
            f"this graph {found}"
        )
    routes = iter(edges)

    def geometry(item, kind):
        return ", ".join(f"{k}={_quote(item[k])}" for k in _KEEP[kind] if k in item)

    text = _EDGE.sub(lambda m: f"{m.group(1)} [{geometry(next(routes), 'edge')}];", dot_source)
    places = []
    for item in placed.get("objects", ()):
        name = _quote(item["name"])
        if "nodes" not in item:
            places.append(f"  {name} [{geometry(item, 'node')}];")
        elif "bb" in item:  # a cluster
            places.append(f"  subgraph {name} {{ graph [{geometry(item, 'cluster')}]; }}")
    end = text.rstrip().rfind("}")
    text = text[:end] + "\n".join(places) + "\n" + text[end:]
    # the title is placed by Graphviz in each drawing (it may differ); the rest is fixed
    return _with_defaults(text, {**(attrs or {}), "bb": placed["bb"]})


def _quote(value):
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Picture:
    """A drawn graph for notebooks: Jupyter shows it inline (`_repr_svg_`), `.save(path)`
    writes svg/png/pdf/dot by the suffix, `.dot` is the DOT text."""

    def __init__(self, dot):
        self.dot = dot
        self._svg = None

    def svg(self):
        """The picture as SVG text (laid out once, then kept)."""
        if self._svg is None:
            self._svg = layout(self.dot, "svg").decode("utf-8")
        return self._svg

    def _repr_svg_(self):
        return self.svg()

    def save(self, path, format=None, **options):
        """Write the picture to `path` (`render`'s options: dpi, max_pixels); returns `path`."""
        return render(self.dot, path, format, **options)

    def __repr__(self):
        return f"<Picture: {self.dot.count(chr(10))} lines of DOT; .save(path), .dot, .svg()>"


def draw(roots, **options):
    """`to_dot(roots, **options)` as a `Picture`: `viz.draw(loss)` in a notebook cell shows
    the unrolled graph, coloured by gradient (run `backward()` first)."""
    from .dot import to_dot

    return Picture(to_dot(roots, **options))
