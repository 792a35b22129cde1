"""`tinygrad-rnn`: the command line, a thin layer over the library (and viz).

Each command is one function block below: `@main.command("name")`, `@seed_option`, a
docstring whose last paragraph is an example, and a body that calls the library and prints.
Library errors need no handling in the command: `Group` turns them into one line on stderr
and exit code 1 (set TINYGRAD_RNN_TRACEBACK=1 to see the traceback instead).
"""

import os

import click

from tinygrad_rnn.gradcheck import GradcheckError
from tinygrad_rnn.ops import AnomalyError

# What a user can cause (bad shapes or indices, missing files, NaNs, a failed check) and
# should read as a message, not as a traceback. viz's RenderError is a RuntimeError.
USER_ERRORS = (
    ValueError,
    TypeError,
    IndexError,
    RuntimeError,
    OSError,
    AnomalyError,
    GradcheckError,
)


def one_line(exc):
    """The first line of an exception's message (its class name when it has none)."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


class Group(click.Group):
    """A click group whose commands report library errors as `Error: <one line>` (exit 1)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # click's own exits and usage errors (Exit is a RuntimeError)
        except USER_ERRORS as exc:
            if os.environ.get("TINYGRAD_RNN_TRACEBACK"):
                raise
            raise click.ClickException(one_line(exc)) from None


def seed_option(fn):
    """`--seed N`: every command has one, so every run can be repeated exactly."""
    return click.option(
        "--seed", type=int, default=0, show_default=True, help="Random seed for everything."
    )(fn)


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=Group, context_settings=CONTEXT)
def main():
    """tinygrad-rnn: a glass-box autograd engine for learning and debugging RNNs.

    Every command takes --help (with an example) and --seed.

    \b
    Examples:
      tinygrad-rnn gradcheck              every op's gradient against finite differences
      tinygrad-rnn gradcheck -k matmul    only the matmul cases
      tinygrad-rnn COMMAND --help         options and an example for one command
    """


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


if __name__ == "__main__":
    main(prog_name="tinygrad-rnn")
