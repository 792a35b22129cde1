"""Real pictures: svg and png through a layout engine, time running left to right, and the
`render` and `demo` commands.

There is no system Graphviz on the test machines: the "with a system dot" cases put a
`dot` on PATH that runs graphviz-pure (render then takes the system-dot branch), and the
pdf case runs only where a real `dot` exists.
"""

import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from tinygrad_rnn import lecture
from viz import render
from viz.dot import to_dot
from viz.render import find_engine

DOCS = Path(__file__).parent.parent / "docs" / "rendering.md"
SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
POSIX = pytest.mark.skipif(os.name != "posix", reason="the stand-in dot is a shell script")


def build(cell="rnn", steps=3, **options):
    run = lecture.build(cell=cell, steps=steps, **options)
    run.loss.backward()
    return run


@pytest.fixture
def dot_binary(monkeypatch):
    """Put the graphviz package's DOT_BINARY back after the test, whatever render set."""
    from graphviz.backend import dot_command

    monkeypatch.setattr(dot_command, "DOT_BINARY", dot_command.DOT_BINARY)


@pytest.fixture(params=["graphviz-pure", "system dot"])
def engine(request, monkeypatch, tmp_path, dot_binary):
    """Render once with graphviz-pure and once through a `dot` found on PATH."""
    if request.param == "system dot":
        if os.name != "posix":
            pytest.skip("the stand-in dot is a shell script")
        if not shutil.which("dot"):
            pure = find_engine().path
            folder = tmp_path / "bin"
            folder.mkdir()
            script = folder / "dot"
            script.write_text(f'#!/bin/sh\nexec "{pure}" "$@"\n')
            script.chmod(0o755)
            monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")
        assert find_engine().system
    else:
        monkeypatch.setattr(shutil, "which", _which_without_dot(shutil.which))
        assert not find_engine().system
    return request.param


def _which_without_dot(which):
    return lambda name, *args, **kwargs: None if name == "dot" else which(name, *args, **kwargs)


def svg_texts(path):
    root = ET.parse(path).getroot()
    return " ".join(t.text or "" for t in root.iter(f"{SVG}text"))


def cluster_lefts(path):
    """{cluster title: leftmost x} from a Graphviz svg."""
    lefts = {}
    for g in ET.parse(path).getroot().iter(f"{SVG}g"):
        if g.get("class") != "cluster":
            continue
        title = g.find(f"{SVG}title").text
        shape = g.find(f"{SVG}path")
        if shape is None:
            shape = g.find(f"{SVG}polygon")
        points = shape.get("d") or shape.get("points")
        xs = [float(x) for x in re.findall(r"(-?[\d.]+),-?[\d.]+", points)]
        lefts[title] = min(xs)
    return lefts


def test_render_svg_parses_and_shows_the_labels(engine, tmp_path):
    run = build("lstm", 3)
    out = render(to_dot(run.loss, bptt_paths=(2, 0)), tmp_path / "lstm.svg")
    text = svg_texts(out)
    for label in ("E_2", "h_0", "c_1", "f_2", "i_0", "g_1", "o_2", "weight_hh_l0", "t = 1"):
        assert label in text


def test_render_png_has_the_png_signature(engine, tmp_path):
    out = render(to_dot(build("gru", 3).loss), tmp_path / "gru.png")
    data = open(out, "rb").read()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000


@pytest.mark.skipif(not shutil.which("dot"), reason="pdf needs a real system Graphviz")
def test_render_pdf_with_a_real_system_dot(tmp_path):
    out = render(to_dot(build("rnn", 3).loss), tmp_path / "rnn.pdf")
    assert open(out, "rb").read().startswith(b"%PDF")


