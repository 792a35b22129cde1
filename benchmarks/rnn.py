"""Forward + backward of whole recurrent models: tinygrad_rnn against numpy by hand and torch.

Three workloads, each timed against its references in one run (float64, one thread):

    char   vanilla RNN character model: vocab 65, hidden 100, 25 steps, batch 1, one-hot
           inputs, a linear head and a summed cross-entropy (nn.RNN + nn.Linear).
           References: the hand-derived numpy BPTT of benchmarks/numpy_char_rnn.py, written
           step by step as min-char-rnn is (the target's reference), and vectorised over
           time wherever the recurrence allows (the floor).
    small  LSTM 32 -> 64, batch 32, 50 steps, loss = sum of all outputs.
    large  LSTM 256 -> 512, batch 64, 50 steps, loss = sum of all outputs.
           References: torch eager stepping an LSTMCell in a Python loop, the fused
           nn.LSTM, and the hand-derived numpy BPTT of benchmarks/numpy_lstm.py (the floor).
           The char model gets the same two torch columns (RNNCell loop, fused nn.RNN).

Each figure is the minimum over rounds (after one warm-up) of building the graph and
backpropagating through it, with the garbage collector on as in a training loop; every
round runs every implementation once, so background load hits them alike. "gc share" is
the part of our time that goes away when collection is paused around forward + backward.
Torch columns are skipped when torch is not installed.

    python benchmarks/rnn.py [--markdown] [--repeat-scale 1.0] [--only small] [--processes 3]
                             [--profile small] [--cpu-time]

The summary at the end gives, per workload, the ratio the target is set on (char: the
min-char-rnn loop; small: torch's LSTMCell loop; large: the hand numpy BPTT) as the median
over --processes fresh processes of the ratio of best times within each process.
"""

import argparse
import os
import sys

# one BLAS thread everywhere, so the comparison is between engines, not thread pools;
# must be set before numpy (or torch) loads its BLAS
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import datetime  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy_char_rnn  # noqa: E402
import numpy_lstm  # noqa: E402

from tinygrad_rnn import Tensor, nn  # noqa: E402
from tinygrad_rnn.nn import functional as F  # noqa: E402

WORKLOADS = {
    # name: (description, repeats, the reference the target is against, target ratio)
    "char": ("vanilla RNN char model (V=65, H=100, T=25, B=1)", 60, "numpy", 0.7),
    "small": ("LSTM 32->64, B=32, T=50", 20, "loop", 1.0),
    "large": ("LSTM 256->512, B=64, T=50", 5, "floor", 1.1),
}
REFERENCES = {
    "numpy": "min-char-rnn numpy BPTT",
    "floor": "hand numpy BPTT",
    "loop": "torch LSTMCell loop",
}


CLOCK = time.perf_counter  # --cpu-time: time.process_time


def time_once(fn, paused_gc=False):
    """Time of one fn() call in seconds (wall, or this process's CPU time with --cpu-time),
    optionally with the garbage collector paused."""
    if paused_gc:
        gc.collect()
        gc.disable()
    try:
        start = CLOCK()
        fn()
        return CLOCK() - start
    finally:
        if paused_gc:
            gc.enable()


def best_times(candidates, repeat):
    """{name: minimum seconds} over `repeat` rounds; each round runs every candidate once.

    Interleaving the candidates spreads any background load on the machine over all of
    them alike, instead of penalising whichever happened to run during a busy spell.
    `candidates` maps name -> (fn, paused_gc).
    """
    for fn, _ in candidates.values():
        fn()  # warm-up: first-call allocations, BLAS initialisation
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(repeat):
        for name, (fn, paused_gc) in candidates.items():
            best[name] = min(best[name], time_once(fn, paused_gc))
    return best


def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


# ----- the character model ----------------------------------------------------------------------

VOCAB, HIDDEN, STEPS = 65, 100, 25


def char_data():
    rng = np.random.default_rng(0)
    text = rng.integers(0, VOCAB, size=STEPS + 1)
    return text[:-1], text[1:]


def char_ours(inputs, targets):
    nn.manual_seed(0)
    rnn, head = nn.RNN(VOCAB, HIDDEN), nn.Linear(HIDDEN, VOCAB)
    x = Tensor(np.eye(VOCAB)[inputs][:, None, :])  # (T, 1, V) one-hot

    def run():
        rnn.zero_grad()
        head.zero_grad()
        out, _ = rnn(x)
        logits = head(out.reshape(STEPS, HIDDEN))
        F.cross_entropy(logits, targets, reduction="sum").backward()

    return run


