"""`tinygrad-rnn`: the command line, a thin layer over the library (and viz).

Each command is one function block below: `@main.command("name")`, `@seed_option`, a
docstring whose last paragraph is an example, and a body (at most 40 lines with its signature
and docstring) that calls the library or viz and prints: logic lives there, with its tests.
Option values are checked as click parses them, with the shared types of `cli_types.py`
(use them for every new option), which also declares once the options several commands
share. Errors need no handling in the command: `Group` turns every one into one line on
stderr (`tinygrad-rnn --debug ...` or TINYGRAD_RNN_DEBUG=1 shows the traceback instead).
"""

import functools
import os
import sys

# Before numpy loads: the recurrent steps multiply small matrices, where BLAS threads cost
# more than they give (an LSTM step measured 7x slower with OpenBLAS's default threads on
# 2 cores). A user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import click  # noqa: E402

import cli_types as T  # noqa: E402
from cli_types import (  # noqa: E402
    grad_range_option,
    lang_option,
    model_options,
    notation_option,
    seed_option,
    trained_options,
    view_options,
)
from tinygrad_rnn import __version__, limits  # noqa: E402
from tinygrad_rnn.analysis import unrolled  # noqa: E402
from tinygrad_rnn.anomaly import AnomalyError  # noqa: E402
from tinygrad_rnn.gradcheck import GradcheckError  # noqa: E402
from viz.plots import PlotError  # noqa: E402
from viz.render import RenderError  # noqa: E402

# Errors that answer a user's input (a bad value, a missing file, NaNs, a failed check):
# the library raises them with a precise message, shown as one line. Anything else is a bug
# and is reported as one too, with the way to see its traceback.
EXPECTED_ERRORS = (ValueError, OSError, AnomalyError, GradcheckError, RenderError, PlotError)
DEBUG_ENV = "TINYGRAD_RNN_DEBUG"


def one_line(exc):
    """The first line of an exception's message (its class name when it has none)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


class OneLine(click.ClickException):
    """`Error: <message>` on stderr and `exit_code`, nothing else."""

    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.exit_code = exit_code


def _debugging(ctx):
    flag = ctx.find_root().params.get("debug")
    return bool(flag) or os.environ.get(DEBUG_ENV, "") not in ("", "0")


class Group(click.Group):
    """The one error handler of the CLI: every failure ends as `Error: <one line>` on stderr.

    Bad command lines (click's usage errors and cli_types' option checks) exit 2; errors the
    library raises for bad input exit 1 with their message; anything else is a bug, reported
    as one line saying how to see its traceback (--debug or TINYGRAD_RNN_DEBUG=1).
    """

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            hint = f"see {ctx.command_path} --help"
            raise OneLine(f"{one_line(exc.format_message())} ({hint})", 2) from None

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own exits (Exit is a RuntimeError)
        except click.UsageError as exc:
            if isinstance(exc, click.BadParameter) or exc.ctx is None:  # names its option
                raise OneLine(one_line(exc.format_message()), 2) from None
            hint = f"see {exc.ctx.command_path} --help"
            raise OneLine(f"{one_line(exc.format_message())} ({hint})", 2) from None
        except click.ClickException:
            raise
        except BrokenPipeError:
            # the reader went away (`tinygrad-rnn ... | head`): stop quietly, as Unix tools
            # do, with the shell's status for SIGPIPE; devnull takes the final flush
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(141) from None
        except EXPECTED_ERRORS as exc:
            if _debugging(ctx):
                raise
            raise OneLine(one_line(exc)) from None
        except Exception as exc:
            if _debugging(ctx):
                raise
            if isinstance(exc, MemoryError):
                what = "out of memory (try smaller sizes)"
            else:
                what = f"internal error, {type(exc).__name__}: {one_line(exc)}"
            raise OneLine(
                f"{what}; run again with --debug (or {DEBUG_ENV}=1) to see the traceback"
            ) from None


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="tinygrad-rnn")
@click.option(
    "--debug",
    is_flag=True,
    help=f"Show the traceback of an unexpected error (or set {DEBUG_ENV}=1).",
)
def main(debug):
    """tinygrad-rnn: a glass-box autograd engine for learning and debugging RNNs.

    Every command takes --help (with an example) and --seed.

    \b
    Examples:
      tinygrad-rnn demo                     the lecture's RNN and an LSTM, drawn with BPTT's paths
      tinygrad-rnn render --cell lstm --steps 3 -o lstm.svg
      tinygrad-rnn bptt --radius 0.5        the sum over k, term by term, and a verdict
      tinygrad-rnn step --commands "n 5; p h_2; q"
      tinygrad-rnn train --task adding --length 20 --steps 600 --save adding.npz
      tinygrad-rnn gates --load adding.npz -o gates.png    what the trained LSTM's gates did
      tinygrad-rnn connectivity --load echo.npz -o c.png   which inputs each output depends on
      tinygrad-rnn plot rnn.jsonl lstm.jsonl -o runs.png   loss, metric, gradient norm (--log)
      tinygrad-rnn gradcheck                every op's gradient against finite differences
      tinygrad-rnn exercise list            write backward passes yourself, checked exactly
      tinygrad-rnn COMMAND --help           options and an example for one command
    """


def _check_size(model, extra_bytes=0, walks=1):
    """Refuse at once a lecture model too large to build (limits.TooLarge, with the numbers)."""
    limits.check_lecture(model, extra_bytes, walks)


# ----- gradcheck ----------------------------------------------------------------------------


@main.command("gradcheck", short_help="Check every op's gradient against finite differences.")
@seed_option
@click.option(
    "-k",
    "pattern",
    metavar="PATTERN",
    help="Only cases whose name contains PATTERN (or matches it as a glob: 'max_*keepdims').",
)
@click.option("--list", "list_only", is_flag=True, help="List the case names and exit.")
def gradcheck_command(seed, pattern, list_only):
    """Check every op's backward rule against central finite differences.

    Runs the op-case table (tinygrad_rnn/opcases.py) in float64: each case's forward
    against numpy, its gradient against central differences. Prints one row per case
    and exits with status 1 if any case fails, showing the worst elements.

    \b
    Example:
      tinygrad-rnn gradcheck -k getitem --seed 3
    """
    from tinygrad_rnn import opcases

    cases = opcases.select(pattern)
    if not cases:
        raise click.BadParameter(
            f"no op case matches {pattern!r} (see tinygrad-rnn gradcheck --list)",
            param_hint="'-k'",
        )
    if list_only:
        for case in cases:
            click.echo(case.name)
        return
    results = opcases.run_all(seed=seed, cases=cases)
    click.echo(opcases.format_results(results))
    failed = [r for r in results if not r.ok]
    for r in failed:
        click.echo(f"\n{r.name}: {r.detail}")
    if failed:
        click.echo(f"\n{len(failed)} of {len(results)} op cases FAILED (seed {seed})")
        raise click.exceptions.Exit(1)
    click.echo(f"\nall {len(results)} op cases pass (seed {seed})")


# ----- the model render, bptt and step read: the lecture's, or a trained one (--load) ----

# the lecture model's options (`model_options`), what lecture.build takes
MODEL_OPTIONS = (*unrolled.LECTURE_OPTIONS, "loss")


def _given_names():
    """The names of the running command's options given on the command line (not defaults)."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    return [n for n in ctx.params if ctx.get_parameter_source(n) != ParameterSource.DEFAULT]


