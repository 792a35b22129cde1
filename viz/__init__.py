"""Pictures of graphs. Reads graphs, never changes them; imports tinygrad_rnn, never the reverse.

`viz.render(dot_source, path)` is the function (the module is `viz.render` only to
`from viz.render import ...`); `viz.RenderError` is what every rendering failure raises.
`viz.to_dot(roots, **options)` turns a graph into DOT text (see viz/dot.py);
`viz.draw(roots, **options)` is the same as a `Picture` that a notebook shows inline.
"""

from .dot import GraphTooLarge, to_dot
from .render import Picture, RenderError, draw, find_engine, render

__all__ = ["GraphTooLarge", "Picture", "RenderError", "draw", "find_engine", "render", "to_dot"]
