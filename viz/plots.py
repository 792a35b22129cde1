"""matplotlib figures (the optional `plot` extra: `pip install 'tinygrad-rnn[plot]'`).

matplotlib is imported inside the function that draws, so `import viz` never needs it.
"""

import os

from tinygrad_rnn.files import write_atomic

NO_MATPLOTLIB = (
    "--plot needs matplotlib: pip install 'tinygrad-rnn[plot]' (or pip install matplotlib)"
)


class PlotError(RuntimeError):
    """A figure could not be drawn; the message is one line saying what to do."""


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend; PlotError says how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise PlotError(NO_MATPLOTLIB) from None
    matplotlib.use("Agg")  # files only: never open a window
    import matplotlib.pyplot as plt

    return plt


def decay_series(label, report):
    """(label, T-k, |dh_T/dh_k|_2, bounds or None, |dE_T/dx_k|) of a `bptt.Report`, nearest
    step first; the last is the rows' input_grad_norm."""
    ks = sorted(report.jacobians, key=lambda k: abs(report.T - k))
    bounds = [report.rows[k].bound for k in ks] if report.gamma is not None else None
    norms = [report.rows[k].jacobian_norm for k in ks]
    inputs = [report.rows[k].input_grad_norm for k in ks]
    return label, [abs(report.T - k) for k in ks], norms, bounds, inputs


def jacobian_decay(series, path, title=None):
    """log |dh_T/dh_k|_2 against T-k, one line per series, its bound dashed in the same colour;
    beside it log |dE_T/dx_k| (input_grad_norm), how much the input k steps back can still
    teach the loss, when the series carry it.

    `series`: [(label, distances, norms, bounds or None[, input norms]), ...]; zero norms are
    left out (a log axis cannot show them). Writes `path` (png, svg or pdf by its suffix)
    and returns it.
    """
    plt = pyplot()
    with_inputs = any(len(s) > 4 and s[4] is not None for s in series)
    fig, axes = plt.subplots(1, 2 if with_inputs else 1, figsize=(12 if with_inputs else 7, 4.5))
    ax = axes[0] if with_inputs else axes
    try:
        for label, distances, norms, bounds, *rest in series:
            points = [(d, v) for d, v in zip(distances, norms) if v > 0]
            (line,) = ax.plot(
                [p[0] for p in points], [p[1] for p in points], marker="o", ms=3, label=label
            )
            if bounds is not None:
                ax.plot(
                    distances,
                    bounds,
                    linestyle="--",
                    color=line.get_color(),
                    linewidth=1,
                    label=f"{label}: bound",
                )
            if with_inputs and rest and rest[0] is not None:
                found = [(d, v) for d, v in zip(distances, rest[0]) if v and v > 0]
                axes[1].plot(
                    [p[0] for p in found],
                    [p[1] for p in found],
                    marker="o",
                    ms=3,
                    color=line.get_color(),
                    label=label,
                )
        ax.set_yscale("log")
        ax.set_xlabel("T - k (steps back)")
        ax.set_ylabel("|dh_T/dh_k|_2")
        ax.set_title(title or "How far back the gradient reaches")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        if with_inputs:
            axes[1].set_yscale("log")
            axes[1].set_xlabel("T - k (steps back)")
            axes[1].set_ylabel("|dE_T/dx_k| (input_grad_norm)")
            axes[1].set_title("What the input k steps back can still teach E_T")
            axes[1].grid(True, which="both", alpha=0.3)
            axes[1].legend(fontsize=8)
        fig.tight_layout()
        save(fig, path)
    finally:
        plt.close(fig)
    return path


def save(fig, path):
    """Write `fig` to `path` (png, svg or pdf by its suffix), or a PlotError naming the folder."""
    import io

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise PlotError(f"cannot write {path}: the folder {folder} does not exist")
    kind = os.path.splitext(path)[1].lower().lstrip(".") or "png"
    if kind not in fig.canvas.get_supported_filetypes():
        raise PlotError(
            f"cannot write {path}: '.{kind}' is not a picture format (use .png, .svg or .pdf)"
        )
    buffer = io.BytesIO()
    fig.savefig(buffer, format=kind)
    # drawn in memory first: a failure leaves an earlier file whole, never half written
    write_atomic(path, buffer.getvalue())
    return path
