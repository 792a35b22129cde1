"""Regenerate docs/lecture.md and docs/lecture.zh.md: outputs, pictures, the notation table.

    python docs/make_lecture.py

Both pages hold fenced blocks that start with `$ tinygrad-rnn ...`. Each command runs once,
in page order, inside one scratch folder (so `--save intent.npz` in one block is there for
`--load intent.npz` in the next); its standard output replaces the block's body, and the
files it writes that a page shows as `img/NAME` are copied to docs/img/. The stepper pages
are photographed in Chromium (through playwright) for img/lecture_walk.png and
img/lecture_what_time.png, and img/lecture_walk.html is kept so that a reader can open it.
The notation table between the `notation-table` markers comes from tinygrad_rnn.notation.
tests/test_lecture_docs.py reruns the commands (training at a few steps) and compares.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from tinygrad_rnn import notation  # noqa: E402

PAGES = ("lecture.md", "lecture.zh.md")
BLOCK = re.compile(r"```text\n(\$ tinygrad-rnn [^\n]*)\n.*?```", flags=re.S)
TABLE = re.compile(r"(<!-- notation-table -->\n).*?(<!-- /notation-table -->)", flags=re.S)
KEEP = ("lecture_walk.html",)  # files kept beside the pictures, for readers to open
# (page file, keys pressed before the photograph): forward to the middle of the backward walk
SHOTS = {
    "lecture_walk.html": ("lecture_walk.png", 33),
    "what_time.html": ("lecture_what_time.png", 170),
}
HEADERS = {
    "en": ("lecture", "tool's label", "PyTorch", "meaning"),
    "zh": ("课件符号", "工具里的标签", "PyTorch", "含义"),
}
# the meaning column in Chinese, by the lecture's symbol (notation.rows() holds the English)
MEANING_ZH = {
    "x_t": "t 时刻的输入",
    "s_t": "t 时刻的记忆（隐藏状态）",
    "U": "输入到记忆的权重",
    "W": "上一时刻记忆到这一时刻记忆的权重",
    "b": "PyTorch 有两个偏置，课件只有一个 b（两者之和）",
    "V": "记忆到输出的权重",
    "o_t": "t 时刻的输出（g 取恒等函数）",
    "E_t": "t 时刻的损失",
    "U x_t": "X W_ih^T 的第 t 行",
    "W s_{t-1}": "循环：上一时刻的记忆",
    "i_t": "LSTM 输入门",
    "f_t": "LSTM 遗忘门",
    "C~_t": "LSTM 候选记忆",
    "o_t (LSTM)": "LSTM 输出门",
    "C_t": "LSTM 细胞状态 f_t C_{t-1} + i_t C~_t",
    "h_t (LSTM)": "o_t tanh(C_t)",
    "W_f, b_f": "W_f [h_{t-1}, x_t] + b_f",
    "r_t": "GRU 重置门",
    "z_t": "GRU 更新门",
    "h~_t": "tanh(W_in x + b_in + r (W_hn h + b_hn))",
    "h_t (GRU)": "z 保留旧状态",
    "s'_t, U', W'": "双向 RNN 的反向",
    "U^(2), W^(2)": "堆叠 RNN 的第二层",
}


def table(lang):
    """The notation table as Markdown, headers and meanings in `lang`."""
    head = HEADERS[lang]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for lecture, label, torch, meaning in notation.rows():
        if lang == "zh":
            meaning = MEANING_ZH[lecture]
        cells = [f"`{lecture}`", f"`{label}`", torch, meaning]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def run(argv, cwd):
    """The command's standard output, run as a reader would (`python cli.py ...`)."""
    env = dict(os.environ, PYTHONPATH=ROOT, COLUMNS="100")
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "cli.py"), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"tinygrad-rnn {shlex.join(argv)} failed:\n{done.stderr}")
    return done.stdout


def commands(text):
    """The argv of each `$ tinygrad-rnn` block of a page, in order."""
    return [shlex.split(m.group(1)[2:])[1:] for m in BLOCK.finditer(text)]


def photograph(page, picture, presses):
    """A screenshot of the stepper page after `presses` right-arrow presses; False when no
    Chromium or playwright is at hand (the old picture stays)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    if executable is None:
        return False
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=args)
        try:
            view = browser.new_page(viewport={"width": 1280, "height": 760})
            view.goto("file://" + os.path.abspath(page))
            for _ in range(presses):
                view.keyboard.press("ArrowRight")
            view.screenshot(path=picture)
        finally:
            browser.close()
    return True


def main_():
    pages = {}
    for name in PAGES:
        with open(os.path.join(HERE, name), encoding="utf-8") as f:
            pages[name] = f.read()
    outputs = {}
    images = set()
    for text in pages.values():
        images |= set(re.findall(r"\]\(img/([^)]+)\)", text))
    with tempfile.TemporaryDirectory() as scratch:
        for text in pages.values():
            for argv in commands(text):
                key = shlex.join(argv)
                if key not in outputs:
                    print(f"$ tinygrad-rnn {key}", flush=True)
                    outputs[key] = run(argv, scratch)
        img = os.path.join(HERE, "img")
        for page, (picture, presses) in SHOTS.items():
            path = os.path.join(scratch, page)
            if os.path.exists(path) and photograph(path, os.path.join(scratch, picture), presses):
                print(f"photographed {page} -> img/{picture}")
        for file in sorted(os.listdir(scratch)):
            if file in images or file in KEEP:
                shutil.copyfile(os.path.join(scratch, file), os.path.join(img, file))
    for name, text in pages.items():

        def fill(match):
            command = match.group(1)
            return f"```text\n{command}\n{outputs[shlex.join(shlex.split(command[2:])[1:])]}```"

        lang = "zh" if name.endswith(".zh.md") else "en"
        text = BLOCK.sub(fill, text)
        found = TABLE.search(text)
        if found:
            text = text[: found.end(1)] + table(lang) + text[found.start(2) :]
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            f.write(text)
        print(f"{name}: {len(commands(text))} outputs, notation table ({lang})")


if __name__ == "__main__":
    main_()
