"""viz.render: svg and png with no system Graphviz, the engine order, and its error messages."""

import importlib
import os
import struct
import xml.etree.ElementTree as ET

import pytest

import viz
from viz.render import RenderError, find_engine, render

# `viz.render` is the function (re-exported by viz/__init__); this is the module
render_module = importlib.import_module("viz.render")
SOURCE = 'digraph G { x [label="h_1"]; y [label="W_hh"]; x -> y }'
POSIX = pytest.mark.skipif(os.name != "posix", reason="fake engines are shell scripts")


@pytest.fixture
def dot_binary(monkeypatch):
    """Put the graphviz package's DOT_BINARY back after the test, whatever render set."""
    from graphviz.backend import dot_command

    monkeypatch.setattr(dot_command, "DOT_BINARY", dot_command.DOT_BINARY)
    return dot_command


@pytest.fixture
def no_system_dot(monkeypatch, tmp_path, dot_binary):
    """A PATH holding no `dot` (an empty folder), as on a machine without apt's graphviz."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return empty


@pytest.fixture
def no_engine(monkeypatch, no_system_dot):
    """Neither `dot` nor `graphviz-pure` anywhere."""
    monkeypatch.setattr(render_module, "_script_dirs", lambda: [])


def _fake_engine(folder, name, output):
    """A shell script that reads DOT on stdin and prints `output`, as dot would."""
    script = folder / name
    # only shell builtins: the tests run it with a PATH that holds nothing else
    script.write_text(f"#!/bin/sh\nwhile read -r line; do :; done\nprintf '%s' '{output}'\n")
    script.chmod(0o755)
    return script


def _png_size(data):
    # IHDR is the first chunk: width and height are big-endian uint32 at bytes 16..24
    return struct.unpack(">II", data[16:24])


def test_render_svg_parses_as_xml_without_system_dot(no_system_dot, tmp_path):
    assert not find_engine().system
    out = render(SOURCE, tmp_path / "graph.svg")
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    texts = [t.text for t in root.iter() if t.tag.endswith("text")]
    assert "h_1" in texts and "W_hh" in texts


def test_render_png_has_png_signature_without_system_dot(no_system_dot, tmp_path):
    out = render(SOURCE, str(tmp_path / "graph.png"))
    data = open(out, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = _png_size(data)
    assert width > 0 and height > 0


def test_render_png_max_pixels_caps_the_longer_side(no_system_dot, tmp_path):
    chain = "digraph G { " + " -> ".join(f"n{i}" for i in range(12)) + " }"
    full = _png_size(open(render(chain, tmp_path / "full.png"), "rb").read())
    capped = _png_size(open(render(chain, tmp_path / "cap.png", max_pixels=200), "rb").read())
    assert max(full) > 200
    assert max(capped) <= 200


def test_render_format_argument_overrides_suffix(no_system_dot, tmp_path):
    out = render(SOURCE, tmp_path / "graph.out", format="svg")
    assert ET.parse(out).getroot().tag.endswith("svg")


def test_render_dot_format_writes_the_text_without_an_engine(no_engine, tmp_path):
    out = render(SOURCE, tmp_path / "graph.dot")
    assert open(out, encoding="utf-8").read() == SOURCE


def test_render_without_engine_says_how_to_get_one(no_engine, tmp_path):
    with pytest.raises(RenderError) as info:
        render(SOURCE, tmp_path / "graph.svg")
    message = str(info.value)
    assert "pip install graphviz-pure" in message
    assert "apt-get install graphviz" in message
    assert "\n" not in message
    assert not (tmp_path / "graph.svg").exists()


def test_render_pdf_without_system_dot_says_so(no_system_dot, tmp_path):
    with pytest.raises(RenderError, match=r"pdf needs a system Graphviz `dot`") as info:
        render(SOURCE, tmp_path / "graph.pdf")
    assert "apt-get install graphviz" in str(info.value)
    assert not (tmp_path / "graph.pdf").exists()


def test_render_bad_source_is_one_line_and_leaves_old_file(no_system_dot, tmp_path):
    target = tmp_path / "graph.svg"
    target.write_text("previous")
    with pytest.raises(RenderError) as info:
        render("digraph G { a -> ", target)
    assert "\n" not in str(info.value)
    assert target.read_text() == "previous"
    # no temporary file left beside it either
    assert set(os.listdir(tmp_path)) == {"empty-bin", "graph.svg"}


@pytest.mark.parametrize("name", ["graph.jpg", "graph"])
def test_render_unknown_suffix_asks_for_a_format(name, tmp_path):
    with pytest.raises(RenderError, match="cannot tell the format"):
        render(SOURCE, tmp_path / name)


def test_render_unknown_format_lists_the_choices(tmp_path):
    with pytest.raises(RenderError, match="svg, png, pdf, dot"):
        render(SOURCE, tmp_path / "graph.svg", format="bmp")


@POSIX
def test_find_engine_prefers_a_system_dot(no_system_dot):
    fake = _fake_engine(no_system_dot, "dot", "<svg/>")
    engine = find_engine()
    assert engine.system
    assert os.path.samefile(engine.path, fake)


@POSIX
def test_find_engine_finds_graphviz_pure_on_path(monkeypatch, no_system_dot):
    monkeypatch.setattr(render_module, "_script_dirs", lambda: [])
    fake = _fake_engine(no_system_dot, "graphviz-pure", "<svg/>")
    engine = find_engine()
    assert not engine.system
    assert os.path.samefile(engine.path, fake)


@POSIX
def test_render_runs_the_engine_it_found(no_system_dot, tmp_path, dot_binary):
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>from fake dot</text></svg>'
    fake = _fake_engine(no_system_dot, "dot", svg)
    out = render(SOURCE, tmp_path / "graph.svg")
    assert open(out).read() == svg
    assert os.path.samefile(dot_binary.DOT_BINARY, fake)


@POSIX
def test_render_pdf_with_a_system_dot(no_system_dot, tmp_path):
    _fake_engine(no_system_dot, "dot", "%PDF-1.4 fake")
    out = render(SOURCE, tmp_path / "graph.pdf")
    assert open(out, "rb").read().startswith(b"%PDF")


def test_viz_exports_render_function():
    assert viz.render is render
    assert issubclass(viz.RenderError, RuntimeError)
