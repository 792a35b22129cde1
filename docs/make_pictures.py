"""Regenerate the pictures in docs/img/ that README.md and docs/rendering.md show.

    python docs/make_pictures.py

Each picture is what a command prints or writes (named in the comment beside it), so the
docs show exactly what a user gets.
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from tinygrad_rnn import lecture  # noqa: E402
from viz import render, to_dot  # noqa: E402
from viz.demo import demo, describe  # noqa: E402

IMG = os.path.join(HERE, "img")


def draw(name, cell, steps, build=None, **options):
    run = lecture.build(cell=cell, steps=steps, **(build or {}))
    run.loss.backward()
    path = os.path.join(IMG, name)
    render(to_dot(run.loss, title=describe(run), **options), path)
    print(f"wrote {os.path.relpath(path)}")


def main():
    os.makedirs(IMG, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:  # tinygrad-rnn demo
        demo(folder)
        for cell in ("rnn", "lstm"):
            shutil.copy(os.path.join(folder, f"{cell}.png"), os.path.join(IMG, f"demo_{cell}.png"))
            print(f"wrote docs/img/demo_{cell}.png")
    # tinygrad-rnn render --cell lstm --steps 3 -o lstm3.png
    draw("lstm3.png", "lstm", 3)
    # one colour scale for the pair: --grad-range 1e-6:100 (decades -6..2)
    pair = {"bptt_paths": (5, 0), "params": False, "grad_range": (-6, 2)}
    # tinygrad-rnn render --radius 0.5 --steps 6 --bptt 5:0 --no-params --grad-range 1e-6:100
    draw("fading.png", "rnn", 6, {"radius": 0.5}, **pair)
    # tinygrad-rnn render --radius 1.5 --activation linear --steps 6 --bptt 5:0 --no-params
    #   --grad-range 1e-6:100
    build = {"radius": 1.5, "activation": "linear"}
    draw("exploding.png", "rnn", 6, build, **pair)
    # tinygrad-rnn render --cell lstm --steps 12 --loss all --detail cell --bptt 9:2
    draw("lstm12_cell.png", "lstm", 12, {"loss": "all"}, detail="cell", bptt_paths=(9, 2))


if __name__ == "__main__":
    main()
