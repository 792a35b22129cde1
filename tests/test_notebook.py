"""Notebooks: viz.draw's picture object, bptt reports as HTML, examples/lecture.ipynb runs."""

import html.parser
import os
import sys
import xml.etree.ElementTree as ET

import pytest
from engines import needs_engine

import viz
from tinygrad_rnn import bptt, lecture

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, "examples", "lecture.ipynb")
SVG = "{http://www.w3.org/2000/svg}"


@needs_engine
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_draw_returns_a_picture_that_shows_inline_and_saves(cell, tmp_path):
    run = lecture.build(cell, steps=3)
    run.loss.backward()
    picture = viz.draw(run.loss, notation="lecture", bptt_paths=(2, 0))
    assert picture.dot == viz.to_dot(run.loss, notation="lecture", bptt_paths=(2, 0))
    svg = ET.fromstring(picture._repr_svg_())
    assert svg.tag == f"{SVG}svg"
    texts = {"".join(t.itertext()) for t in svg.iter(f"{SVG}text")}
    assert "E_2" in texts and ("s_2" in texts if cell == "rnn" else "C_2" in texts)
    assert str(picture.save(tmp_path / "p.png")) == str(tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    picture.save(tmp_path / "p.dot")
    assert (tmp_path / "p.dot").read_text() == picture.dot
    assert "Picture" in repr(picture)


class _Table(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.caption, self._where = [], "", None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th", "caption"):
            self._where = tag
            if tag != "caption":
                self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th", "caption"):
            self._where = None

    def handle_data(self, data):
        if self._where == "caption":
            self.caption += data
        elif self._where is not None:
            self.rows[-1][-1] += data


@pytest.mark.parametrize("cell, steps", [("rnn", 5), ("lstm", 3), ("gru", 1)])
def test_bptt_report_shows_as_an_html_table_of_its_rows(cell, steps):
    report = bptt.analyze(lecture.build(cell, steps=steps, radius=0.7))
    table = _Table()
    table.feed(report._repr_html_())
    header, *rows = table.rows
    assert len(rows) == steps == len(report.rows)
    assert header[0] == "k" and "share" in header
    assert len(header) == len(report.rows[0].to_dict())
    for row, r in zip(rows, report.rows):
        assert row[0] == str(r.k)
        assert row[header.index("|termk|")] == f"{r.contribution_norm:.3g}"
    assert report.verdict in table.caption and cell in table.caption


def test_notebook_is_stored_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    try:
        from make_lecture_notebook import notebook
    finally:
        sys.path.pop(0)
    assert [c.source for c in notebook().cells] == [c.source for c in nb.cells]


@needs_engine
def test_lecture_notebook_runs_and_shows_pictures_and_tables(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient", reason="pip install nbclient ipykernel (test extra)")
    pytest.importorskip("ipykernel", reason="pip install ipykernel (test extra)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    os.environ["PYTHONPATH"], before = env_path, os.environ.get("PYTHONPATH")
    try:
        client = nbclient.NotebookClient(
            nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
        )
        client.execute()
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before
    kinds = [
        kind
        for c in nb.cells
        if c.cell_type == "code"
        for out in c.outputs
        for kind in (out.get("data") or {"stream": 1})
    ]
    assert kinds.count("image/svg+xml") >= 3 and "text/html" in kinds
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []
    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "vanishing" in printed and "exploding" in printed and "after 1" in printed
    # the forward pass in creation order, in the lecture's names
    assert "U x_0 -> W s_init -> a_0 -> s_0 -> U x_1" in printed