# ----- bptt ---------------------------------------------------------------------------------


@main.command("bptt", short_help="Measure BPTT's sum over k: every term, Jacobian, bound, verdict.")
@seed_option
@click.option("--cell", type=T.CELL, default="rnn", show_default=True, help="rnn, lstm or gru.")
@click.option("--steps", type=T.POSITIVE, default=4, show_default=True, help="Time steps.")
@click.option("--hidden", type=T.POSITIVE, default=3, show_default=True, help="Hidden size.")
@click.option("--input-size", type=T.POSITIVE, default=2, show_default=True, help="Input size.")
@click.option("--layers", type=T.POSITIVE, default=1, show_default=True, help="Stacked layers.")
@click.option("--bidirectional", is_flag=True, help="Run a reverse direction too.")
@click.option(
    "--activation",
    type=T.ACTIVATION,
    default="tanh",
    show_default=True,
    help="The plain RNN's nonlinearity: tanh, relu, sigmoid or linear.",
)
@click.option(
    "--radius", type=T.POSITIVE_NUMBER, help="Set W_hh to RADIUS x a random orthogonal matrix."
)
@click.option(
    "--init",
    type=T.INIT,
    default="orthogonal",
    show_default=True,
    help="orthogonal, or random: a Gaussian matrix scaled to spectral norm RADIUS.",
)
@click.option(
    "--loss",
    type=T.LOSS,
    default="last",
    show_default=True,
    help="last (E_{T-1}, the lecture's E_3), all (E = sum_t E_t) or a step t (E_t).",
)
@click.option(
    "--forget-bias",
    type=T.Finite(),
    metavar="B",
    help="LSTM: every forget gate's total bias (f rests near sigmoid(B)); lstm only.",
)
@click.option("--layer", type=T.Count(), default=0, show_default=True, help="Layer to tabulate.")
@click.option(
    "--direction",
    type=T.Name(["forward", "reverse"]),
    default="forward",
    show_default=True,
    help="forward or reverse (tabulated).",
)
@click.option(
    "--param",
    default="weight_hh",
    show_default=True,
    help="Parameter whose per-step terms fill the table (weight_ih, bias_hh, head.weight, ...).",
)
@click.option("--scalar", is_flag=True, help="Hidden size 1: list each factor w*f'(a_j).")
@click.option(
    "--compare", type=T.Names(T.CELLS), metavar="CELLS", help="Cells side by side: rnn,lstm,gru."
)
@click.option(
    "--radii",
    type=T.Numbers(min=0, min_open=True),
    metavar="R1,R2,..",
    help="Sweep the radius, e.g. 0.5,1.0,1.5.",
)
@click.option(
    "--clip",
    "max_norm",
    type=T.POSITIVE_NUMBER,
    metavar="MAX_NORM",
    help="Show the gradient before and after clip_grad_norm_(MAX_NORM).",
)
@click.option(
    "--plot",
    "plot_path",
    type=T.PictureFile(),
    metavar="FILE.png",
    help="Draw log |dh_T/dh_k| against T-k with the bound dashed (needs the plot extra).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@trained_options
def bptt_command(load, input_text, sample, plot_path, as_json, **options):
    """Measure every term of the lecture's BPTT sum on the unrolled model.

    dE_T/dW = sum_k dE_T/dh_T * dh_T/dh_k * d+h_k/dW. One row per step k: the gradient
    reaching h_k, the spectral norm of dh_T/dh_k (by vector-Jacobian products), the bound
    (gamma sigma_max(W_hh))^(T-k) for a simple RNN, and term_k, the part of dE/dW that came
    through W's use at step k, with its share. The summary checks that the terms sum to the
    engine's gradient and gives the fitted per-step rate and a verdict.

    \b
    Examples:
      tinygrad-rnn bptt --steps 8 --radius 0.9
      tinygrad-rnn bptt --scalar --steps 8
      tinygrad-rnn bptt --compare rnn,lstm,gru --steps 30 --radii 0.5,1.0 --plot decay.png
      tinygrad-rnn bptt --load echo.npz --sample 3     a trained model on a test sequence
    """
    from tinygrad_rnn.analysis.bptt_sweep import sweep
    from viz import bptt_text

    given = _given_names()
    measured = sweep(load=load, input=input_text, sample=sample, given=given, **options)
    notes = bptt_text.clip_notes(measured, options["max_norm"])
    if plot_path is not None:
        from viz.plots import decay_series, jacobian_decay

        jacobian_decay([decay_series(m.label, m.report) for m in measured], plot_path)
        notes.append(f"wrote {plot_path}")
    if as_json:
        click.echo(bptt_text.sweep_json(measured))
    else:
        click.echo(bptt_text.sweep_text(measured, options["scalar"]))
    for note in notes:
        click.echo(note, err=as_json)


# ----- train and sample ---------------------------------------------------------------------

from tinygrad_rnn.tasks import TASKS as _TASKS  # noqa: E402  (names for --task's choices)


def _explicit(values):
    """Only the options given on the command line (None for defaults): resuming a
    checkpoint keeps its own config except where the user asked for something else."""
    given = _given_names()
    return {k: (v if k in given else None) for k, v in values.items()}


@main.command("train", short_help="Train a model on a task (optimizers, clipping, truncated BPTT).")
@seed_option
@click.option("--task", type=T.Name(_TASKS), help="The data set.  [default: adding]")
@click.option("--cell", type=T.CELL, help="[default: lstm]")
@click.option("--hidden", type=T.POSITIVE, help="Hidden size.  [default: 32]")
@click.option("--layers", type=T.POSITIVE, help="Stacked layers.  [default: 1]")
@click.option(
    "--bidirectional/--unidirectional", default=None, help="Read both ways (N-vs-1, N-vs-N)."
)
@click.option(
    "--nonlinearity",
    "--activation",
    type=T.ACTIVATION,
    help="The plain rnn cell's nonlinearity.  [default: tanh]",
)
@click.option("--length", "-T", type=T.POSITIVE, help="Sequence length T of the generated tasks.")
@click.option(
    "--text",
    type=T.InFile(),
    help="Text file of the 'text' task.  [default: a snapshot of the README, "
    "tinygrad_rnn/data/text.txt]",
)
@click.option("--embed", type=T.POSITIVE, help="Token embedding size.  [default: 16]")
@click.option(
    "--reverse-source/--no-reverse-source",
    default=None,
    help="Seq2seq: the encoder reads the source reversed (Sutskever et al. 2014).",
)
@click.option(
    "--radius", type=T.POSITIVE_NUMBER, help="Set W_hh to RADIUS x a random orthogonal matrix."
)
@click.option(
    "--forget-bias",
    type=T.Finite(),
    metavar="B",
    help="LSTM: start every forget gate at total bias B (Gers et al. 2000; Jozefowicz 2015: 1).",
)
@click.option("--steps", type=T.POSITIVE, help="Total optimizer steps (batches).  [default: 200]")
@click.option("--batch", type=T.POSITIVE, help="Sequences per batch.  [default: 32]")
@click.option(
    "--optim",
    type=T.Name(["sgd", "adam", "adagrad", "rmsprop"]),
    help="Optimizer.  [default: adam]",
)
@click.option(
    "--lr",
    type=T.Finite(min=0),
    help="[default: sgd 0.1, adam 0.01, adagrad 0.05, rmsprop 0.005]",
)
@click.option(
    "--clip", type=T.POSITIVE_NUMBER, metavar="MAX_NORM", help="Clip the global gradient norm."
)
@click.option("--k1", type=T.POSITIVE, help="Truncated BPTT: backpropagate every k1 steps ...")
@click.option("--k2", type=T.POSITIVE, help="... through the last k2 steps (k2 >= k1).")
@click.option("--dtype", type=T.Name(["float64", "float32"]), help="[default: float64]")
@click.option(
    "--eval-every", type=T.POSITIVE, help="Also evaluate every N steps (printed, and in --log)."
)
@click.option(
    "--sample-every",
    type=T.POSITIVE,
    metavar="N",
    help="Print a sample every N steps (text: 60 characters; generate: every class).",
)
@click.option("--eval-batch", type=T.POSITIVE, help="Sequences in the test batch.  [default: 512]")
@click.option("--save", type=T.OutFile(), help="Write a checkpoint (.npz) here.")
@click.option("--load", type=T.InFile(), help="Resume from this checkpoint.")
@click.option("--log", type=T.OutFile(), help="One JSON line per step (.jsonl).")
def train_command(save, load, log, sample_every, **options):
    """Train a recurrent model on a task and evaluate it against the task's baseline.

    Shows a progress bar with the loss, the gradient norm and how many steps were
    clipped, then the task's metric on a held-out batch next to its trivial baseline.
    With --load, the run continues from the checkpoint's step up to --steps with the
    checkpoint's config: bit for bit the run it would have been. Model options given
    with --load must match the checkpoint. Writes only --save and --log.

    \b
    Examples:
      tinygrad-rnn train --task adding --length 50 --cell lstm --hidden 64 --steps 1500
      tinygrad-rnn train --task text --cell lstm --steps 300 --save text.npz
      tinygrad-rnn train --task adding --cell rnn --k1 10 --k2 20 --clip 1.0 --log run.jsonl
      tinygrad-rnn train --task text --steps 500 --sample-every 100 --eval-every 100
    """
    from tinygrad_rnn.analysis import watch
    from tinygrad_rnn.train import Run, make_config

    run = Run.resume(load, **_explicit(options)) if load else Run(make_config(**options))
    progress = watch.Progress(run, log, append=bool(load), sample_every=sample_every)
    click.echo(watch.start_text(run, load))
    try:
        with progress:
            _fit_with_bar(run, progress)
    except KeyboardInterrupt:
        # the weights are those of the last completed step (run.step): keep them
        click.echo(progress.interrupted(save), err=True)
        raise click.exceptions.Exit(130) from None
    for line in progress.summary():
        click.echo(line)
    if save:  # before evaluating: an evaluation that fails must not lose the run
        run.save(save)
        click.echo(f"saved {save} (step {run.step})")
    click.echo(run.verdict_line(run.evaluation()))
    if run.stopping_line() is not None:
        click.echo(run.stopping_line())


def _fit_with_bar(run, progress):
    """`run.fit()` under a progress bar on stderr, printing `progress`'s lines as it goes;
    Ctrl-C finishes the step under way, then raises KeyboardInterrupt."""
    from tinygrad_rnn.analysis.watch import interrupt_between_steps

    bar = click.progressbar(
        length=progress.todo, label="training", item_show_func=progress.bar_text, file=sys.stderr
    )
    with interrupt_between_steps() as interrupted, bar:

        def on_step(record):
            lines = progress.add(record)
            if lines and sys.stderr.isatty():
                click.echo("\r\033[K", nl=False, err=True)  # clear the bar's line first
            for text in lines:
                click.echo(text)
            bar.update(1, record)
            if interrupted:
                raise KeyboardInterrupt

        run.fit(on_step=on_step)


@main.command("sample", short_help="Generate from a trained text or 1-vs-N model.")
@seed_option
@click.option("--load", required=True, type=T.InFile(), help="A checkpoint.")
@click.option("--length", "-n", type=T.POSITIVE, default=200, show_default=True, help="Characters.")
@click.option("--prime", help="Text the model reads first.  [default: the text's first line]")
@click.option(
    "--temperature",
    type=T.Finite(min=0),
    help="0 = always the most likely token.  [default: 1 for text, 0 for generate]",
)
@click.option("--class", "classes", multiple=True, help="Which class names (generate); repeatable.")
def sample_command(seed, load, length, prime, temperature, classes):
    """Generate from a checkpoint: characters from a text model, or each class's sequence
    from a 1-vs-N (generate) model.

    \b
    Examples:
      tinygrad-rnn train --task text --steps 300 --save text.npz
      tinygrad-rnn sample --load text.npz --prime "The " --length 300 --temperature 0.8
      tinygrad-rnn train --task generate --steps 300 --save spell.npz
      tinygrad-rnn sample --load spell.npz --class three --class seven
    """
    from tinygrad_rnn.analysis.watch import generated_text
    from tinygrad_rnn.train import Run

    run = Run.resume(load, need_data=False)
    for piece in generated_text(run, seed, length, prime, temperature, classes, name=load):
        click.echo(piece, nl=False)  # streamed: a long sample never sits in memory


# ----- render and demo ----------------------------------------------------------------------


def _wrote(result, max_pixels):
    """'wrote FILE', and when the png size cap shrank the picture, by how much."""
    if not getattr(result, "shrunk", False):
        return f"wrote {result}"
    (w, h), (w0, h0) = result.size, result.natural
    return (
        f"wrote {result}, shrunk to {w} x {h} px by --max-pixels {max_pixels} "
        f"(full size {w0} x {h0} px; use svg, or raise --max-pixels)"
    )


@main.command("render", short_help="Draw the unrolled graph, gradients as colours.")
@seed_option
@model_options
@click.option(
    "--color",
    type=T.Name(["grad", "none"]),
    default="grad",
    show_default=True,
    help="grad (log10 |grad|) or none.",
)
@click.option(
    "--highlight",
    type=T.Pair(str),
    metavar="A:B",
    help="Emphasise every path between two nodes, e.g. E_3:h_0.",
)
@click.option(
    "--bptt",
    "bptt_paths",
    type=T.Pair(int, min=0),
    metavar="T:K",
    help="The lecture's paths from E_T back to h_K, e.g. 3:0.",
)
@click.option(
    "--detail",
    type=T.Name(["op", "cell"]),
    default="op",
    show_default=True,
    help="op (every op) or cell (a box per step).",
)
@click.option(
    "--window",
    type=T.Pair(int, ordered=True, min=0),
    metavar="A:B",
    help="Draw only steps A..B (inclusive), e.g. 10:14.",
)
@click.option("--no-params", is_flag=True, help="Leave the parameters out.")
@click.option(
    "--max-nodes",
    type=T.POSITIVE,
    default=2000,
    show_default=True,
    help="Refuse larger pictures...",
)
@click.option("--force", is_flag=True, help="...unless forced.")
@click.option(
    "--format",
    "fmt",
    type=T.Name(["svg", "png", "pdf", "dot"]),
    help="svg, png, pdf or dot (default: from -o, else svg).",
)
@click.option(
    "--max-pixels",
    type=T.Count(min=16, max=100000),
    default=16000,
    show_default=True,
    help="PNG only: cap the longer side (the drawing is scaled down).",
)
@click.option(
    "--dpi",
    type=T.Finite(min=1, max=2400),
    help="PNG only: resolution (Graphviz's default is 96).",
)
@click.option("-o", "--out", type=T.OutFile(), help="Output file [graph.FORMAT].")
@notation_option
@trained_options
def render_command(load, input_text, sample, seed, out, fmt, dpi, max_pixels, **options):
    """Draw the lecture's unrolled model after backward, coloured by gradient.

    Builds the model as `tinygrad-rnn bptt` and `step` do (lecture.build), runs the
    loss backward and draws the graph: one cluster per time step from left to right,
    inputs at the bottom, the loss at the top, every node filled by log10 |grad|.
    docs/rendering.md explains how to read the picture.

    \b
    Examples:
      tinygrad-rnn render --bptt 3:0 -o rnn.png
      tinygrad-rnn render --cell lstm --steps 50 --detail cell -o lstm50.svg
      tinygrad-rnn render --radius 0.5 --steps 8 --highlight E_7:h_0 --no-params -o fade.png
      tinygrad-rnn render --notation lecture --bptt 3:0 -o lecture.png
      tinygrad-rnn render --load text.npz --input "hello" --detail cell -o hello.png
    """
    from tinygrad_rnn.analysis import unrolled
    from viz.budget import check_picture
    from viz.demo import describe
    from viz.dot import to_dot
    from viz.render import output_for, render

    out, fmt = output_for(out, fmt)
    model = {k: options.pop(k) for k in MODEL_OPTIONS}
    params, window = not options.pop("no_params"), options.pop("window")
    if load is None:
        _check_size(model)
        if not options["force"]:
            check_picture(model, options["detail"], params, window, options["max_nodes"])
    run = unrolled.build(model, seed, load, input_text, sample, _given_names())
    run.loss.backward()
    title = run.title() if load else describe(run)
    dot = to_dot(run.loss, title=title, params=params, steps=window, **options)
    click.echo(_wrote(render(dot, out, fmt, dpi=dpi, max_pixels=max_pixels), max_pixels))


@main.command("demo", short_help="The lecture's RNN and an LSTM, unrolled, with BPTT's paths.")
@seed_option
@click.option(
    "-o",
    "--out",
    type=T.OutDir(),
    default="tinygrad-rnn-demo",
    show_default=True,
    help="Directory to write the pictures into.",
)
@click.option(
    "--forget-bias",
    type=T.Finite(),
    default=2.0,
    show_default=True,
    metavar="B",
    help="The LSTM's forget-gate bias (f rests near sigmoid(B)).",
)
@grad_range_option
@click.option("--json", "as_json", is_flag=True, help="Print the gradients and files as JSON.")
@notation_option
def demo_command(seed, out, forget_bias, grad_range, as_json, notation):
    """Draw the lecture's 4-step tanh RNN and an LSTM, gradients flowing back from E_3.

    Each network is unrolled over 4 steps, its loss E_3 backpropagated, and drawn with
    every path from E_3 back to h_0 thick and every node coloured by log10 |grad|
    (lighter = smaller, one scale for both): rnn.png/.svg and lstm.png/.svg. The LSTM
    starts with forget-gate bias 2 (f near 0.88), so its cell path carries E_3's gradient
    back. Prints |dE_3/dh_k| for both and |dE_3/dc_k| for the LSTM (--json: as JSON).

    \b
    Example:
      tinygrad-rnn demo -o pictures
    """
    import json

    from viz.demo import run_demo

    paths, text, data = run_demo(out, seed, notation, forget_bias, grad_range)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(text)
    click.echo("")
    click.echo("wrote " + ", ".join(paths))
    click.echo("how to read them: docs/rendering.md")


# ----- step ---------------------------------------------------------------------------------


@main.command("step", short_help="Step through the backward pass node by node, like pdb.")
@seed_option
@model_options
@click.option(
    "--break",
    "breaks",
    multiple=True,
    metavar="SPEC",
    help="Start with a breakpoint: a label (h_1), t=K or #K. Repeatable.",
)
@click.option(
    "--commands",
    metavar="'CMD; CMD'",
    help="Run these commands, separated by ';', instead of reading them.",
)
@click.option(
    "-o",
    "--out",
    type=T.OutDir(),
    default=".",
    show_default=True,
    help="Directory that `g FILE` writes into.",
)
@click.option(
    "--html",
    "html_path",
    type=T.OutFile(),
    metavar="FILE.html",
    help="Write a self-contained page that walks the forward, then the backward pass.",
)
@click.option(
    "--gif",
    "gif_path",
    type=T.OutFile(),
    metavar="FILE.gif",
    help="Write the backward walk as an animated GIF (needs Pillow).",
)
@click.option(
    "--per",
    type=T.Name(["node", "step"]),
    default="node",
    show_default=True,
    help="--gif: a frame per node, or per time step.",
)
@click.option(
    "--detail",
    type=T.Name(["op", "cell"]),
    default="op",
    show_default=True,
    help="--html/--gif: every op, or one box per step.",
)
@click.option(
    "--lang",
    type=T.Name(["en", "zh"]),
    default="en",
    show_default=True,
    help="--html: the page's language (buttons, panel).",
)
@notation_option
@trained_options
def step_command(load, input_text, sample, seed, breaks, commands, out, **options):
    """Step through the backward pass of the lecture's unrolled model, one node at a time.

    Builds the same model as `render` and walks its backward pass in reverse topological
    order: each step gives one node its complete gradient and sends gradients to its
    inputs. Commands: n [K], c, b LABEL | b t=K, p LABEL, w, l, g FILE, h, q (h explains
    them). Reads commands from --commands, else from stdin when it is not a terminal,
    else from a prompt; scripted commands are echoed after the prompt.
    docs/debugging.md has a session to read. With --html or --gif it writes the walk
    instead: a page to open in any browser (no network, no Python), or an animation.

    \b
    Examples:
      tinygrad-rnn step --steps 4 --commands "b h_1; c; p h_1; w; g frame.svg; q"
      tinygrad-rnn step --load echo.npz --sample 0 --commands "b t=3; c; p h_3; q"
      tinygrad-rnn step --notation lecture --html walk.html
      tinygrad-rnn step --cell lstm --steps 3 --gif walk.gif --per step
    """
    from tinygrad_rnn.analysis import debugger
    from viz.frames import render_frame

    model = {k: options.pop(k) for k in MODEL_OPTIONS}
    if load is None:
        _check_size(model)
    given = _given_names()
    build = functools.partial(unrolled.build, model, seed, load, input_text, sample, given)
    run = build()
    if options["html_path"] or options["gif_path"]:
        from viz.walk import write_walks

        for line in write_walks(run, build, load, **options):
            click.echo(line)
        return
    drawing = {k: options[k] for k in ("notation", "grad_range")}
    render = functools.partial(render_frame, **drawing)
    write_path = functools.partial(_path_inside, out)
    session = debugger.Session(run.loss, render=render, write_path=write_path)
    debugger.interact(session, click.echo, commands, sys.stdin, breaks)


def _path_inside(directory, name):
    """`name` inside `directory` (made if needed); refuse paths that leave it."""
    path = os.path.normpath(os.path.join(directory, name))
    if os.path.isabs(name) or os.path.relpath(path, directory).startswith(".."):
        raise ValueError(f"files go inside --out ({directory}): give a name like frame.svg")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return path


# ----- trained-model views: connectivity and gates -------------------------------------------


@main.command("connectivity", short_help="Which inputs each output of a trained model depends on.")
@seed_option
@view_options
@click.option("--compare", type=T.InFile(), metavar="CKPT2", help="Side by side.")
def connectivity_command(seed, load, input_text, sample, out, as_json, compare):
    """The matrix ||d o_t / d x_k|| of a trained model on one input: rows are output steps t,
    columns input steps k (for tokens, x_k is the embedded vector). A unidirectional model
    has exact zeros above the diagonal; a bidirectional one fills both sides; an N-vs-1
    model has one row. Prints the table, or --json {"matrix": [[...]], "inputs": [...]}.

    \b
    Examples:
      tinygrad-rnn train --task echo --steps 400 --save echo.npz
      tinygrad-rnn connectivity --load echo.npz --sample 0 -o echo_conn.png
      tinygrad-rnn connectivity --load lstm.npz --compare rnn.npz --input "3 1 4 1 5 9" -o both.png
    """
    import json

    from tinygrad_rnn.analysis.connectivity import connectivity
    from tinygrad_rnn.analysis.trained import load as load_trained
    from viz.terminal import grid

    results = [connectivity(load_trained(load, input=input_text, sample=sample))]
    if compare is not None:
        results.append(connectivity(load_trained(compare, input=input_text, sample=sample)))
    if as_json:
        dicts = [r.to_dict() for r in results]
        click.echo(json.dumps(dicts[0] if len(dicts) == 1 else dicts))
    else:
        for r in results:
            click.echo(r.title)
            click.echo(grid(r.rows, r.inputs, r.matrix, "t \\ k"))
    if out is not None:
        from viz.heatmaps import connectivity_figure

        connectivity_figure(results, out)
        click.echo(f"wrote {out}", err=as_json)


@main.command("gates", short_help="Unit x time heatmaps of a trained model's gates and states.")
@seed_option
@view_options
@click.option(
    "--layer", type=T.Count(), default=-1, show_default=True, help="Which layer (-1: top)."
)
@click.option(
    "--direction",
    type=T.Name(["forward", "reverse"]),
    default="forward",
    show_default=True,
    help="forward or reverse.",
)
def gates_command(seed, load, input_text, sample, out, as_json, layer, direction):
    """What a trained model's gates did on one input: i, f, o, c and h of an LSTM (GRU: r, z,
    n, h; RNN: h), one row per unit, one column per step under its input token. The values
    are the graph's own nodes. Prints each table, or --json with exactly those keys plus
    "inputs"; -o draws the heatmaps.

    \b
    Examples:
      tinygrad-rnn train --task adding --length 20 --steps 600 --save adding.npz
      tinygrad-rnn gates --load adding.npz --sample 0 -o adding_gates.png
      tinygrad-rnn gates --load text.npz --input "The engine" --json
    """
    import json

    from tinygrad_rnn.analysis.gates import gates
    from tinygrad_rnn.analysis.trained import load as load_trained
    from viz.terminal import grid

    result = gates(load_trained(load, input=input_text, sample=sample), layer, direction)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
    else:
        click.echo(result.title)
        for name, table in result.tables.items():
            units = [f"{name}[{u}]" for u in range(table.shape[0])]
            click.echo(grid(units, result.inputs, table, name))
    if out is not None:
        from viz.heatmaps import gates_figure

        gates_figure(result, out)
        click.echo(f"wrote {out}", err=as_json)


@main.command("plot", short_help="Plot training logs: loss, metric vs baseline, gradient norm.")
@seed_option
@click.argument("logs", nargs=-1, required=True, type=T.InFile())
@click.option(
    "-o",
    "--out",
    type=T.PictureFile(),
    default="training.png",
    show_default=True,
    metavar="FILE.png",
    help="The figure (png, svg or pdf).",
)
@click.option("--title", help="The figure's title.  [default: the runs' names]")
def plot_command(seed, logs, out, title):
    """Plot one or more training logs (train --log RUN.jsonl) over the optimizer step,
    overlaid: the training loss, the evaluation metric against the task's baseline (runs
    logged with --eval-every), and the gradient norm on a log scale with clipped steps
    marked. Each run is named by its file name.

    \b
    Example:
      tinygrad-rnn train --task adding --cell rnn --eval-every 25 --log rnn.jsonl
      tinygrad-rnn train --task adding --cell lstm --eval-every 25 --log lstm.jsonl
      tinygrad-rnn plot rnn.jsonl lstm.jsonl -o adding.png
    """
    from tinygrad_rnn.analysis.runlog import read_log
    from viz.curves import training_figure

    runs = [read_log(path) for path in logs]
    training_figure(runs, out, title)
    for run in runs:
        click.echo(run.summary())
    click.echo(f"wrote {out}")


# ----- exercise -----------------------------------------------------------------------------


@main.group("exercise", short_help="Exercises: write backward passes yourself, checked exactly.")
def exercise_group():
    """Exercises in the lecture's order: you write a backward pass (or predict a number),
    `check` compares it with the engine's gradient and central finite differences and says
    which output, which elements, which gate and which time step are wrong. `check --seed N`
    draws other random inputs (exercise 10 trains with its own fixed seed).

    \b
    Examples:
      tinygrad-rnn exercise list
      tinygrad-rnn exercise show 3 --lang zh
      tinygrad-rnn exercise start 3 -o rnn_step.py
      tinygrad-rnn exercise check 3 rnn_step.py --picture rnn_step.svg
      tinygrad-rnn exercise solution 3
    """


def _exercise(number):
    from tinygrad_rnn import exercises

    try:
        return exercises.get(number)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="N") from None


