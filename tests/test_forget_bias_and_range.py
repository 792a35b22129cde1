"""--forget-bias everywhere, demo's honest LSTM and --json, --grad-range, render --loss t."""

import json
import math
import re

import numpy as np
import pytest
from click.testing import CliRunner
from dotparse import Dot
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from tinygrad_rnn import lecture, nn
from tinygrad_rnn.train import Run, make_config
from viz.dot import to_dot
from viz.render import RenderError, find_engine

try:
    find_engine()
    HAVE_ENGINE = True
except RenderError:
    HAVE_ENGINE = False
needs_engine = pytest.mark.skipif(not HAVE_ENGINE, reason="no layout engine")


def invoke(*args):
    return CliRunner().invoke(main, list(args))


@settings(max_examples=10, deadline=None)
@given(
    bias=st.floats(-5, 5),
    layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    hidden=st.integers(1, 4),
)
def test_forget_bias_sets_every_forget_gates_total_bias(bias, layers, bidirectional, hidden):
    run = lecture.build(
        "lstm", steps=2, hidden=hidden, layers=layers, bidirectional=bidirectional, forget_bias=bias
    )
    named = dict(run.model.named_parameters())
    f = slice(hidden, 2 * hidden)
    count = 0
    for name, p in named.items():
        if name.startswith("bias_ih"):
            twin = named[name.replace("bias_ih", "bias_hh")]
            np.testing.assert_array_equal(p.data[f] + twin.data[f], bias)
            count += 1
    assert count == layers * (2 if bidirectional else 1)
    # before any input, f = sigmoid(x W_if + h W_hf + B): at x = 0, h = 0 exactly sigmoid(B)
    assert lecture.forget_rest(bias) == pytest.approx(1 / (1 + math.exp(-bias)))


def test_forget_bias_is_refused_for_other_cells_and_non_finite_values():
    with pytest.raises(ValueError, match="--forget-bias applies to the lstm cell only"):
        lecture.build("gru", forget_bias=1.0)
    for args in (["render", "--forget-bias", "2"], ["bptt", "--cell", "gru", "--forget-bias", "1"]):
        result = invoke(*args)
        assert result.exit_code != 0 and "--forget-bias" in result.output
        assert "Traceback" not in result.output
    result = invoke("bptt", "--cell", "lstm", "--forget-bias", "nan")
    assert result.exit_code != 0 and "--forget-bias" in result.output
    with pytest.raises(ValueError, match="lstm cell only"):
        make_config(cell="rnn", forget_bias=1.0)


def test_train_forget_bias_initialises_the_task_models_lstm():
    run = Run(make_config(task="adding", length=6, hidden=5, steps=1, forget_bias=1.0))
    [lstm] = [m for m in run.model.modules() if isinstance(m, nn.LSTM)]
    total = lstm.bias_ih_l0.data[5:10] + lstm.bias_hh_l0.data[5:10]
    np.testing.assert_array_equal(total, 1.0)
    plain = Run(make_config(task="adding", length=6, hidden=5, steps=1))
    [lstm] = [m for m in plain.model.modules() if isinstance(m, nn.LSTM)]
    assert not np.allclose(lstm.bias_ih_l0.data[5:10] + lstm.bias_hh_l0.data[5:10], 1.0)
    result = invoke("train", "--forget-bias", "1", "--length", "6", "--steps", "1", "--hidden", "4")
    assert result.exit_code == 0, result.output


def test_step_and_bptt_take_forget_bias():
    result = invoke(
        "step", "--cell", "lstm", "--forget-bias", "20", "--steps", "2", "--commands", "p f_0; q"
    )
    assert result.exit_code == 0, result.output
    assert "value  [[1" in result.output  # sigmoid(20) prints as 1
    compare = invoke("bptt", "--compare", "rnn,lstm", "--forget-bias", "20", "--steps", "6")
    assert compare.exit_code == 0, compare.output


