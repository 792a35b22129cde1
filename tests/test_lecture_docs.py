"""docs/lecture.md and docs/lecture.zh.md show real output: the commands are run again.

Analysis commands (bptt, render) must print exactly what the pages show, pictures drawn as
DOT (no layout); training runs again at two steps and must print the same configuration
line, and what reads its checkpoint must finish the same way. The Chinese page runs the
same commands in the same order.
"""

import os
import re
import shlex
import sys

import pytest
from click.testing import CliRunner

from cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
PAGES = ("lecture.md", "lecture.zh.md")


def read(name):
    with open(os.path.join(DOCS, name), encoding="utf-8") as f:
        return f.read()


def blocks(name):
    """(argv, shown output) of each `$ tinygrad-rnn` block of a page."""
    found = []
    for block in re.findall(r"```text\n\$ (tinygrad-rnn .*?)```", read(name), flags=re.S):
        command, _, output = block.partition("\n")
        found.append((shlex.split(command)[1:], output))
    return found


def make_lecture():
    sys.path.insert(0, DOCS)
    try:
        import make_lecture
    finally:
        sys.path.pop(0)
    return make_lecture


def test_lecture_pages_run_the_same_commands_and_show_the_same_pictures():
    en, zh = read("lecture.md"), read("lecture.zh.md")
    assert [argv for argv, _ in blocks("lecture.md")] == [argv for argv, _ in blocks(PAGES[1])]
    pictures = re.findall(r"\]\(img/([^)]+)\)", en)
    assert pictures == re.findall(r"\]\(img/([^)]+)\)", zh)
    for name in pictures:
        assert os.path.getsize(os.path.join(DOCS, "img", name)) > 1000, name
    # one section per topic of the lecture, in its order
    topics = [
        "序列数据",
        "U, W, V",
        "What time is it",
        "N vs N",
        "BPTT",
        "梯度消失",
        "ReLU",
        "长依赖问题",
        "LSTM",
        "GRU",
        "双向循环神经网络",
        "seq2seq",
    ]
    headings = re.findall(r"^## \d+\. (.*)$", en, flags=re.M)
    assert len(headings) == len(topics)
    for heading, topic in zip(headings, topics):
        assert topic.lower() in heading.lower(), (heading, topic)
    for term in ("梯度消失", "梯度爆炸", "梯度裁剪", "截断式的 BPTT", "长依赖问题", "遗忘门"):
        assert term in zh, term
    for term in ("输入门", "输出门", "双向循环神经网络", "记忆"):
        assert term in zh, term


def test_lecture_notation_tables_are_generated_from_the_library():
    make = make_lecture()
    for name, lang in zip(PAGES, ("en", "zh")):
        found = re.search(
            r"<!-- notation-table -->\n(.*?)<!-- /notation-table -->", read(name), re.S
        )
        assert found and found.group(1) == make.table(lang), name
    en = make.table("en")
    assert "`f_t` | `f_t` | rows H:2H of weight_ih_l0 and weight_hh_l0" in en
    assert "`C~_t` | `g_t`" in en and "(1 - z_t) n_t + z_t h_{t-1}" in en


def test_readme_links_both_lecture_pages_and_the_notebook():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for link in ("docs/lecture.md", "docs/lecture.zh.md", "examples/lecture.ipynb"):
        assert f"]({link})" in readme, link


def small(argv):
    """The command at test size: training for two steps on a small test batch, pictures as
    DOT text (no layout engine needed)."""
    argv = list(argv)
    if argv[0] == "train":
        argv[argv.index("--steps") + 1] = "2"
        argv += ["--eval-batch", "16"]
    if "-o" in argv and argv[argv.index("-o") + 1].endswith(".png") and argv[0] == "render":
        argv[argv.index("-o") + 1] = argv[argv.index("-o") + 1][:-4] + ".dot"
    return argv


def test_lecture_commands_print_what_the_pages_show(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")  # gates -o draws heatmaps
    monkeypatch.chdir(tmp_path)  # --save intent.npz, -o ... land here
    runner = CliRunner()
    for argv, shown in blocks("lecture.md"):
        if argv[0] == "step" and ("--gif" in argv or "--html" in argv):
            continue  # the pages are checked by tests/test_stepper_page.py
        result = runner.invoke(main, small(argv))
        assert result.exit_code == 0, (argv, result.output)
        if argv[0] in ("bptt", "render"):  # no training involved: exactly the same
            assert result.stdout.replace(".dot", ".png") == shown, argv
        elif argv[0] == "train":  # the same run, shorter
            assert result.stdout.splitlines()[0] == shown.splitlines()[0], argv
        else:  # read a model trained for two steps instead of the page's
            assert result.stdout.splitlines()[-1] == shown.splitlines()[-1], argv