@exercise_group.command("list", short_help="Every exercise, in the lecture's order.")
@lang_option
def exercise_list(lang):
    """Every exercise: number, title and the lecture topic it belongs to.

    \b
    Example:
      tinygrad-rnn exercise list --lang zh
    """
    from tinygrad_rnn.exercises import EXERCISES

    for e in EXERCISES:
        click.echo(f"{e.number:>2}  {e.title_zh if lang == 'zh' else e.title}")
        click.echo(f"    {e.topic}")


@exercise_group.command("show", short_help="The task, with its formulas.")
@click.argument("number", metavar="N", type=T.POSITIVE)
@lang_option
def exercise_show(number, lang):
    """Print exercise N: what it teaches, the task and its formulas (--lang zh: in Chinese).

    \b
    Example:
      tinygrad-rnn exercise show 8 --lang zh
    """
    e = _exercise(number)
    zh = lang == "zh"
    click.echo(f"{'练习' if zh else 'Exercise'} {e.number}: {e.title_zh if zh else e.title}")
    click.echo(f"{'课件' if zh else 'Lecture'}: {e.topic}")
    click.echo(f"{'学到' if zh else 'Teaches'}: {e.teaches_zh if zh else e.teaches}")
    click.echo()
    click.echo(e.text_zh if zh else e.text_en)
    click.echo()
    click.echo(f"tinygrad-rnn exercise start {e.number}        ({e.filename})")
    click.echo(f"tinygrad-rnn exercise check {e.number} {e.filename}")


