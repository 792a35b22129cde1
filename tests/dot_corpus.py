"""A corpus of DOT texts: every way the tool draws a graph, one text per configuration.

    python tests/dot_corpus.py OUT_DIR        # writes OUT_DIR/NAME.dot, prints NAME sha256

`render` (lecture models: rnn/lstm/gru, 1-2 layers, bidirectional, highlight, --bptt,
--grad-range, --notation lecture, --window, --detail cell, --no-params, --color none,
--loss all), `render --load` (trained text, copy (seq2seq) and echo models), `demo`'s two
pictures, `step`'s `g FILE.dot` frames, the gif's frames, the stepper page's picture and
a hand-built graph with NaN, Inf and zero gradients. tests/test_dot_corpus.py compares a
hash per configuration with tests/golden/dot_corpus.txt, so a refactor of viz/ that
changes any picture by one byte fails with the configuration's name; diff the folders of
two checkouts to see what changed.
"""

import hashlib
import json
import os
import sys
import tempfile

import numpy as np
from click.testing import CliRunner

import cli
import viz.demo
from tinygrad_rnn import Tensor, lecture
from tinygrad_rnn.debugger import Session
from tinygrad_rnn.train import Run, make_config
from viz.dot import to_dot
from viz.frames import step_frame
from viz.gif import walk_frames
from viz.html import page_data

RENDER = {
    "rnn": [],
    "rnn-bptt": ["--bptt", "3:0"],
    "rnn-lecture-bptt": ["--notation", "lecture", "--bptt", "3:0"],
    "rnn-highlight-noparams": [
        "--radius",
        "0.5",
        "--steps",
        "8",
        "--highlight",
        "E_7:h_0",
        "--no-params",
    ],  # fmt: skip
    "rnn-grad-range": ["--grad-range", "1e-6:1", "--loss", "all"],
    "rnn-color-none-highlight": ["--color", "none", "--highlight", "E_3:h_1"],
    "rnn-relu-window": ["--activation", "relu", "--steps", "8", "--window", "2:4"],
    "rnn-cell-window": ["--detail", "cell", "--steps", "8", "--window", "3:5", "--loss", "all"],
    "rnn-2layers-bidir": ["--layers", "2", "--bidirectional", "--steps", "3"],
    "rnn-bidir-cell": ["--bidirectional", "--detail", "cell", "--loss", "all"],
    "rnn-linear-explode": ["--activation", "linear", "--radius", "1.5", "--steps", "6"],
    "lstm": ["--cell", "lstm"],
    "lstm-bptt-forget": ["--cell", "lstm", "--bptt", "3:0", "--forget-bias", "2"],
    "lstm-lecture-cell": ["--cell", "lstm", "--notation", "lecture", "--detail", "cell"],
    "lstm-2layers": ["--cell", "lstm", "--layers", "2", "--steps", "3", "--loss", "all"],
    "lstm-bidir-window": ["--cell", "lstm", "--bidirectional", "--steps", "6", "--window", "1:2"],
    "gru": ["--cell", "gru", "--steps", "3"],
    "gru-lecture-highlight": ["--cell", "gru", "--notation", "lecture", "--highlight", "E_3:s_1"],
    "gru-2layers-bidir-cell": [
        "--cell",
        "gru",
        "--layers",
        "2",
        "--bidirectional",
        "--detail",
        "cell",
        "--steps",
        "3",
        "--grad-range",
        "1e-4:1e-1",
    ],  # fmt: skip
    "gru-loss-step": ["--cell", "gru", "--loss", "2", "--hidden", "1", "--input-size", "1"],
}
# (task, training options, render options)
LOADED = {
    "load-text": ("text", {}, ["--input", "to be", "--detail", "cell"]),
    "load-text-op": ("text", {}, ["--input", "to be", "--loss", "3", "--highlight", "E_3:x_1 'o'"]),
    "load-copy": ("copy", {"length": 3}, ["--sample", "1"]),
    "load-echo": ("echo", {"length": 6}, ["--input", "1 2 3 4 5 6", "--notation", "lecture"]),
}
STEP = {  # step --commands '...; g FILE.dot'
    "step-rnn": ["--steps", "3", "--commands", "n 4; g f.dot; q"],
    "step-lstm-range": [
        "--cell",
        "lstm",
        "--steps",
        "2",
        "--grad-range",
        "1e-3:1",
        "--commands",
        "b h_0; c; g f.dot; q",
    ],  # fmt: skip
}
TEXT = "to be or not to be, that is the question. " * 30


