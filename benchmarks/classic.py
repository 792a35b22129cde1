"""The classic RNN results, reproduced with tinygrad_rnn's training loop (full runs).

    adding     adding problem, T = 50: LSTM vs tanh RNN, same budget (Hochreiter 1997)
    adding100  the stretch goal: LSTM on T = 100
    exploding  linear and relu RNNs at spectral radius 1.5, SGD with and without --clip 1.0
    copy       seq2seq copy task: reversed source vs not (Sutskever et al. 2014)
    tbptt      adding problem with truncated BPTT(k, k), k from 1 to T
    tbptt1997  the same with Hochreiter & Schmidhuber's 1997 marker placement (T = 20):
               every marker at least 11 steps before the output
    echo       y_t = x_{t-5}: truncated BPTT(k, k) with k below and above the delay

Every run is a `tinygrad_rnn.train.Run`, exactly what `tinygrad-rnn train` runs: each
table row prints the equivalent command, which gives the same numbers (same seed, same
batches). The test metric is measured every --eval-every steps on a fixed held-out batch;
"steps to target" is the first such measurement that reaches the target. Wall time counts
training steps only (not the evaluations).

    python benchmarks/classic.py [adding adding100 exploding copy tbptt tbptt1997 echo]
                                 [--json out.json] [--plots docs/img]
"""

import argparse
import os
import sys

# one BLAS thread: with several, OpenBLAS spends more time waking threads than multiplying
# these small matrices (an LSTM step went from 21 ms to 180 ms on 2 shared cores)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tinygrad_rnn.train import DEFAULTS, Run, make_config  # noqa: E402

ADDING = dict(task="adding", length=50, hidden=64, batch=32, optim="adam", lr=0.01)
EXPERIMENTS = {
    "adding": [
        ("LSTM", dict(ADDING, cell="lstm", steps=1500, eval_every=50), ("<", 0.01)),
        ("tanh RNN", dict(ADDING, cell="rnn", steps=1500, eval_every=50), ("<", 0.01)),
    ],
    "adding100": [
        ("LSTM, T = 100", dict(ADDING, length=100, cell="lstm", steps=3000, eval_every=100),
         ("<", 0.01)),
    ],
    "exploding": [
        (f"{act} RNN, {'clip 1.0' if clip else 'no clip'}",
         dict(task="sine", length=50, cell="rnn", nonlinearity=act, radius=1.5, hidden=32,
              batch=32, optim="sgd", lr=0.1, clip=clip, steps=1500, eval_every=100),
         ("<", 0.166))
        for act in ("linear", "relu") for clip in (None, 1.0)
    ],
    "copy": [
        (f"seq2seq LSTM, {'reversed' if rev else 'plain'} source",
         dict(task="copy", length=12, hidden=64, batch=32, optim="adam", lr=0.01,
              reverse_source=rev, steps=3000, eval_every=50, eval_batch=256, stop_at=0.95),
         (">=", 0.95))
        for rev in (True, False)
    ],
    "tbptt": [
        (f"LSTM, BPTT({k}, {k})",
         dict(ADDING, cell="lstm", k1=k, k2=k, steps=1500, eval_every=50), ("<", 0.01))
        for k in (1, 2, 5, 10, 25, 50)
    ],
    "tbptt1997": [
        (f"LSTM, BPTT({k}, {k})" if k else "LSTM, full BPTT",
         dict(task="adding1997", length=20, hidden=64, batch=32, optim="adam", lr=0.003,
              cell="lstm", k1=k, k2=k, steps=6000, eval_every=250),
         ("<", 0.01))
        for k in (10, 15, None)
    ],
    "echo": [
        (f"LSTM, BPTT({k}, {k})" if k else "LSTM, full BPTT",
         dict(task="echo", length=20, hidden=32, batch=32, optim="adam", lr=0.01, k1=k, k2=k,
              steps=1000, eval_every=50),
         (">=", 0.95))
        for k in (2, 5, 6, 10, None)
    ],
}  # fmt: skip