@exercise_group.command("start", short_help="Write the starter file to fill in.")
@click.argument("number", metavar="N", type=T.POSITIVE)
@click.option(
    "-o", "--out", type=T.OutFile(), help="The file to write.  [default: exerciseNN_name.py]"
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def exercise_start(number, out, force):
    """Write exercise N's starter file: the function to fill in, with TODOs. An existing
    file is never overwritten unless --force is given.

    \b
    Example:
      tinygrad-rnn exercise start 3 -o rnn_step.py
    """
    from tinygrad_rnn import exercises

    path = exercises.write_file(_exercise(number).number, out, force=force)
    click.echo(
        f"wrote {path}; fill in the TODOs, then: tinygrad-rnn exercise check {number} {path}"
    )


@exercise_group.command("check", short_help="Check your file; exit 0 when correct, 1 when not.")
@click.argument("number", metavar="N", type=T.POSITIVE)
@click.argument("file", metavar="FILE.py", type=T.InFile())
@click.option(
    "--picture",
    type=T.OutFile(),
    metavar="FILE.svg|png",
    help="Draw your gradient next to the true one (exercises 3, 8, 9).",
)
@seed_option
@click.pass_context
def exercise_check(ctx, number, file, picture, seed):
    """Run FILE.py (your own code) against the engine's gradient and central finite
    differences. On failure: which output is wrong, its worst elements (index, expected,
    got, error), the gate, and for recurrent exercises the time step where your gradient
    first departs from the true one. Exit 0 when correct, 1 when not.

    \b
    Example:
      tinygrad-rnn exercise check 3 rnn_step.py --picture rnn_step.svg
    """
    from tinygrad_rnn import exercises

    _exercise(number)
    problem = picture and exercises.picture_problem(number, picture)
    if problem:
        raise click.BadParameter(problem, param_hint="--picture")
    result = exercises.check(number, file, seed=seed)
    click.echo(result.text())
    graphs = getattr(result, "graphs", None)
    if picture is not None and graphs is not None:
        from viz.side_by_side import side_by_side

        titles = ("your gradient", "the true gradient")
        side_by_side(*graphs, picture, titles=titles)
        click.echo(f"wrote {picture}: your gradient (left) next to the true one (right)")
    elif picture is not None:
        click.echo(
            f"no picture: the check stopped before your step ran unrolled ({picture} not written)"
        )
    ctx.exit(0 if result.passed else 1)


@exercise_group.command("solution", short_help="Print a solution (for teachers).")
@click.argument("number", metavar="N", type=T.POSITIVE)
@click.option("-o", "--out", type=T.OutFile(), help="Write it to this file instead.")
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def exercise_solution(number, out, force):
    """Print exercise N's solution (it passes `check`), or write it with -o.

    \b
    Example:
      tinygrad-rnn exercise solution 8 -o lstm_solution.py
    """
    from tinygrad_rnn import exercises

    e = _exercise(number)
    if out is None:
        click.echo(e.solution, nl=False)
    else:
        click.echo(f"wrote {exercises.write_file(e.number, out, force=force, solution=True)}")


if __name__ == "__main__":
    main(prog_name="tinygrad-rnn")
