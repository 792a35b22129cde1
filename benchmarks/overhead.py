"""Per-op cost of forward + backward: tinygrad_rnn against hand-written numpy and torch eager.

For each op and size, one timed call builds the op's node from leaves that require grad
and backpropagates a fixed upstream gradient into them. "numpy" does the same arithmetic
by hand (the floor: no graph, no bookkeeping); "torch" is PyTorch eager, float64, one
thread, when it is importable. Each figure is the best of several repeats (timeit style),
with the garbage collector left on, as it is in a training loop.

    python benchmarks/overhead.py [--repeat 7] [--markdown]
"""

import argparse
import os
import platform
import timeit

# one BLAS thread everywhere, so matmul compares engines rather than thread pools;
# must be set before numpy (or torch) loads its BLAS
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from tinygrad_rnn import Tensor  # noqa: E402

OPS = ("add", "mul", "matmul", "tanh", "sigmoid", "getitem")
SIZES = {"tiny": 4, "medium": 64}


# ----- the forward + backward of each op, three ways -----------------------------------------
def ours(op, a, b, g):
    """Build the node and backpropagate `g` into the two leaves, as a training step does.

    Written with the API tinygrad_rnn shares with torch, so it times torch tensors too.
    """
    g_slice = g[1:3]

    def run():
        a.grad = b.grad = None
        if op == "add":
            z = a + b
        elif op == "mul":
            z = a * b
        elif op == "matmul":
            z = a @ b
        elif op == "tanh":
            z = a.tanh()
        elif op == "sigmoid":
            z = a.sigmoid()
        else:
            z = a[1:3]
        z.backward(g_slice if op == "getitem" else g)

    return run


def by_hand(op, a, b, g):
    """The same arithmetic with plain arrays: the cost of the maths alone."""
    g_slice = g[1:3]

    def run():
        if op == "add":
            z = a + b
            return z, g, g
        if op == "mul":
            z = a * b
            return z, g * b, g * a
        if op == "matmul":
            z = a @ b
            return z, g @ b.T, a.T @ g
        if op == "tanh":
            z = np.tanh(a)
            return z, g * (1.0 - z * z)
        if op == "sigmoid":
            z = 0.5 * (1.0 + np.tanh(0.5 * a))
            return z, g * (z * (1.0 - z))
        z = a[1:3]
        grad_a = np.zeros_like(a)
        grad_a[1:3] += g_slice
        return z, grad_a

    return run


# ----- a recurrent chain: many ops, one backward (per-op cost amortised) ---------------------
STEPS = 50  # h_t = tanh(h_{t-1} @ W + b): three ops per step


def chain_ours(h0, W, b):
    def run():
        W.grad = b.grad = None
        h = h0
        for _ in range(STEPS):
            h = (h @ W + b).tanh()
        h.sum().backward()

    return run


def chain_by_hand(h0, W, b):
    def run():
        hs = [h0]
        for _ in range(STEPS):
            hs.append(np.tanh(hs[-1] @ W + b))
        grad_W, grad_b = np.zeros_like(W), np.zeros_like(b)
        grad_h = np.ones_like(h0)
        for t in range(STEPS, 0, -1):
            grad_a = grad_h * (1.0 - hs[t] * hs[t])
            grad_W += hs[t - 1].T @ grad_a
            grad_b += grad_a.sum(axis=0)
            grad_h = grad_a @ W.T
        return grad_W, grad_b

    return run


def measure_chain(torch, repeat, n=4):
    rng = np.random.default_rng(1)
    h0, W, b = rng.normal(size=(n, n)), rng.normal(size=(n, n)) * 0.5, rng.normal(size=n)
    ops = 3 * STEPS + 1  # and the final sum
    row = {
        "op": f"rnn chain ({ops} ops)",
        "size": f"tiny {n}x{n}",
        "ours": best_us(
            chain_ours(Tensor(h0), Tensor(W, requires_grad=True), Tensor(b, requires_grad=True)),
            repeat,
        )
        / ops,
        "numpy": best_us(chain_by_hand(h0, W, b), repeat) / ops,
        "torch": None,
    }
    if torch is not None:
        tW = torch.tensor(W, requires_grad=True)
        tb = torch.tensor(b, requires_grad=True)
        row["torch"] = best_us(chain_ours(torch.tensor(h0), tW, tb), repeat) / ops
    return row


# ----- timing ---------------------------------------------------------------------------------
def best_us(fn, repeat):
    """Best time per call in µs over `repeat` runs of an auto-sized loop (gc left on)."""
    timer = timeit.Timer(fn, setup="import gc; gc.enable()")
    number, _ = timer.autorange()
    number = max(number, 20)
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def load_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def measure(repeat):
    torch = load_torch()
    rng = np.random.default_rng(0)
    rows = []
    for size_name, n in SIZES.items():
        a_np, b_np, g_np = (rng.normal(size=(n, n)) for _ in range(3))
        for op in OPS:
            a = Tensor(a_np.copy(), requires_grad=True)
            b = Tensor(b_np.copy(), requires_grad=True)
            row = {
                "op": op,
                "size": f"{size_name} {n}x{n}",
                "ours": best_us(ours(op, a, b, g_np), repeat),
                "numpy": best_us(by_hand(op, a_np, b_np, g_np), repeat),
                "torch": None,
            }
            if torch is not None:
                ta = torch.tensor(a_np, requires_grad=True)
                tb = torch.tensor(b_np, requires_grad=True)
                row["torch"] = best_us(ours(op, ta, tb, torch.tensor(g_np)), repeat)
            rows.append(row)
    rows.append(measure_chain(torch, repeat))
    return rows, torch


def table(rows, markdown):
    header = ["op", "size", "ours µs", "numpy µs", "torch µs", "ours/numpy", "ours/torch"]
    lines = []
    for r in rows:
        t = r["torch"]
        lines.append(
            [
                r["op"],
                r["size"],
                f"{r['ours']:.1f}",
                f"{r['numpy']:.1f}",
                "-" if t is None else f"{t:.1f}",
                f"{r['ours'] / r['numpy']:.1f}x",
                "-" if t is None else f"{r['ours'] / t:.2f}x",
            ]
        )
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cells) + " |" for cells in lines]
        return "\n".join(out)
    widths = [max(len(x[c]) for x in [header, *lines]) for c in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.rjust(w) if c > 1 else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(row, widths))
        )
        for row in [header, *lines]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timing runs per figure (best kept)")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    rows, torch = measure(args.repeat)
    versions = f"python {platform.python_version()}, numpy {np.__version__}"
    versions += f", torch {torch.__version__}" if torch is not None else ", torch not installed"
    print(f"fwd+bwd per op, float64, one thread, best of {args.repeat} ({versions})")
    print(table(rows, args.markdown))


if __name__ == "__main__":
    main()