@pytest.mark.parametrize(
    "cell, options, draw",
    [
        ("rnn", {"steps": 6}, {}),
        ("lstm", {"steps": 4, "loss": "all"}, {"bptt_paths": (3, 0)}),
        ("gru", {"steps": 4, "layers": 2}, {}),
        ("rnn", {"steps": 4, "bidirectional": True}, {"params": False}),
        ("lstm", {"steps": 12, "loss": "all"}, {"detail": "cell"}),
        ("lstm", {"steps": 10, "loss": "all"}, {"steps": (4, 6)}),
    ],
)
def test_rendered_steps_run_left_to_right(cell, options, draw, tmp_path):
    run = build(cell, **options)
    lefts = cluster_lefts(render(to_dot(run.loss, **draw), tmp_path / "g.svg"))
    steps = sorted(int(name[9:]) for name in lefts if re.fullmatch(r"cluster_t\d+", name))
    assert len(steps) >= 3
    xs = [lefts[f"cluster_t{t}"] for t in steps]
    assert xs == sorted(xs), dict(zip(steps, xs))


# ----- the commands -------------------------------------------------------------------------


def test_demo_command_writes_the_pictures_and_prints_the_table(tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    # the demo writes into the working directory by default
    result = runner.invoke(cli.main, ["demo"])
    assert result.exit_code == 0, result.output
    for name in ("rnn.png", "rnn.svg", "lstm.png", "lstm.svg"):
        path = os.path.join("tinygrad-rnn-demo", name)
        assert os.path.getsize(path) > 1000
        assert path in result.output
    assert open("tinygrad-rnn-demo/rnn.png", "rb").read().startswith(PNG_SIGNATURE)
    assert "E_3" in svg_texts("tinygrad-rnn-demo/lstm.svg")
    rows = [line.split() for line in result.output.splitlines() if line.startswith("h_")]
    assert [r[0] for r in rows[:4]] == ["h_3", "h_2", "h_1", "h_0"]
    rnn = [float(r[1]) for r in rows[:4]]
    assert rnn == sorted(rnn, reverse=True)  # the tanh RNN's gradient fades back in time
    table = "\n".join(line for line in result.output.splitlines() if line.startswith("h_"))
    assert table in DOCS.read_text(encoding="utf-8"), "docs/rendering.md shows old output"
    result = runner.invoke(cli.main, ["demo", "-o", "elsewhere"])
    assert result.exit_code == 0 and os.path.exists("elsewhere/lstm.svg")


def test_render_command_writes_the_chosen_format(tmp_path):
    runner = CliRunner()
    out = tmp_path / "lstm.png"
    args = ["render", "--cell", "lstm", "--steps", "3", "--bptt", "2:0", "-o", str(out)]
    result = runner.invoke(cli.main, args)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    dot_out = tmp_path / "g.dot"
    args = ["render", "--radius", "0.5", "--highlight", "E_3:h_0", "--window", "1:3", "--no-params"]
    result = runner.invoke(cli.main, args + ["--color", "none", "-o", str(dot_out)])
    assert result.exit_code == 0, result.output
    text = dot_out.read_text()
    assert "cluster_t0 " not in text and "cluster_t3" in text and "weight_hh_l0" not in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cell", "xyz"], "--cell must be one of rnn, lstm, gru, got 'xyz'"),
        (["--steps", "0"], "--steps must be >= 1, got 0"),
        (["--highlight", "E_3"], "--highlight takes two node names"),
        (["--bptt", "3:x"], "--bptt takes two integers"),
        (["--highlight", "E_9:h_0"], "no node labelled 'E_9'"),
        (["--steps", "200", "--cell", "lstm"], "use --detail cell, --window A:B"),
        (["--detail", "gates"], "--detail must be one of op, cell, got 'gates'"),
        (["--format", "gif"], "--format must be one of svg, png, pdf, dot, got 'gif'"),
        (["--radius", "-1"], "--radius must be > 0"),
    ],
)
def test_render_command_bad_options_give_one_line_and_exit_nonzero(args, message, tmp_path):
    result = CliRunner().invoke(cli.main, ["render", "-o", str(tmp_path / "g.svg")] + args)
    assert result.exit_code != 0
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert not (tmp_path / "g.svg").exists()