@needs_engine
def test_demo_draws_a_stated_forget_bias_and_the_cell_path(tmp_path):
    result = invoke("demo", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "forget bias 2: f rests near 0.88" in result.output
    assert "|dE/dc_k|" in result.output and "tinygrad-rnn bptt" in result.output
    svg = (tmp_path / "lstm.svg").read_text()
    assert "forget bias 2: f rests near 0.88" in svg
    data = json.loads(invoke("demo", "-o", str(tmp_path), "--json").stdout)
    assert set(data) == {"cells", "files"}
    assert set(data["cells"]) == {"rnn", "lstm"}
    assert set(data["cells"]["rnn"]) == {"grad_h"} and set(data["cells"]["lstm"]) == {
        "grad_h",
        "grad_c",
    }
    rnn, lstm = data["cells"]["rnn"], data["cells"]["lstm"]
    assert len(rnn["grad_h"]) == len(lstm["grad_h"]) == len(lstm["grad_c"]) == 4
    # the lecture's point: the cell path carries E_3's gradient further back than the RNN
    assert lstm["grad_c"][0] / lstm["grad_c"][3] > 5 * rnn["grad_h"][0] / rnn["grad_h"][3]
    # ordered k = 0..3: the gradient grows towards the loss at k = 3
    assert rnn["grad_h"] == sorted(rnn["grad_h"])
    assert all(str(tmp_path) in f for f in data["files"]) and len(data["files"]) == 4


def test_grad_range_fixes_the_scale_clamps_and_marks():
    run = lecture.build("rnn", steps=6, radius=0.5)
    run.loss.backward()
    lo, hi = math.log10(1e-2), 0.0
    dot_text = to_dot(run.loss, grad_range=(lo, hi))
    dot = Dot(dot_text)
    for attrs in dot.nodes.values():
        label = re.sub(r"<[^>]*>", " ", attrs.get("label", ""))
        found = re.search(r"\|grad\| ([0-9.e+-]+)", label)
        if not found:
            continue
        value = float(found.group(1))
        if value == 0.0:
            assert "range)" not in label  # exactly zero is its own colour, not clamped
        elif value < 0.99e-2:
            assert "(below range)" in label
            assert attrs["fillcolor"] == "#fff7d6"  # clamped to the palest end
        elif value > 1.01:
            assert "(above range)" in label
        else:
            assert "range)" not in label
    assert "scale fixed at 1e-2 .. 1" in dot_text
    # the same range gives the same colour for the same |grad| in two different pictures
    other = lecture.build("rnn", steps=6, radius=1.5, activation="linear")
    other.loss.backward()
    assert 'fillcolor="#3a1254"' in to_dot(other.loss, grad_range=(lo, hi))  # above: darkest


def test_grad_range_option_is_checked_and_reaches_the_picture(tmp_path):
    bad = invoke("render", "--grad-range", "1:0.1", "-o", str(tmp_path / "g.dot"))
    assert bad.exit_code != 0 and "--grad-range" in bad.output and "Traceback" not in bad.output
    for text in ("0:1", "-1:1", "a:b", "1e-3", "nan:1"):
        assert invoke("render", "--grad-range", text, "-o", str(tmp_path / "g.dot")).exit_code
    ok = invoke("render", "--grad-range", "1e-4:1", "-o", str(tmp_path / "g.dot"))
    assert ok.exit_code == 0, ok.output
    assert "scale fixed at 1e-4 .. 1" in (tmp_path / "g.dot").read_text()


def test_render_loss_t_draws_that_step_and_suggests_it():
    run = lecture.build("rnn", steps=5, loss=2)
    assert run.loss is run.losses[2] and run.loss.label == "E_2"
    with pytest.raises(ValueError, match="no E_7"):
        lecture.build("rnn", steps=5, loss=7)


def test_render_loss_option(tmp_path):
    out = tmp_path / "g.dot"
    result = invoke("render", "--loss", "2", "--bptt", "2:0", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "loss E_2" in out.read_text()
    missing = invoke("render", "--bptt", "2:0", "-o", str(out))
    assert missing.exit_code != 0
    assert "--loss 2" in missing.output and "Traceback" not in missing.output
