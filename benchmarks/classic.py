"""The classic RNN results, reproduced with tinygrad_rnn's training loop (full runs).

    adding     adding problem, T = 50: LSTM vs tanh RNN, same budget (Hochreiter 1997)
    adding100  the stretch goal: LSTM on T = 100
    exploding  linear and relu RNNs at spectral radius 1.5, SGD with and without --clip 1.0
    copy       seq2seq copy task: reversed source vs not (Sutskever et al. 2014)
    tbptt      adding problem with truncated BPTT(k, k), k from 1 to T
    tbptt1997  the same with Hochreiter & Schmidhuber's 1997 marker placement (T = 20):
               every marker at least 11 steps before the output
    echo       y_t = x_{t-5}: truncated BPTT(k, k) with k below and above the delay
    adding1997 the adding problem exactly as Hochreiter & Schmidhuber 1997 define it (T = 50),
               with their success test (|error| < 0.04) and stopping criterion

Every run is a `tinygrad_rnn.train.Run`, exactly what `tinygrad-rnn train` runs: each
table row prints the equivalent command, which gives the same numbers (same seed, same
batches). The test metric is measured every --eval-every steps on a fixed held-out batch;
"steps to target" is the first such measurement that reaches the target. Wall time counts
training steps only (not the evaluations).

Every configuration runs once per seed (--seeds, default 5: seeds 0..4); the summary reports
what the papers report: the success rate (runs whose final test metric meets the target) and
medians over the runs (steps to target over the successful runs, final metric over all).

    python benchmarks/classic.py [adding adding100 exploding copy tbptt tbptt1997 echo
                                  adding1997] [--seeds 5] [--json out.json] [--plots docs/img]
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
    "adding1997": [
        ("LSTM",
         dict(task="adding1997", length=50, hidden=64, batch=32, optim="adam", lr=0.01,
              cell="lstm", steps=1500, eval_every=500, eval_batch=2560),
         ("<", 0.01)),
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
    found = run.evaluation() if run.diverged is None else {"metric": math.nan}
    final = found["metric"]
    stopping = run.stopping_criterion()
    return {
        "seed": run.config["seed"],
        "wrong_fraction": found.get("wrong_fraction"),
        "stopping_criterion": None if stopping is None else stopping["holds"],
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


def median(values):
    values = sorted(v for v in values if v is not None and not math.isnan(v))
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def summary_row(runs):
    """One configuration over its seeds: success rate and medians."""
    r0 = runs[0]
    ok = [r for r in runs if r["diverged_at"] is None and reached(r["final"], parse(r["target"]))]
    steps = median([r["steps_to_target"] for r in ok])
    final = median([r["final"] for r in runs])
    cells = [
        r0["label"],
        f"{len(ok)}/{len(runs)}",
        "-" if steps is None else f"{steps:g}",
        "-" if final is None else f"{final:.4g}",
        f"{r0['baseline']:.3g}",
    ]
    if r0.get("wrong_fraction") is not None:
        wrong = median([r["wrong_fraction"] for r in runs])
        holds = sum(1 for r in runs if r["stopping_criterion"])
        cells += [f"{100 * wrong:.1f}%", f"{holds}/{len(runs)}"]
    cells.append(f"{median([r['seconds'] for r in runs]):.0f} s")
    return "| " + " | ".join(cells) + " |"


def parse(target):
    op, bound = target.split()
    return op, float(bound)


def summary_header(runs):
    r0 = runs[0]
    names = ["run", "succeeded", f"median steps to {r0['target']}", f"median test {r0['metric']}"]
    names.append("baseline")
    if r0.get("wrong_fraction") is not None:
        names += ["median wrong (|error| >= 0.04)", "1997 stopping criterion held"]
    names.append("median wall time")
    return "| " + " | ".join(names) + " |\n|" + "---|" * len(names)


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


def summarize(paths):
    """The success-rate tables of saved results: runs grouped by their command (one
    configuration) in the order first seen, seeds in any order."""
    groups = {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        runs = [data] if "label" in data else [r for rs in data.values() for r in rs]
        for r in runs:
            command = " ".join(w for w in r["command"].split(" --seed ")[0:1])
            rest = r["command"].split(" --seed ")[1:]
            if rest:  # the command without its seed: one configuration, several seeds
                command += " " + rest[0].split(" ", 1)[1] if " " in rest[0] else ""
            groups.setdefault(command, []).append(r)
    for command, runs in groups.items():
        runs.sort(key=lambda r: r.get("seed", 0))
        print(summary_header(runs))
        print(summary_row(runs))
        seeds = ", ".join(str(r.get("seed", 0)) for r in runs)
        print(f"\n    {command} --seed S    (S = {seeds})\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(EXPERIMENTS))
    parser.add_argument("--json", help="write every result (with curves) to this file")
    parser.add_argument("--plots", help="write one learning-curve figure per experiment here")
    parser.add_argument(
        "--seeds", type=int, default=5, help="runs per configuration, seeds 0..N-1 (default 5)"
    )
    parser.add_argument(
        "--summarize",
        nargs="+",
        metavar="JSON",
        help="print the seed tables of saved results (--json files, or one run per file)",
    )
    args = parser.parse_args()
    if args.summarize:
        return summarize(args.summarize)
    unknown = [n for n in args.names if n not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment {unknown[0]!r} (choose from {', '.join(EXPERIMENTS)})")
    everything = {}
    for name in args.names or list(EXPERIMENTS):
        results, groups = [], []
        for label, options, target in EXPERIMENTS[name]:
            group = []
            for seed in range(args.seeds):
                group.append(run_one(label, dict(options, seed=seed), target))
                print(
                    f"[{name}] {label} seed {seed}: {group[-1]['final']:.4g} "
                    f"({group[-1]['seconds']:.1f} s)",
                    file=sys.stderr,
                    flush=True,
                )
            groups.append(group)
            results.append(group[0])
        everything[name] = [r for group in groups for r in group]
        if args.json:
            with open(args.json, "w") as f:
                json.dump(everything, f, indent=1, default=float)
        print(f"\n### {name}: {args.seeds} seeds per run\n")
        print(summary_header(groups[0]))
        for group in groups:
            print(summary_row(group))
        print("\nSeed 0 of each run:\n")
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
