"""The logic behind the CLI's commands, called directly: what `cli.py` hands to the library
(tinygrad_rnn) and to viz, each piece with its own contract."""

import io

import numpy as np
import pytest

from tinygrad_rnn import lecture, limits
from tinygrad_rnn.analysis import bptt_sweep, debugger, unrolled, watch
from tinygrad_rnn.train import Run, make_config


@pytest.fixture(scope="module")
def echo_ckpt(tmp_path_factory):
    run = Run(make_config(task="echo", hidden=4, embed=3, eval_batch=4, steps=1, length=6))
    run.fit()
    return str(run.save(tmp_path_factory.mktemp("ckpt") / "echo.npz"))


# ----- limits.check_lecture -------------------------------------------------------------------


def test_check_lecture_passes_small_models_and_refuses_large_ones_with_numbers():
    small = limits.check_lecture({"cell": "lstm", "steps": 3, "hidden": 2, "seed": 9})
    assert small.nodes == limits.lecture_size("lstm", steps=3, hidden=2).nodes
    with pytest.raises(limits.TooLarge, match=r"unrolled model would have [\d,]+ nodes"):
        limits.check_lecture({"cell": "rnn", "steps": 10**6})
    with pytest.raises(limits.TooLarge, match=r"the analysis \(10000 walks of [\d,]+ nodes\)"):
        limits.check_lecture({"cell": "rnn", "steps": 50}, walks=10_000)
    with pytest.raises(limits.TooLarge, match="of memory"):
        limits.check_lecture({"cell": "rnn"}, extra_bytes=10**18)


# ----- analysis.unrolled ----------------------------------------------------------------------


def test_unrolled_build_is_the_lecture_model_without_load():
    model = {"cell": "gru", "steps": 3, "hidden": 2, "loss": "all"}
    run = unrolled.build(model, seed=4)
    again = lecture.build(seed=4, **model)
    assert run.loss.label == "E" and np.array_equal(run.loss.data, again.loss.data)
    assert unrolled.load_trained(None) is None


def test_unrolled_refuses_input_without_load_and_lecture_options_with_it(echo_ckpt):
    with pytest.raises(ValueError, match="--input and --sample .* add --load"):
        unrolled.build({"cell": "rnn"}, sample=2)
    with pytest.raises(ValueError, match="^--steps, --input-size: lecture-model options"):
        unrolled.load_trained(echo_ckpt, given=["seed", "input_size", "steps", "loss"])


def test_unrolled_trained_loss_follows_loss_only_when_given(echo_ckpt):
    from tinygrad_rnn.analysis.trained import load

    trained = unrolled.load_trained(echo_ckpt, sample=1, loss="2")
    assert trained.loss.label == load(echo_ckpt, sample=1).loss.label  # not given: training's
    chosen = unrolled.load_trained(echo_ckpt, sample=1, loss="2", given=["loss"])
    assert chosen.loss is chosen.losses[2]
    last = unrolled.build({"loss": "last"}, load=echo_ckpt, sample=1, given=["loss"])
    assert last.loss is last.losses[-1] and last.config["source"] == "test sequence 1"


# ----- analysis.bptt_sweep --------------------------------------------------------------------


def test_sweep_measures_every_cell_and_radius_like_analyze():
    found = bptt_sweep.sweep(compare=["rnn", "lstm"], radii=[0.5, 1.5], steps=3, max_norm=0.01)
    assert [m.label for m in found] == ["rnn r=0.5", "rnn r=1.5", "lstm r=0.5", "lstm r=1.5"]
    run = lecture.build("lstm", steps=3, radius=1.5)
    expected = bptt_sweep.bptt.analyze(run)
    assert found[3].report.to_dict() == expected.to_dict()
    before, after, _, _ = found[0].clip
    assert before > 0.01 and after == pytest.approx(0.01, rel=1e-4)