def char_numpy(inputs, targets, vectorised):
    params = numpy_char_rnn.init_params(VOCAB, HIDDEN)
    h_init = np.zeros(HIDDEN)
    if vectorised:
        return lambda: numpy_char_rnn.loss_and_grads(params, inputs, targets, h_init)
    return lambda: numpy_char_rnn.loss_and_grads_loop(params, inputs, targets, h_init)


def char_torch(torch, inputs, targets, fused):
    torch.manual_seed(0)
    head = torch.nn.Linear(HIDDEN, VOCAB).double()
    x = torch.nn.functional.one_hot(torch.from_numpy(inputs), VOCAB).double()[:, None, :]
    target = torch.from_numpy(targets)
    ce = torch.nn.functional.cross_entropy
    if fused:
        rnn = torch.nn.RNN(VOCAB, HIDDEN).double()

        def run():
            rnn.zero_grad()
            head.zero_grad()
            out, _ = rnn(x)
            ce(head(out.reshape(STEPS, HIDDEN)), target, reduction="sum").backward()

        return run
    cell = torch.nn.RNNCell(VOCAB, HIDDEN).double()

    def run_loop():
        cell.zero_grad()
        head.zero_grad()
        h, outs = None, []
        for t in range(STEPS):
            h = cell(x[t], h)
            outs.append(h)
        ce(head(torch.cat(outs)), target, reduction="sum").backward()

    return run_loop


# ----- the LSTMs --------------------------------------------------------------------------------

LSTM_SIZES = {"small": (32, 64, 32, 50), "large": (256, 512, 64, 50)}


def lstm_data(name):
    input_size, _, batch, steps = LSTM_SIZES[name]
    return np.random.default_rng(1).normal(size=(steps, batch, input_size))


def lstm_ours(name, x_data):
    input_size, hidden, _, _ = LSTM_SIZES[name]
    nn.manual_seed(0)
    lstm = nn.LSTM(input_size, hidden)
    x = Tensor(x_data)

    def run():
        lstm.zero_grad()
        out, _ = lstm(x)
        out.sum().backward()

    return run


def lstm_numpy(name, x_data):
    input_size, hidden, _, _ = LSTM_SIZES[name]
    params = numpy_lstm.init_params(input_size, hidden)
    grad_output = np.ones(x_data.shape[:2] + (hidden,))
    return lambda: numpy_lstm.forward_backward(params, x_data, grad_output)


def lstm_torch(torch, name, x_data, fused):
    input_size, hidden, _, steps = LSTM_SIZES[name]
    torch.manual_seed(0)
    x = torch.from_numpy(x_data)
    if fused:
        lstm = torch.nn.LSTM(input_size, hidden).double()

        def run():
            lstm.zero_grad()
            out, _ = lstm(x)
            out.sum().backward()

        return run
    cell = torch.nn.LSTMCell(input_size, hidden).double()

    def run_loop():
        cell.zero_grad()
        state, outs = None, []
        for t in range(steps):
            state = cell(x[t], state)
            outs.append(state[0])
        torch.stack(outs).sum().backward()

    return run_loop


# ----- the table --------------------------------------------------------------------------------


def measure(name, scale, torch):
    """{column: seconds} for one workload: ours (gc on and paused) and every reference."""
    repeat = max(2, round(WORKLOADS[name][1] * scale))
    if name == "char":
        inputs, targets = char_data()
        ours = char_ours(inputs, targets)
        candidates = {
            "numpy": (char_numpy(inputs, targets, vectorised=False), False),
            "floor": (char_numpy(inputs, targets, vectorised=True), False),
        }
        make_torch = lambda fused: char_torch(torch, inputs, targets, fused)  # noqa: E731
    else:
        x_data = lstm_data(name)
        ours = lstm_ours(name, x_data)
        candidates = {"floor": (lstm_numpy(name, x_data), False)}
        make_torch = lambda fused: lstm_torch(torch, name, x_data, fused)  # noqa: E731
    candidates["ours"] = (ours, False)
    candidates["ours_paused"] = (ours, True)
    if torch is not None:
        candidates["loop"] = (make_torch(False), False)
        candidates["fused"] = (make_torch(True), False)
    return best_times(candidates, repeat)


COLUMNS = (
    "workload",
    "ours ms",
    "gc share",
    "numpy BPTT ms",
    "numpy floor ms",
    "torch cell loop ms",
    "torch fused ms",
    "ours/numpy",
    "ours/floor",
    "ours/loop",
    "ours/fused",
    "target",
)