def command(config):
    """The `tinygrad-rnn train` command line that runs `config`."""
    parts = ["tinygrad-rnn train"]
    for key, value in config.items():
        if key == "stop_at" or value is None:
            continue
        if value == DEFAULTS.get(key) and key not in ("task", "cell"):
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            parts.append(flag)
        else:
            parts.append(f"{flag} {value}")
    return " ".join(parts)


def reached(value, target):
    op, bound = target
    return value < bound if op == "<" else value >= bound


def run_one(label, options, target):
    options = dict(options)
    stop_at = options.pop("stop_at", None)
    run = Run(make_config(**options))
    curve, losses, clipped, first, train_seconds = [], [], 0, None, 0.0
    while run.step < run.config["steps"] and run.diverged is None:
        start = time.perf_counter()
        record = run.train_step()
        train_seconds += time.perf_counter() - start
        losses.append(record["loss"])
        clipped += record["clipped"]
        every = run.config["eval_every"]
        if run.diverged is None and (run.step % every == 0 or run.step == run.config["steps"]):
            metric = run.evaluate()
            curve.append((run.step, metric))
            if first is None and reached(metric, target):
                first = run.step
                if stop_at is not None:
                    break
    final = run.evaluate() if run.diverged is None else math.nan
    return {
        "label": label,
        "command": command(options),
        "steps": run.step,
        "diverged_at": run.diverged,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "clipped": clipped,
        "metric": run.task.metric,
        "final": final,
        "baseline": run.task.baseline,
        "target": f"{target[0]} {target[1]}",
        "steps_to_target": first,
        "seconds": train_seconds,
        "ms_per_step": 1000 * train_seconds / max(1, len(losses)),
        "curve": curve,
        "losses": losses,
    }


def row(r):
    to_target = r["steps_to_target"] if r["steps_to_target"] is not None else "not reached"
    outcome = f"diverged at step {r['diverged_at']}" if r["diverged_at"] else f"{r['final']:.4g}"
    return (
        f"| {r['label']} | {r['steps']} | {outcome} | {r['baseline']:.3g} | {to_target} "
        f"| {r['clipped']} | {r['seconds']:.1f} s | {r['ms_per_step']:.1f} |"
    )


HEADER = (
    "| run | steps | test {metric} | baseline | steps to {target} | clipped | wall time "
    "| ms/step |\n"
    "|---|---|---|---|---|---|---|---|"
)


def plot(name, results, directory):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    for r in results:
        if r["curve"]:
            steps, values = zip(*r["curve"])
            ax.plot(steps, values, label=r["label"])
        elif r["diverged_at"]:
            ax.axvline(
                r["diverged_at"], color="red", linestyle=":", label=f"{r['label']} (diverged)"
            )
    ax.axhline(results[0]["baseline"], color="gray", linestyle="--", label="baseline")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"test {results[0]['metric']}")
    if results[0]["metric"] == "MSE":
        ax.set_yscale("log")
    ax.set_title(name)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(directory, f"results_{name}.png")
    fig.savefig(path)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(EXPERIMENTS))
    parser.add_argument("--json", help="write every result (with curves) to this file")
    parser.add_argument("--plots", help="write one learning-curve figure per experiment here")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment {unknown[0]!r} (choose from {', '.join(EXPERIMENTS)})")
    everything = {}
    for name in args.names or list(EXPERIMENTS):
        results = []
        for label, options, target in EXPERIMENTS[name]:
            results.append(run_one(label, options, target))
            print(
                f"[{name}] {results[-1]['label']}: {results[-1]['seconds']:.1f} s", file=sys.stderr
            )
        everything[name] = results
        print(f"\n### {name}\n")
        print(HEADER.format(metric=results[0]["metric"], target=results[0]["target"]))
        for r in results:
            print(row(r))
        print()
        for r in results:
            print(f"    {r['command']}")
        if args.plots:
            print(f"\n![{name}]({plot(name, results, args.plots)})")
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(everything, f, indent=1, default=float)


if __name__ == "__main__":
    main()