def _cli(args):
    result = CliRunner().invoke(cli.main, [str(a) for a in args])
    if result.exit_code != 0:
        raise RuntimeError(f"{' '.join(map(str, args))}: {result.output}")


def _render(args, folder):
    out = os.path.join(folder, "g.dot")
    _cli(["render", *args, "-o", out])
    with open(out, encoding="utf-8") as f:
        return f.read()


def _checkpoint(task, options, folder):
    path = os.path.join(folder, f"{task}.npz")
    if not os.path.exists(path):
        extra = {"text": os.path.join(folder, "corpus.txt")} if task == "text" else {}
        if extra:
            with open(extra["text"], "w", encoding="utf-8") as f:
                f.write(TEXT)
        config = {"hidden": 5, "embed": 4, "eval_batch": 8, "steps": 1, **options, **extra}
        run = Run(make_config(task=task, **config))
        run.fit()
        run.save(path)
    return path


def _demo(folder):
    """demo's two pictures, caught on their way to the renderer."""
    texts = {}
    original = viz.demo.render

    def catch(dot, path, *args, **kwargs):
        texts[os.path.splitext(os.path.basename(path))[0]] = dot

    viz.demo.render = catch
    try:
        viz.demo.run_demo(folder)
        viz.demo.run_demo(folder, notation="lecture", grad_range=(-4, 0))
        lecture_texts = dict(texts)
        texts.clear()
        viz.demo.run_demo(folder)
    finally:
        viz.demo.render = original
    return {"demo-rnn": texts["rnn"], "demo-lstm": texts["lstm"],
            "demo-lecture-range-rnn": lecture_texts["rnn"]}  # fmt: skip


def _special():
    a = Tensor([0.0, 1.0], requires_grad=True, label="a")
    b = Tensor([1.0, 2.0], requires_grad=True, label="b")
    s = a.sqrt().named("s")
    loss = ((s * 0.0).named("z").sum() + (b * 0.0).named("w").sum()).named("L")
    loss.backward()
    return {
        "special-nan-zero": to_dot(loss, title='a "quoted" title'),
        "special-inf-grads": to_dot(loss, grads={s: np.array([np.inf, 1.0])}, current=s),
        "special-fixed-range": to_dot(loss, grad_range=(-1, 0), legend=True),
    }


def _frames():
    run = lecture.build(cell="gru", steps=2, seed=3)
    session = Session(run.loss)
    for _ in range(7):
        session.advance()
    texts = {
        "frame-gru-7": step_frame(session),
        "frame-gru-0-cell": step_frame(session, upto=0, detail="cell"),
    }
    frames = walk_frames(lecture.build(cell="rnn", steps=2).loss, per="step")
    texts.update({f"gif-rnn-{k}": text for k, text in enumerate(frames)})
    run = lecture.build(cell="lstm", steps=2, layers=2)
    data, texts["html-lstm"] = page_data(run.loss, notation="lecture", title="walk")
    # the page's map from drawn items and edges to graph nodes comes from the scene too
    scene = {"items": data["items"], "edges": data["edges"]}
    texts["html-lstm-scene"] = json.dumps(scene, sort_keys=True, indent=0)
    run = lecture.build(cell="rnn", steps=3, bidirectional=True, layers=2)
    data, texts["html-rnn-cell"] = page_data(run.loss, detail="cell")
    scene = {"items": data["items"], "edges": data["edges"]}
    texts["html-rnn-cell-scene"] = json.dumps(scene, sort_keys=True, indent=0)
    return texts


def corpus():
    """{name: DOT text} for every configuration."""
    texts = {}
    home = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # relative paths: a loaded model's title names its checkpoint
        try:
            texts.update(_cli_corpus())
        finally:
            os.chdir(home)
    texts.update(_special())
    texts.update(_frames())
    return texts


def _cli_corpus(folder="."):
    texts = {}
    for name, args in RENDER.items():
        texts[name] = _render(args, folder)
    for name, (task, options, args) in LOADED.items():
        texts[name] = _render(["--load", _checkpoint(task, options, folder), *args], folder)
    for name, args in STEP.items():
        _cli(["step", *args, "-o", folder])
        with open(os.path.join(folder, "f.dot"), encoding="utf-8") as f:
            texts[name] = f.read()
    texts.update(_demo(folder))
    return texts


def digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main(out):
    os.makedirs(out, exist_ok=True)
    for name, text in sorted(corpus().items()):
        with open(os.path.join(out, f"{name}.dot"), "w", encoding="utf-8") as f:
            f.write(text)
        print(name, digest(text))


if __name__ == "__main__":
    main(sys.argv[1])
