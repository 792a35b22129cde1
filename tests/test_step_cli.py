"""`tinygrad-rnn step`: a scripted debugger session over the lecture's model (issue 6)."""

import re
import xml.etree.ElementTree as ET

import numpy as np
from click.testing import CliRunner
from engines import needs_engine

from cli import main
from tinygrad_rnn import lecture
from tinygrad_rnn.analysis import debugger


def step(*args, input=None):
    result = CliRunner().invoke(main, ["step", *args], input=input)
    return result


def test_step_scripted_session_prints_prompts_and_the_library_values():
    result = step("--steps", "4", "--commands", "n 2; b h_1; c; p h_1; q")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("backward pass of 'E_3' = ") and "27 steps" in lines[0]
    assert lines[1] == "(step 0/27) n 2"
    assert lines[2].startswith("step 1/27  mean 'E_3' (t=3, layer 0, output)  |grad|=1")
    assert lines[3].startswith("step 2/27  mul (t=3, layer 0, output)")
    assert lines[4] == "(step 2/27) b h_1"
    assert lines[5] == "breakpoint 1: label 'h_1' (1 node)"
    assert lines[6] == "(step 2/27) c"
    assert lines[7] == "  ... 10 steps ..."
    assert re.match(
        r"step 13/27  tanh 'h_1' \(t=1, layer 0\)  \|grad\|=\S+  -> 'a_1' \S+", lines[8]
    )
    assert lines[9] == "breakpoint 1 (label 'h_1')"
    assert lines[10] == "(step 13/27) p h_1"
    # the values printed are the library's own gradient of the same model
    run = lecture.build("rnn", steps=4, hidden=3, seed=0)
    run.loss.backward()
    h_1 = run.hidden_states()[1]
    assert f"|grad|={np.linalg.norm(h_1.grad):.3g}" in lines[8]
    assert lines[12] == "  value  " + debugger._array(h_1.data, "  value  ")
    assert lines[13].startswith("  grad   " + debugger._array(h_1.grad, "  grad   "))
    assert lines[-1] == "(step 13/27) q"


def test_step_reads_commands_from_stdin_when_not_a_terminal():
    result = step("--cell", "lstm", "--steps", "3", input="b t=0\nc\nw\nq\nn\n")
    assert result.exit_code == 0, result.output
    assert "(step 0/" in result.output and "breakpoint 1: first step at t=0" in result.output
    stopped = re.search(r"step (\d+)/(\d+)  mul 'h_0' \(t=0, layer 0\)", result.output)
    assert stopped, result.output
    assert f"step {stopped.group(1)}/{stopped.group(2)}: mul 'h_0'" in result.output  # w
    assert "waiting (" in result.output and "of their consumers so far" in result.output
    assert result.output.rstrip().endswith("q")  # nothing after q ran


def test_step_continue_to_the_end_gives_backward_gradients():
    result = step(
        "--cell", "gru", "--steps", "3", "--loss", "all", "--commands", "c; p weight_hh_l0"
    )
    assert result.exit_code == 0, result.output
    assert "finished: all" in result.output
    run = lecture.build("gru", steps=3, hidden=3, loss="all", seed=0)
    run.loss.backward()
    grad = run.model.weight_hh_l0.grad
    assert f"|grad|={np.linalg.norm(grad):.3g}" in result.output


def test_step_bad_commands_print_help_continue_and_exit_nonzero():
    result = step("--commands", "frobnicate; n x; b nowhere; p; n 1; q")
    # the script ran to its end, but it went wrong: a script runner must see a failure
    assert result.exit_code == 1, result.output
    assert result.stderr == "Error: 4 of the scripted commands failed (see 'error:' above)\n"
    out = result.output
    assert "error: unknown command 'frobnicate'" in out and "commands:" in out
    assert "error: n takes a positive number of steps, got 'x'" in out
    assert "error: no node labelled 'nowhere'; labels: E_3, o_3, h_3" in out
    assert "error: p needs a label" in out
    assert "(step 0/27) n 1\nstep 1/27  mean 'E_3'" in out  # the session went on


def test_step_q_exits_zero_and_ignores_what_follows():
    result = step("--commands", "q; n 5")
    assert result.exit_code == 0
    assert "step 1/" not in result.output


def test_step_bad_option_or_breakpoint_is_one_line_and_nonzero():
    result = step("--break", "nowhere")
    assert result.exit_code == 1
    assert result.output.startswith("Error: no node labelled 'nowhere'")
    assert len(result.output.strip().splitlines()) == 1
    result = step("--steps", "0", "--commands", "q")
    assert result.exit_code == 2 and "--steps must be >= 1, got 0" in result.output


def test_step_break_option_sets_a_breakpoint_before_the_session():
    result = step("--break", "s_2", "--break", "#5", "--commands", "c; c")
    assert result.exit_code == 0, result.output
    assert "breakpoint 1: label 'h_2' (1 node)" in result.output
    assert "breakpoint 2: step #5" in result.output
    assert "breakpoint 2 (step #5)" in result.output.split("breakpoint 1 (label 'h_2')")[0]


@needs_engine
def test_step_g_writes_a_valid_svg_with_the_current_node_marked(tmp_path):
    out = tmp_path / "frames"
    result = step("-o", str(out), "--commands", "b h_1; c; g frame.svg; g ../escape.svg; n")
    assert result.exit_code == 1, result.output  # the refused g is a failed command
    path = out / "frame.svg"
    assert f"wrote {path} (13 of 27 steps done; current: tanh 'h_1' (t=1, layer 0))" in (
        result.output
    )
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    assert "backward step 13 of 27" in text and "h_1" in text
    # refused: outside --out; the session goes on
    assert "error: g: files go inside --out" in result.output
    assert not (tmp_path / "escape.svg").exists()
    assert "step 14/27" in result.output


def test_step_typed_lines_prompt_repeat_on_enter_and_stop_at_end_of_input():
    run = lecture.build("rnn", steps=2, hidden=2)
    session = debugger.Session(run.loss)
    typed = iter(["n", "", "w", ""])
    prompts = []

    def read(prompt):
        prompts.append(prompt)
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    written = []
    debugger.execute_lines(session, debugger.typed_lines(session, read), written.append)
    # Enter repeats the last `n`, also after a `w` in between; then the input ended
    assert prompts == [f"(step {k}/19) " for k in (0, 1, 2, 2, 3)]
    assert written[1].startswith("step 1/19  mean 'E_1'")
    assert written[2].startswith("step 2/19  mul")
    assert written[3].startswith("step 2/19: mul")
    assert written[4].startswith("step 3/19  sub")


def test_step_help_has_an_example():
    result = CliRunner().invoke(main, ["step", "--help"])
    assert result.exit_code == 0 and "tinygrad-rnn step --steps 4 --commands" in result.output
