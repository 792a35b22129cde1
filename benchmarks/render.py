"""How long pictures take: DOT generation, then layout + rendering, for 10/50/100 steps.

For each cell and length: build the lecture's model (hidden 3, loss = sum of all E_t, so
every step has its loss and its ghost copies of V and b_V), backpropagate, and time

    dot      viz.to_dot(loss, force=True)  (op detail; force because 100 LSTM steps pass
             the 2,000-node limit) and detail="cell"
    svg/png  viz.render of that text with the engine found (graphviz-pure here), png at
             96 dpi capped at 16,000 px on the longer side (the default)

Each figure is the best of `--repeat` runs (layout and rendering run once per repeat).

    python benchmarks/render.py [--markdown] [--repeat 3] [--steps 10,50,100]
    python benchmarks/render.py --variants --steps 20,50      (why ghosts, why dir=back)
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from tinygrad_rnn import lecture  # noqa: E402
from viz import find_engine, render, to_dot  # noqa: E402


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def png_size(path):
    with open(path, "rb") as f:
        data = f.read(24)
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def measure(cell, steps, repeat, folder):
    run = lecture.build(cell=cell, steps=steps, loss="all")
    run.loss.backward()
    row = {"cell": cell, "steps": steps}
    for detail in ("op", "cell"):
        seconds, text = best(lambda d=detail: to_dot(run.loss, detail=d, force=True), repeat)
        lines = text.splitlines()
        row[f"{detail} nodes"] = sum(1 for s in lines if "[shape=" in s and "legend [" not in s)
        row[f"{detail} dot s"] = seconds
        for fmt in ("svg", "png"):
            path = os.path.join(folder, f"{cell}{steps}_{detail}.{fmt}")
            seconds, _ = best(lambda p=path, f=fmt, t=text: render(t, p, f), repeat)
            row[f"{detail} {fmt} s"] = seconds
            if fmt == "png":
                row[f"{detail} png px"] = "x".join(str(n) for n in png_size(path))
    return row


def variants(steps, timeout):
    """Layout + svg time of the same graph drawn four ways: recurrent edges reversed (what
    to_dot writes) or ranked forwards (a staircase), shared parameters as one ghost per
    step or one node fanned out to every step."""
    run = lecture.build(cell="lstm", steps=steps, loss="all")
    run.loss.backward()
    text = to_dot(run.loss, force=True)
    staircase = [_forwards(line) for line in text.splitlines() if "style=invis" not in line]
    rows = []
    for name, lines in (("reversed", text.splitlines()), ("staircase", staircase)):
        for params, source in (("ghosts", lines), ("fan-out", _fan_out(lines))):
            start = time.perf_counter()
            try:
                subprocess.run(
                    [find_engine().path, "-Tsvg"],
                    input="\n".join(source).encode(),
                    capture_output=True,
                    timeout=timeout,
                    check=True,
                )
                seconds = f"{time.perf_counter() - start:.2f}"
            except subprocess.TimeoutExpired:
                seconds = f"> {timeout:g} (stopped)"
            rows.append((name, params, steps, seconds))
            print(rows[-1], file=sys.stderr)
    return rows


def _forwards(line):
    """A `dir=back` edge written the other way round: ranked along the data flow."""
    m = re.match(r'(\s*)(\w+) -> (\w+) \[(.*)dir="back", (.*)\];$', line)
    if not m:
        return line
    return f"{m.group(1)}{m.group(3)} -> {m.group(2)} [{m.group(4)}{m.group(5)}];"


def _fan_out(lines):
    """Every parameter's ghosts merged into one node outside the clusters."""
    declared, out = {}, []
    for line in lines:
        m = re.match(r"\s*p(\d+)_\d+ \[(.*)\];$", line)
        if m:
            declared.setdefault(m.group(1), m.group(2))
            continue
        out.append(re.sub(r"\bp(\d+)_\d+\b", r"p\1_0", line))
    return out[:4] + [f"  p{j}_0 [{attrs}];" for j, attrs in declared.items()] + out[4:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", default="10,50,100")
    parser.add_argument("--variants", action="store_true", help="compare layouts (LSTM)")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    lengths = [int(s) for s in args.steps.split(",")]
    if args.variants:
        for steps in lengths:
            for row in variants(steps, args.timeout):
                print("  ".join(str(c) for c in row))
        return
    engine = find_engine()
    print(f"engine: {engine}", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for cell in ("rnn", "lstm"):
            for steps in lengths:
                rows.append(measure(cell, steps, args.repeat, folder))
                print(rows[-1], file=sys.stderr)
    headers = ["cell", "steps", "detail", "nodes", "to_dot s", "svg s", "png s", "png px"]
    lines = []
    if args.markdown:
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "---|" * len(headers))
    for row in rows:
        for detail in ("op", "cell"):
            cells = [
                row["cell"],
                str(row["steps"]),
                detail,
                str(row[f"{detail} nodes"]),
                f"{row[f'{detail} dot s']:.3f}",
                f"{row[f'{detail} svg s']:.2f}",
                f"{row[f'{detail} png s']:.2f}",
                row[f"{detail} png px"],
            ]
            if args.markdown:
                lines.append("| " + " | ".join(cells) + " |")
            else:
                lines.append("  ".join(c.rjust(10) for c in cells))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
