"""Pictures of graphs. Reads graphs, never changes them; imports tinygrad_rnn, never the reverse.

`viz.render(dot_source, path)` is the function (the module is `viz.render` only to
`from viz.render import ...`); `viz.RenderError` is what every rendering failure raises.
`viz.to_dot(roots, **options)` turns a graph into DOT text (see viz/dot.py).
"""

from .dot import GraphTooLarge, to_dot
from .render import RenderError, find_engine, render

__all__ = ["GraphTooLarge", "RenderError", "find_engine", "render", "to_dot"]
