"""Heatmaps of a trained model on one input (matplotlib, imported lazily through plots).

    connectivity_figure([conn], "conn.png")      C[t, k] = ||d o_t / d x_k||, log colour scale
    gates_figure(gates, "gates.png")             unit x time panels of i, f, o, c, h (or r, z, n, h)

The input tokens run along the horizontal axis under their steps. As in the graph pictures,
lighter means smaller; an exact zero (an output that cannot see a later input) is white.
"""

import numpy as np

from .plots import PlotError, pyplot, save

__all__ = ["connectivity_figure", "gates_figure"]

GATE_NAMES = {
    "i": "input gate i_t",
    "f": "forget gate f_t",
    "o": "output gate o_t",
    "c": "cell state c_t",
    "h": "hidden state h_t",
    "r": "reset gate r_t",
    "z": "update gate z_t",
    "n": "candidate n_t",
}


def _ticks(ax, labels, axis="x"):
    """One tick per step, labelled with its token; every other one when there are many."""
    every = max(1, int(np.ceil(len(labels) / 40)))
    positions = list(range(0, len(labels), every))
    text = [labels[k] for k in positions]
    size = 8 if len(labels) <= 24 else 6
    if axis == "x":
        ax.set_xticks(positions)
        ax.set_xticklabels(text, rotation=90, fontsize=size)
    else:
        ax.set_yticks(positions)
        ax.set_yticklabels(text, fontsize=size)


def connectivity_figure(results, path, titles=None):
    """One heatmap per `Connectivity` side by side, on one shared log colour scale."""
    plt = pyplot()
    from matplotlib.colors import LogNorm

    positive = np.concatenate([r.matrix[r.matrix > 0] for r in results] + [np.zeros(0)])
    if positive.size == 0:
        raise PlotError("connectivity: every entry is zero, nothing to draw")
    norm = LogNorm(vmin=max(positive.min(), positive.max() * 1e-8), vmax=positive.max())
    cmap = plt.get_cmap("magma_r").with_extremes(bad="white")
    width = max(4.5, min(9.0, 0.28 * results[0].matrix.shape[1] + 2.5))
    height = max(2.6, min(9.0, 0.28 * results[0].matrix.shape[0] + 2.2))
    fig, axes = plt.subplots(
        1,
        len(results),
        figsize=(width * len(results), height),
        squeeze=False,
        dpi=100,
        layout="constrained",
    )
    try:
        image = None
        for ax, result, k in zip(axes[0], results, range(len(results))):
            shown = np.ma.masked_where(result.matrix <= 0, result.matrix)
            image = ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
            _ticks(ax, result.inputs)
            ax.set_xlabel("input step k (its token)")
            if result.matrix.shape[0] == len(result.inputs):
                _ticks(ax, [f"{r} {s}" for r, s in zip(result.rows, result.inputs)], axis="y")
                ax.set_ylabel("output step t (o_t, reading x_t)")
            else:
                _ticks(ax, result.rows, axis="y")
                ax.set_ylabel("output")
            title = titles[k] if titles else result.title
            ax.set_title(_wrap(title), fontsize=8)
        bar = fig.colorbar(image, ax=list(axes[0]), shrink=0.9)
        bar.set_label("||d o_t / d x_k||  (white: exactly 0)")
        return save(fig, path)
    finally:
        plt.close(fig)


def gates_figure(gates, path):
    """One unit x time panel per table of a `Gates`, the tokens under the last panel."""
    plt = pyplot()
    names = list(gates.tables)
    units, steps = gates.tables[names[0]].shape
    width = max(6.0, min(18.0, 0.3 * steps + 2.5))
    panel = max(1.0, min(3.0, 0.12 * units + 0.6))
    fig, axes = plt.subplots(
        len(names),
        1,
        figsize=(width, panel * len(names) + 1.4),
        sharex=True,
        squeeze=False,
        dpi=100,
        layout="constrained",
    )
    try:
        for ax, name in zip(axes[:, 0], names):
            table = gates.tables[name]
            if name in ("i", "f", "o", "r", "z"):
                image = ax.imshow(table, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
            else:
                bound = max(1.0, float(np.abs(table).max())) if name == "c" else 1.0
                image = ax.imshow(table, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
            ax.set_ylabel("unit", fontsize=8)
            ax.set_title(GATE_NAMES.get(name, name), fontsize=9, loc="left")
            fig.colorbar(image, ax=ax, pad=0.01, fraction=0.04)
        labels = gates.inputs if len(gates.inputs) == steps else [str(t) for t in range(steps)]
        _ticks(axes[-1, 0], labels)
        axes[-1, 0].set_xlabel("step t (its input)")
        where = f"layer {gates.layer}" + (f", {gates.direction}" if gates.direction else "")
        fig.suptitle(_wrap(f"{gates.title} ({where})"), fontsize=9)
        return save(fig, path)
    finally:
        plt.close(fig)


def _wrap(text, width=90):
    """Break a long title into lines of at most `width` characters, at spaces."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line])