def test_sweep_scalar_and_options_checked_before_building():
    (one,) = bptt_sweep.sweep(scalar=True, steps=5)
    assert one.report.scalar is not None and one.clip is None
    for options, words in [
        ({"scalar": True, "cell": "gru"}, "--scalar follows"),
        ({"forget_bias": 1.0}, "--forget-bias applies to the lstm cell only"),
        ({"steps": 10**6}, "would have"),
        ({"param": "nope"}, "unknown parameter 'nope'"),
        ({"direction": "sideways"}, "direction must be forward or reverse, got 'sideways'"),
    ]:
        with pytest.raises(ValueError, match=words):
            bptt_sweep.sweep(**options)


def test_sweep_on_a_trained_model(echo_ckpt):
    (m,) = bptt_sweep.sweep(load=echo_ckpt, sample=0)
    assert m.label == "echo" and m.report.steps == 6
    with pytest.raises(ValueError, match="--compare, --radii and --scalar"):
        bptt_sweep.sweep(load=echo_ckpt, radii=[1.0])


# ----- debugger.command_lines and interact ----------------------------------------------------


class Stdin(io.StringIO):
    def __init__(self, text, tty=False):
        super().__init__(text)
        self.tty = tty

    def isatty(self):
        return self.tty


def test_command_lines_script_then_piped_stdin_then_prompt():
    session = debugger.Session(lecture.build(steps=2).loss)
    assert command_lines_of(session, "n; p h_1", None) == (["n", " p h_1"], True)
    lines, echo = debugger.command_lines(session, None, Stdin("n\nq\n"))
    assert list(lines) == ["n\n", "q\n"] and echo
    lines, echo = debugger.command_lines(session, None, Stdin("", tty=True))
    assert not echo and hasattr(lines, "__next__")  # typed at a prompt
    closed = Stdin("")
    closed.close()
    for stdin in (None, closed):
        with pytest.raises(ValueError, match="stdin is closed"):
            debugger.command_lines(session, None, stdin)


def command_lines_of(session, commands, stdin):
    lines, echo = debugger.command_lines(session, commands, stdin)
    return list(lines), echo


def test_interact_sets_breakpoints_runs_and_counts_failed_commands():
    out = []
    session = debugger.Session(lecture.build(steps=2).loss)
    debugger.interact(session, out.append, "c; p h_0; q", breaks=["h_0"])
    text = "\n".join(out)
    assert "breakpoint 1: " in text and "(step 9/19) p h_0" in text and session.quit
    with pytest.raises(ValueError, match="1 of the scripted commands failed"):
        debugger.interact(debugger.Session(lecture.build().loss), out.append, "p nosuch")


# ----- viz: the bptt text, the picture budget, the output name, the walks ---------------------


def test_bptt_text_of_a_sweep_matches_its_parts():
    import json

    from viz import bptt_text

    one = bptt_sweep.sweep(steps=3, scalar=True, max_norm=1e-3)
    r = one[0].report
    parts = [bptt_text.header(r), bptt_text.rows_table(r), bptt_text.summary(r)]
    assert bptt_text.sweep_text(one) == "\n".join(parts)
    assert bptt_text.sweep_text(one, scalar=True).endswith(bptt_text.scalar_table(r))
    assert json.loads(bptt_text.sweep_json(one)) == json.loads(json.dumps(r.to_dict()))
    assert bptt_text.clip_notes(one, 1e-3) == [bptt_text.clip_text(1e-3, r.param, *one[0].clip)]
    two = bptt_sweep.sweep(radii=[0.5, 2.0], steps=3, max_norm=1e-3)
    assert bptt_text.sweep_text(two).startswith("|dh_T/dh_k|_2, T = 2")
    assert [n.split(":")[0] for n in bptt_text.clip_notes(two, 1e-3)] == ["rnn r=0.5", "rnn r=2"]
    assert len(json.loads(bptt_text.sweep_json(two))) == 2
    assert bptt_text.clip_notes(bptt_sweep.sweep(steps=2), 1.0) == []


