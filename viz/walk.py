"""`tinygrad-rnn step --html/--gif`: an unrolled model's backward walk, as a page and a GIF.

    lines = write_walks(run, rebuild, html_path="walk.html", gif_path="walk.gif")

The page (viz.html) lets a reader step through the forward pass, then the backward pass,
in any browser; the GIF (viz.gif) shows the backward walk a frame per node or per step.
Each runs backward on its own graph, so `rebuild()` gives the GIF a fresh one.
"""

from .demo import describe
from .gif import write_gif
from .html import write_page

__all__ = ["write_walks"]


def write_walks(
    run, rebuild, checkpoint=None, html_path=None, gif_path=None, per="node", detail="op",
    lang="en", notation="pytorch", grad_range=None,
):  # fmt: skip
    """Write `run`'s walk as a page to `html_path` and as a GIF to `gif_path` (either may be
    None); returns the lines to print ('wrote walk.html', 'wrote walk.gif (12 frames)').

    The page's title describes the lecture model, or names the `checkpoint` a trained model
    came from, the tokens it reads (one per time step, padding included) and its loss. Its
    BPTT panel follows layer 0's W_hh (of a model that has one); `per`: a GIF frame per
    "node" or per time "step"; `lang`: the page's language; `grad_range`: a fixed colour
    scale (lo, hi) for both.
    """
    lines = []
    if html_path:
        title = describe(run) if checkpoint is None else _trained_title(run, checkpoint)
        weight = run.model.layer_parameters(0, 0)[1] if run.model is not None else None
        write_page(
            run.loss, html_path, bptt_param=weight, notation=notation, lang=lang, title=title,
            detail=detail, grad_range=grad_range,
        )  # fmt: skip
        lines.append(f"wrote {html_path}")
    if gif_path:
        if html_path:
            run = rebuild()  # a fresh graph: the page ran backward
        fixed = {} if grad_range is None else {"grad_range": grad_range}
        count = write_gif(run.loss, gif_path, per=per, notation=notation, detail=detail, **fixed)
        lines.append(f"wrote {gif_path} ({count} frames)")
    return lines


def _trained_title(run, checkpoint, limit=70):
    """'intent.npz reading "<pad> <pad> what time is it": loss E' (long inputs cut at `limit`)."""
    words = " ".join(getattr(run, "labels", None) or ())
    if len(words) > limit:
        words = words[: limit - 3] + "..."
    reading = f' reading "{words}"' if words else ""
    return f"{checkpoint}{reading}: loss {run.loss.label}"