def table_rows(results):
    rows = []
    for name, row in results.items():
        description, _, reference, bound = WORKLOADS[name]
        target = f"<= {bound}x {REFERENCES[reference]}"
        ours = row["ours"]

        def ms(key, row=row):
            return f"{1e3 * row[key]:.2f}" if key in row else "-"

        def ratio(key, row=row, ours=ours):
            return f"{ours / row[key]:.2f}x" if key in row else "-"

        share = max(0.0, 1.0 - row["ours_paused"] / ours)
        rows.append(
            (
                description,
                ms("ours"),
                f"{100 * share:.0f}%",
                ms("numpy"),
                ms("floor"),
                ms("loop"),
                ms("fused"),
                ratio("numpy"),
                ratio("floor"),
                ratio("loop"),
                ratio("fused"),
                target,
            )
        )
    return rows


def render(rows, markdown):
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(r[c])) for r in [COLUMNS, *rows]) for c in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(str(cell).ljust(w) for cell, w in zip(r, widths)).rstrip()
        for r in [COLUMNS, *rows]
    )


def environment(torch):
    versions = f"Python {platform.python_version()}, numpy {np.__version__}"
    versions += f", torch {torch.__version__}" if torch is not None else ", torch not installed"
    return f"{datetime.date.today().isoformat()}, {platform.machine()}, {versions}"


def profile(name):
    """cProfile of our forward + backward for one workload: where the time goes."""
    import cProfile
    import pstats

    if name == "char":
        run = char_ours(*char_data())
    else:
        run = lstm_ours(name, lstm_data(name))
    run()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5 if name != "large" else 1):
        run()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def machine():
    """The CPU model and core count (lscpu's "Model name"), to say where figures come from."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def across_processes(names, scale, processes):
    """Each workload measured in `processes` fresh processes, one after another.

    Returns {name: [per-process {column: seconds}]}. A fresh process per run, because the
    same code can run at different speeds in different processes (memory layout, the
    allocator's history), and the median over processes is the figure to trust.
    """
    import json
    import subprocess

    runs = {name: [] for name in names}
    for _ in range(processes):
        argv = [sys.executable, __file__, "--json", "--repeat-scale", str(scale)]
        argv += ["--cpu-time"] if CLOCK is time.process_time else []
        for name in names:
            argv += ["--only", name]
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
        for name, row in json.loads(done.stdout).items():
            runs[name].append(row)
    return runs


def ratio_summary(runs):
    """Per workload: the median over processes of (our best time / the reference's), met?"""
    lines = ["workload | ours ms | reference ms | ratio (median of processes) | target | met"]
    for name, rows in runs.items():
        description, _, reference, bound = WORKLOADS[name]
        if not all(reference in r for r in rows):
            lines.append(f"{description} | - | - | - | needs {REFERENCES[reference]} | -")
            continue
        ratios = sorted(r["ours"] / r[reference] for r in rows)
        median = ratios[len(ratios) // 2]
        ours = sorted(r["ours"] for r in rows)[len(rows) // 2]
        ref = sorted(r[reference] for r in rows)[len(rows) // 2]
        spread = f" ({ratios[0]:.2f}..{ratios[-1]:.2f})" if len(ratios) > 1 else ""
        lines.append(
            f"{description} | {1e3 * ours:.2f} | {1e3 * ref:.2f} "
            f"({REFERENCES[reference]}) | {median:.2f}x{spread} | <= {bound}x | "
            f"{'yes' if median <= bound else 'no'}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument(
        "--repeat-scale", type=float, default=1.0, help="multiply every repeat count"
    )
    parser.add_argument(
        "--only", choices=list(WORKLOADS), action="append", help="run these workloads only"
    )
    parser.add_argument("--profile", choices=list(WORKLOADS), help="cProfile ours instead")
    parser.add_argument(
        "--processes", type=int, default=3, help="fresh processes to take the median over"
    )
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with the process's CPU time instead of the wall clock: on a machine "
        "shared with other jobs, waiting for a core no longer counts",
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.cpu_time else time.perf_counter
    if args.profile:
        profile(args.profile)
        return
    names = args.only or list(WORKLOADS)
    torch = _torch()
    if args.json:  # one process's measurements, for the parent
        import json

        print(json.dumps({name: measure(name, args.repeat_scale, torch) for name in names}))
        return
    runs = across_processes(names, args.repeat_scale, max(1, args.processes))
    print(environment(torch))
    clock = "CPU time" if args.cpu_time else "wall time"
    print(f"machine: {machine()}; float64, one BLAS thread, implementations interleaved, {clock}")
    print(f"the last of {args.processes} processes in full:")
    print(render(table_rows({name: rows[-1] for name, rows in runs.items()}), args.markdown))
    print()
    print(ratio_summary(runs))


if __name__ == "__main__":
    main()
