"""Training curves of one or more `train --log` runs, overlaid (matplotlib, lazily).

    training_figure([read_log("rnn.jsonl"), read_log("lstm.jsonl")], "runs.png")

Three panels over the optimizer step: the training loss; the evaluation metric with the
task's baseline dashed (when the run was logged with --eval-every); the global gradient
norm on a log scale (Pascanu et al.'s picture), clipped steps marked with an x.
"""

from .plots import pyplot, save

__all__ = ["training_figure"]


def training_figure(logs, path, title=None):
    """Draw `logs` (RunLog objects) into `path`; returns the path."""
    plt = pyplot()
    with_eval = any(log.eval for log in logs)
    panels = 3 if with_eval else 2
    fig, axes = plt.subplots(
        panels, 1, figsize=(8, 2.6 * panels + 0.6), sharex=True, dpi=100, layout="constrained"
    )
    loss_ax, norm_ax = axes[0], axes[-1]
    try:
        baselines = {}
        for log in logs:
            (line,) = loss_ax.plot(log.steps, _gaps(log.loss), linewidth=1.2, label=log.name)
            color = line.get_color()
            if with_eval and log.eval:
                axes[1].plot(log.eval_steps, log.eval, marker="o", ms=3, color=color)
                if log.baseline is not None:
                    baselines.setdefault((log.metric, log.baseline), color)
            norms = _gaps(log.grad_norm)
            norm_ax.plot(log.steps, norms, linewidth=1.0, color=color)
            clipped = set(log.clipped)
            marks = [(s, n) for s, n in zip(log.steps, norms) if s in clipped and n == n]
            if marks:
                norm_ax.plot(
                    [s for s, _ in marks],
                    [n for _, n in marks],
                    "x",
                    ms=4,
                    color=color,
                    label=f"{log.name}: clipped ({len(marks)})",
                )
        loss_ax.set_ylabel("training loss")
        loss_ax.legend(fontsize=8)
        if with_eval:
            metrics = sorted({log.metric for log in logs if log.eval})
            axes[1].set_ylabel(" / ".join(metrics))
            for (_, value), _color in baselines.items():
                axes[1].axhline(value, linestyle="--", linewidth=1, color="gray")
                axes[1].annotate(
                    f"baseline {value:.3g}",
                    (0.99, value),
                    xycoords=("axes fraction", "data"),
                    ha="right",
                    va="bottom",
                    fontsize=7,
                )
        if any(n is not None and n > 0 for log in logs for n in log.grad_norm):
            norm_ax.set_yscale("log")
        norm_ax.set_ylabel("gradient norm")
        norm_ax.set_xlabel("optimizer step")
        if norm_ax.get_legend_handles_labels()[0]:
            norm_ax.legend(fontsize=7)
        for ax in axes:
            ax.grid(True, which="major", alpha=0.3)
        fig.suptitle(title or "training: " + ", ".join(log.name for log in logs), fontsize=10)
        return save(fig, path)
    finally:
        plt.close(fig)


def _gaps(values):
    """None (not finite) becomes NaN: matplotlib leaves a gap instead of a wrong point."""
    return [float("nan") if v is None else v for v in values]
