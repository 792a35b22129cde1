"""The backward walk as an animated GIF, for slides: a frame per node or per time step.

    write_gif(run.loss, "walk.gif", per="step")

Each frame is `viz.frames.step_frame`'s picture (done nodes filled by |grad|, the rest
grey, the current node outlined in blue). Graphviz lays out the finished pass once and
draws every frame at those positions, so no node moves between frames and every frame has
the same size and scale; Pillow (imported here only) writes the animation. The first frame
is the graph before the walk, the last one the finished pass, held longer.
"""

import io

from tinygrad_rnn.analysis.debugger import Session
from tinygrad_rnn.files import write_atomic

from .frames import step_frame
from .graph import GraphView, namer
from .render import draw_at, positions
from .style import decade_range, grad_norm

PER = ("node", "step")
MAX_FRAMES = 120
FRAME_PIXELS = 1200  # the longer side of a frame, at most


def walk_frames(root, per="node", max_frames=MAX_FRAMES, notation="pytorch", **options):
    """DOT text of each frame: before the walk, after each node (or each time step), done.

    Every frame uses the colour scale of the finished pass, so a colour means the same
    |grad| in all of them.
    """
    if per not in PER:
        raise ValueError(f"per must be one of {', '.join(PER)}, got {per!r}")
    session = Session(root)
    cuts = [0]
    while session.advance() is not None:
        step = session.current
        upcoming = session.order[step.index] if step.index < session.total else None
        if per == "step" and upcoming is not None:
            if upcoming.tags.get("t") == step.node.tags.get("t"):
                continue  # the walk is still inside this time step
        cuts.append(len(session.steps))
        if len(cuts) > max_frames:
            raise ValueError(
                f"the animation would have more than {max_frames} frames "
                f"({session.total} backward steps); use --per step or fewer --steps"
            )
    if cuts[-1] != len(session.steps):
        cuts.append(len(session.steps))
    norms = [grad_norm(s.grad) for s in session.steps]
    options.setdefault("grad_range", decade_range(norms, span=12))
    label = namer(GraphView(root).nodes, notation)

    def name(node):
        where = f" (t = {node.tags['t']})" if "t" in node.tags else ""
        return f"{label(node) or node.op.name}{where}"

    return [step_frame(session, upto=k, name=name, notation=notation, **options) for k in cuts]


def write_gif(root, path, per="node", frame_ms=None, max_frames=MAX_FRAMES, **options):
    """Render `walk_frames(...)` to PNG and write them to `path` as a looping GIF."""
    from PIL import Image  # optional dependency, only for animations

    dots = walk_frames(root, per=per, max_frames=max_frames, **options)
    # one layout for all frames: the finished pass's, where every label is at its longest;
    # the scale that fits it in FRAME_PIXELS (room for the pad and the rounding Graphviz adds)
    placed = positions(dots[-1])
    _, _, width, height = (float(v) for v in placed["bb"].split(","))
    dpi = {"dpi": f"{min(96.0, FRAME_PIXELS * 72 / (max(width, height) + 24)):.4g}"}
    images = [
        Image.open(io.BytesIO(draw_at(dot, placed, "png", dpi))).convert("RGB") for dot in dots
    ]
    width = max(im.width for im in images)
    height = max(im.height for im in images)
    frames = []
    for im in images:
        canvas = Image.new("RGB", (width, height), "white")
        canvas.paste(im, (0, 0))
        frames.append(canvas.convert("P", palette=Image.Palette.ADAPTIVE, colors=128))
    if frame_ms is None:
        frame_ms = 700 if per == "node" else 1500
    durations = [frame_ms] * len(frames)
    durations[0] = durations[-1] = max(2000, frame_ms)
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=frames[1:],
        duration=durations,
        loop=0,
        optimize=False,
    )
    write_atomic(path, buffer.getvalue())
    return len(frames)