def test_check_picture_refuses_above_a_quarter_over_the_limit():
    from viz.budget import check_picture, picture_nodes
    from viz.dot import GraphTooLarge

    model = {"cell": "lstm", "steps": 6}
    drawn = picture_nodes(model)
    assert check_picture(model, max_nodes=int(drawn / 1.25) + 1) == drawn
    with pytest.raises(GraphTooLarge, match=f"about {drawn:,} nodes .*--max-nodes 10\\)"):
        check_picture(model, max_nodes=10)
    assert check_picture(model, "cell", False, (0, 1), 10**4) < drawn


def test_output_for_names_the_file_and_format():
    from viz.render import RenderError, output_for

    assert output_for() == ("graph.svg", "svg")
    assert output_for(None, "PNG") == ("graph.png", "png")
    assert output_for("a/b.pdf") == ("a/b.pdf", "pdf")
    assert output_for("b.pdf", "dot") == ("b.pdf", "dot")
    for out, fmt in [("b.txt", None), (None, "jpg")]:
        with pytest.raises(RenderError):
            output_for(out, fmt)


def test_write_walks_writes_the_page_and_a_gif_of_a_fresh_graph(tmp_path, monkeypatch):
    from viz import walk

    built, gifs = [], []

    def rebuild():
        built.append(lecture.build(steps=2, hidden=1, input_size=1))
        return built[-1]

    def fake_gif(root, path, **options):  # the real one takes seconds: test_step_cli runs it
        gifs.append((root, root.grad, options))
        return 4

    monkeypatch.setattr(walk, "write_gif", fake_gif)
    page, gif = tmp_path / "w.html", tmp_path / "w.gif"
    lines = walk.write_walks(rebuild(), rebuild, "x.npz", html_path=page, gif_path=gif, per="step")
    assert lines == [f"wrote {page}", f"wrote {gif} (4 frames)"] and len(built) == 2
    assert page.read_text().startswith("<!DOCTYPE html>") and "x.npz: loss E_1" in page.read_text()
    ((root, grad, options),) = gifs
    assert root is built[1].loss and grad is None  # a graph the page did not run backward on
    assert options == {"per": "step", "notation": "pytorch", "detail": "op"}
    assert walk.write_walks(rebuild(), rebuild) == [] and len(built) == 3


# ----- analysis.watch: a training run as it goes, and generating -------------------------------


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text")
    corpus = folder / "c.txt"
    corpus.write_text("first line\nto be or not to be " * 20, encoding="utf-8")
    config = make_config(task="text", text=str(corpus), hidden=4, embed=3, eval_batch=4, steps=2)
    return Run(config)


def test_start_text_says_what_is_trained_how(text_run):
    line = watch.start_text(text_run)
    assert line.startswith("text (") and "lstm hidden 4 x1" in line and "full BPTT" in line
    assert "\n" not in line
    resumed = watch.start_text(text_run, "t.npz").split("\n")[1]
    assert resumed == f"resuming t.npz at step {text_run.step} of 2"


def test_progress_counts_logs_and_prints(tmp_path, text_run):
    import json

    log = tmp_path / "run.jsonl"
    with pytest.raises(ValueError, match="--sample-every .* not to 'adding'"):
        watch.Progress(Run(make_config(task="adding", length=6, steps=1)), sample_every=1)
    progress = watch.Progress(text_run, log, sample_every=2)
    assert progress.todo == 2 - text_run.step and progress.bar_text(None) == ""
    with progress:
        quiet = progress.add({"step": 1, "loss": float("nan"), "grad_norm": 2.0, "clipped": 1})
        loud = progress.add({"step": 2, "loss": 1.5, "grad_norm": 0.5, "clipped": 0, "eval": 3})
    assert quiet == [] and loud[0].startswith("step 2: test ") and loud[1].startswith("step ")
    assert progress.clipped == 1 and progress.bar_text(progress.records[-1]).endswith("clipped 1")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0]["loss"] is None and lines[1]["eval"] == 3
    assert (
        progress.summary()[0].startswith("2 steps in ") and "last loss 1.5" in progress.summary()[0]
    )
    assert watch.json_number(float("inf")) is None and watch.json_number(True) is True
    with watch.Progress(text_run, log, append=True):
        pass
    assert len(log.read_text().splitlines()) == 2  # appended nothing, kept everything


