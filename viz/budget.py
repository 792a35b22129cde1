"""How many nodes a picture of the lecture model will have, predicted before building it.

`to_dot` counts the nodes it draws only after the model is built and backpropagated: for
`render --steps 20000` that is minutes and gigabytes before its limit says no. The drawn
count, like the graph's (see tinygrad_rnn.limits), is bilinear in steps T and layers L, so
four tiny pictures (T in {2, 3}, L in {1, 2}, hidden size 1) predict it for any T and L, a
window of W steps drawing about like a model of W steps (within ~20%: use it to refuse early,
not as the limit itself).
"""

from tinygrad_rnn import lecture

from .dot import GraphTooLarge
from .graph import GraphView
from .scene import Scene


def _drawn(run, detail, params):
    run.loss.backward()
    scene = Scene(GraphView(run.loss), detail, params, None)
    scene.measure(None, None)
    scene.build()
    return len(scene.nodes)


def picture_nodes(model, detail="op", params=True, window=None):
    """The number of nodes `to_dot` draws for `lecture.build(**model)` with these options.

    `model`: cell, steps, layers, bidirectional, loss (others do not change the count).
    `window`: (a, b) steps drawn, or None for all.
    """
    steps = model.get("steps", 4)
    if window is not None:
        a, b = window
        steps = max(1, min(b, steps - 1) - max(a, 0) + 1)
    count = {}
    for t in (2, 3):  # T = 1 draws a little differently (no recurrent edge)
        for layers in (1, 2):
            run = lecture.build(
                model.get("cell", "rnn"),
                steps=t,
                hidden=1,
                input_size=1,
                layers=layers,
                bidirectional=model.get("bidirectional", False),
                loss="all" if model.get("loss") == "all" else "last",
            )
            count[t, layers] = _drawn(run, detail, params)
    d = count[3, 2] - count[2, 2] - count[3, 1] + count[2, 1]
    b = count[3, 1] - count[2, 1] - d
    c = count[2, 2] - count[2, 1] - 2 * d
    a = count[2, 1] - 2 * b - c - 2 * d
    layers = model.get("layers", 1)
    return a + b * steps + c * layers + d * steps * layers


def check_picture(model, detail="op", params=True, window=None, max_nodes=2000):
    """Refuse (GraphTooLarge, with the way out) a picture predicted to have more than 1.25 x
    `max_nodes` nodes, before the model is built; `to_dot` checks the exact count later."""
    drawn = picture_nodes(model, detail, params, window)
    if drawn > 1.25 * max_nodes:
        raise GraphTooLarge(
            f"the picture would have about {drawn:,} nodes (limit --max-nodes "
            f"{max_nodes}); use --detail cell, --window A:B (e.g. --window 0:9), "
            "a larger --max-nodes, or --force"
        )
    return drawn
