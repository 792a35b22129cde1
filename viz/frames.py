"""One frame of a stepped backward pass: the graph with the steps done so far coloured.

    dot = step_frame(session)        # a tinygrad_rnn.analysis.debugger.Session
    render(dot, "frame.svg")

Nodes whose step has run are filled by log10 |grad| (the same scale as every other
picture); nodes not reached yet are grey ("no gradient yet"); the current node, the last
step that ran, has a thick blue border. Edges carry the gradient sent along them so far.
"""

from tinygrad_rnn.analysis.debugger import node_name

from .dot import to_dot
from .render import render


def step_frame(session, upto=None, name=node_name, **options):
    """DOT text for `session`'s graph as it stands (or after its first `upto` steps);
    `name(node)` writes the title's node name; `options` go to `to_dot`."""
    done = session.steps if upto is None else session.steps[:upto]
    grads = {s.node: s.grad for s in done}
    edges = {s.node: s.input_grads for s in done if s.node.inputs}
    current = done[-1].node if done else None
    if current is None:
        title = f"backward pass of {name(session.root)}: step 0 of {session.total}"
    else:
        title = f"backward step {done[-1].index} of {session.total}: {name(current)}"
    options.setdefault("title", title)
    return to_dot(session.root, grads=grads, edge_grads=edges, current=current, **options)


def render_frame(session, path, **options):
    """Write `step_frame(session)` to `path` (svg, png, pdf or dot, from the suffix)."""
    # a long unrolled graph as png would be tens of thousands of pixels wide: cap it
    return render(step_frame(session, **options), path, max_pixels=4000)