def test_progress_interrupted_saves_only_when_asked(tmp_path, text_run):
    progress = watch.Progress(text_run)
    assert (
        progress.interrupted()
        == f"interrupted after step {text_run.step}: nothing saved (no --save)"
    )
    path = tmp_path / "i.npz"
    assert progress.interrupted(str(path)).endswith(f"saved {path} (step {text_run.step})")
    assert path.exists()
    assert watch.Progress(text_run).summary() == [
        "nothing to do: the run has already taken --steps steps"
    ]


def test_interrupt_between_steps_defers_the_first_ctrl_c():
    import signal

    before = signal.getsignal(signal.SIGINT)
    with watch.interrupt_between_steps() as interrupted:
        signal.raise_signal(signal.SIGINT)
        assert interrupted == [signal.SIGINT]
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_generated_text_streams_a_text_model_and_checks_first(text_run):
    pieces = list(watch.generated_text(text_run, seed=1, length=150, temperature=0.5))
    assert pieces[0] == "first line" and pieces[-1] == "\n"
    assert [len(p) for p in pieces[1:-1]] == [64, 64, 22]
    again = "".join(watch.generated_text(text_run, seed=1, length=150, temperature=0.5))
    assert again == "".join(pieces)
    with pytest.raises(ValueError, match="prime is empty"):
        watch.generated_text(text_run, prime="")
    with pytest.raises(ValueError, match="x.npz is a model of the 'adding' task: sample needs"):
        watch.generated_text(Run(make_config(task="adding", length=6, steps=1)), name="x.npz")


def test_generated_text_spells_each_class_of_a_generate_model():
    run = Run(make_config(task="generate", hidden=4, embed=3, eval_batch=4, steps=1))
    words = run.task.words
    lines = list(watch.generated_text(run, classes=[words[2], words[0]]))
    assert [line.split(" -> ")[0] for line in lines] == [words[2], words[0]]
    assert all(line.endswith("\n") for line in lines)
    with pytest.raises(ValueError, match="unknown class 'zebra'"):
        watch.generated_text(run, classes=["zebra"])


# ----- text of the views and of training logs ---------------------------------------------------


def test_grid_lays_out_a_labelled_matrix():
    from viz.terminal import grid

    text = grid(["h[0]", "a-very-long-label"], ["'t'", "x"], [[0.5, 1e-5], [2, -3]], "t \\ k")
    assert text.split("\n") == [
        "     t \\ k    't'      x",
        "      h[0]    0.5  1e-05",
        "a-very-lon      2     -3",
    ]
    wide = grid(["r"], ["longtoken"], [[1.0]])
    assert wide.split("\n")[0] == "           longtoken"


def test_runlog_summary_line(tmp_path):
    from tinygrad_rnn.analysis.runlog import RunLog

    records = [
        {"step": 1, "loss": 2.0, "clipped": True},
        {"step": 2, "loss": None, "eval": 0.25, "metric": "mse", "baseline": 0.17},
    ]
    assert RunLog("a", records).summary() == (
        "a: 2 steps, last loss 2, last mse 0.25 (baseline 0.17), 1 clipped"
    )
    assert RunLog("b", [{"step": 1, "loss": None}]).summary() == "b: 1 steps, no finite loss"


def test_exercise_picture_problem_names_what_cannot_be_drawn():
    from tinygrad_rnn import exercises

    drawn = [e.number for e in exercises.EXERCISES if e.draws]
    assert drawn and exercises.picture_problem(drawn[0], "x.SVG") is None
    assert exercises.picture_problem(drawn[0], "x.png") is None
    assert "give FILE.svg or FILE.png, got x.pdf" in exercises.picture_problem(drawn[0], "x.pdf")
    plain = next(e.number for e in exercises.EXERCISES if not e.draws)
    expected = f"exercise {plain} has no unrolled graph to draw (exercises "
    assert exercises.picture_problem(plain, "p.svg").startswith(expected)
