"""Option types for `cli.py`, and the options several commands share (at the end): every
value is checked when click parses it, before any work.

Each type fails with `OptionError`, whose one-line message names the option, the rule and
the value (`--k1 must be >= 1, got 0`); `cli.Group` prints it as `Error: <message>`, exit
code 2 (click's code for a bad command line). Use them for every new option:

    @click.option("--lr", type=Finite(min=0, min_open=True))      finite float > 0
    @click.option("--k1", type=Count(min=1))                       int >= 1
    @click.option("--cell", type=Name(["rnn", "lstm", "gru"]))    one of the names
    @click.option("--window", type=Pair(int, ordered=True))        A:B with A <= B
    @click.option("--radii", type=Numbers(min=0, min_open=True))   1.0,2.0 -> [1.0, 2.0]
    @click.option("--save", type=OutFile())                        writable before training
    @click.option("--load", type=InFile())                         an existing, readable file
    @click.option("-o", type=OutDir())                             a directory we can make

Paths are checked for what can be known up front (the folder exists and is writable, the
path is not a directory); the writer still writes atomically.
"""

import math
import os

import click


class OptionError(click.BadParameter):
    """A bad option value; `message` is the whole line (it names the option itself)."""

    def format_message(self):
        return self.message


def option_name(param):
    """'--k1' for an option, 'CELLS' for an argument, 'value' without a parameter."""
    if param is None:
        return "value"
    opts = [o for o in getattr(param, "opts", ()) if o.startswith("--")]
    if opts:
        return opts[0]
    if getattr(param, "opts", None):
        return param.opts[0]
    return param.human_readable_name


class _Type(click.ParamType):
    def fail(self, message, param=None, ctx=None):
        raise OptionError(f"{option_name(param)} {message}", ctx=ctx, param=param)


def _number(x):
    return str(x) if isinstance(x, int) else f"{x:g}"


def _rule(low, high, low_open, high_open):
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {_number(low)}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {_number(high)}")
    return " and ".join(parts)


def _in_range(x, low, high, low_open, high_open):
    if low is not None and (x <= low if low_open else x < low):
        return False
    return not (high is not None and (x >= high if high_open else x > high))


class Finite(_Type):
    """A finite float (no nan or inf), optionally in a range."""

    name = "number"

    def __init__(self, min=None, max=None, min_open=False, max_open=False):
        self.range = (min, max, min_open, max_open)

    def convert(self, value, param, ctx):
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"must be a number, got {value!r}", param, ctx)
        if not math.isfinite(x):
            self.fail(f"must be a finite number, got {value}", param, ctx)
        if not _in_range(x, *self.range):
            self.fail(f"must be {_rule(*self.range)}, got {value}", param, ctx)
        return x


class Count(_Type):
    """An integer in [min, max] (counts, sizes, indices); '1e3' and '2.0' are not integers."""

    name = "integer"

    def __init__(self, min=None, max=None):
        self.min, self.max = min, max

    def convert(self, value, param, ctx):
        if isinstance(value, bool):
            self.fail(f"must be an integer, got {value!r}", param, ctx)
        try:
            n = int(value) if isinstance(value, int) else int(str(value).strip(), 10)
        except (TypeError, ValueError):
            self.fail(f"must be an integer, got {value!r}", param, ctx)
        if not _in_range(n, self.min, self.max, False, False):
            self.fail(f"must be {_rule(self.min, self.max, False, False)}, got {n}", param, ctx)
        return n


class Name(_Type):
    """One of a fixed list of names (case-sensitive), listing them when it is not."""

    name = "name"

    def __init__(self, choices):
        self.choices = list(choices)

    def get_metavar(self, param, ctx=None):
        return "[" + "|".join(self.choices) + "]"

    def convert(self, value, param, ctx):
        if value in self.choices:
            return value
        self.fail(f"must be one of {', '.join(self.choices)}, got {value!r}", param, ctx)

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        return [CompletionItem(c) for c in self.choices if c.startswith(incomplete)]


class Pair(_Type):
    """'A:B' -> (A, B) of `kind` (int or str); `ordered` requires A <= B; ints >= `min`."""

    name = "A:B"

    def __init__(self, kind=int, ordered=False, min=None):
        self.kind, self.ordered, self.min = kind, ordered, min

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = [p.strip() for p in str(value).split(":")]
        what = "two integers" if self.kind is int else "two node names"
        if len(parts) != 2 or not all(parts):
            self.fail(f"takes {what} as A:B, got {value!r}", param, ctx)
        if self.kind is not int:
            return tuple(parts)
        try:
            a, b = (int(p, 10) for p in parts)
        except ValueError:
            self.fail(f"takes {what} as A:B, got {value!r}", param, ctx)
        if self.min is not None and min(a, b) < self.min:
            self.fail(f"takes A:B with A and B >= {self.min}, got {value!r}", param, ctx)
        if self.ordered and a > b:
            self.fail(f"takes A:B with A <= B, got {value!r} (reversed?)", param, ctx)
        return a, b


class GradRange(_Type):
    """'LO:HI', two |grad| values 0 < LO < HI (1e-6:1) -> (log10 LO, log10 HI): the fixed
    colour scale of a picture (viz.to_dot's grad_range)."""

    name = "LO:HI"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = [p.strip() for p in str(value).split(":")]
        try:
            lo, hi = (float(p) for p in parts)
        except ValueError:
            lo = hi = math.nan
        if len(parts) != 2 or not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
            self.fail(
                f"takes two |grad| values 0 < LO < HI as LO:HI (1e-6:1), got {value!r}", param, ctx
            )
        return math.log10(lo), math.log10(hi)


class Numbers(Finite):
    """A comma-separated list of finite floats, each checked as `Finite` checks one."""

    name = "X,Y,.."

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        items = [v.strip() for v in str(value).split(",")]
        if not all(items):
            self.fail(f"takes numbers separated by commas, got {value!r}", param, ctx)
        return [super(Numbers, self).convert(v, param, ctx) for v in items]


def _folder(path):
    return os.path.dirname(os.path.abspath(path))


class InFile(_Type):
    """An existing, readable file (not a directory)."""

    name = "file"

    def convert(self, value, param, ctx):
        path = os.fspath(value)
        if not os.path.exists(path):
            self.fail(f"{path} does not exist", param, ctx)
        if os.path.isdir(path):
            self.fail(f"{path} is a directory, not a file", param, ctx)
        if not os.access(path, os.R_OK):
            self.fail(f"{path} is not readable (permission denied)", param, ctx)
        return path


class OutFile(_Type):
    """A file we will be able to write: its folder exists and is writable, it is not a
    directory, and an existing file is writable. Checked before any work starts."""

    name = "file"

    def convert(self, value, param, ctx):
        path = os.fspath(value)
        if not path or path.endswith(os.sep):
            self.fail(f"needs a file name, got {path!r}", param, ctx)
        folder = _folder(path)
        if os.path.isdir(path):
            self.fail(f"{path} is a directory, not a file", param, ctx)
        if not os.path.isdir(folder):
            self.fail(f"cannot write {path}: folder {folder} does not exist", param, ctx)
        if not os.access(folder, os.W_OK | os.X_OK):
            self.fail(f"cannot write {path}: folder {folder} is not writable", param, ctx)
        if os.path.exists(path) and not os.access(path, os.W_OK):
            self.fail(f"cannot write {path}: the file is not writable", param, ctx)
        return path


class PictureFile(OutFile):
    """An OutFile that matplotlib can draw into, judged by its suffix (none means png), so a
    figure command refuses `-o x.dot` before it computes and prints anything."""

    name = "picture"
    SUFFIXES = (".png", ".svg", ".pdf", ".svgz", ".ps", ".eps", ".jpg", ".jpeg", ".tif")
    SUFFIXES += (".tiff", ".webp", ".pgf", ".raw", ".rgba", "")

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        suffix = os.path.splitext(path)[1].lower()
        if suffix not in self.SUFFIXES:
            self.fail(
                f"cannot write {path}: '{suffix}' is not a picture format (use .png, .svg or .pdf)",
                param,
                ctx,
            )
        return path


class OutDir(_Type):
    """A directory to write into: it exists and is writable, or its parent is (made later)."""

    name = "dir"

    def convert(self, value, param, ctx):
        path = os.fspath(value)
        if os.path.exists(path) and not os.path.isdir(path):
            self.fail(f"{path} is a file, not a directory", param, ctx)
        existing = os.path.abspath(path)
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing):
            self.fail(f"cannot make {path}: {existing} is a file", param, ctx)
        if not os.access(existing, os.W_OK | os.X_OK):
            self.fail(f"cannot write into {path}: {existing} is not writable", param, ctx)
        return path


POSITIVE = Count(min=1)
NON_NEGATIVE = Count(min=0)
SEED = Count(min=0, max=2**32 - 1)
POSITIVE_NUMBER = Finite(min=0, min_open=True)


class Names(Name):
    """A comma-separated list of names, each one of `choices`: 'rnn,lstm' -> ['rnn', 'lstm']."""

    def get_metavar(self, param, ctx=None):
        return "A,B,.."

    def convert(self, value, param, ctx):
        if isinstance(value, list):
            return value
        return [super(Names, self).convert(v.strip(), param, ctx) for v in str(value).split(",")]


class Loss(_Type):
    """`last`, `all`, or a step t >= 0 (whether t < --steps is checked with the model)."""

    name = "last|all|t"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value in ("last", "all"):
            return value
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        self.fail(f"must be last, all or a step t >= 0, got {value!r}", param, ctx)


CELLS = ["rnn", "lstm", "gru"]
CELL = Name(CELLS)
ACTIVATION = Name(["tanh", "relu", "sigmoid", "linear"])
INIT = Name(["orthogonal", "random"])
LOSS = Loss()


# ----- options several commands share, declared once (cli.py stacks them) ---------------------
#
#     @main.command("render")
#     @seed_option            --seed
#     @model_options          --cell --steps --hidden ... --forget-bias --grad-range
#     @notation_option        --notation
#     @trained_options        --load --input --sample
#     def render_command(...): ...
#
# A shared option means the same everywhere (DESIGN §7).


def stack(*options):
    """One decorator applying the click `options` (decorators) as if written one above the
    other in this order: --help lists them in this order."""

    def decorate(fn):
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


# `--seed N`: every command has one, so every run can be repeated exactly
seed_option = click.option(
    "--seed", type=SEED, default=0, show_default=True, help="Random seed for everything."
)

# `--notation lecture`: draw with the lecture's symbols (s_t, U, W, V, C~_t)
notation_option = click.option(
    "--notation",
    type=Name(["pytorch", "lecture"]),
    default="pytorch",
    show_default=True,
    help="Labels in pictures: PyTorch's (h_t, weight_hh_l0) or the lecture's (s_t, U, W, V).",
)

grad_range_option = click.option(
    "--grad-range",
    type=GradRange(),
    metavar="LO:HI",
    help="Fix the colour scale to |grad| in [LO, HI], e.g. 1e-6:1, to compare pictures "
    "(outside: clamped and marked).",
)

lang_option = click.option(
    "--lang", type=Name(["en", "zh"]), default="en", show_default=True, help="en or zh."
)

# --load CKPT with --input TEXT or --sample N: a trained model on one real input, instead of
# the lecture's model (render, bptt, step)
trained_options = stack(
    click.option(
        "--load",
        type=InFile(),
        metavar="CKPT",
        help="A trained model (from train --save) instead of the lecture's model.",
    ),
    click.option(
        "--input",
        "input_text",
        metavar="TEXT",
        help="With --load: the input, text or tokens ('hello', '3 1 4 1 5', 'what time is it')",
    ),
    click.option(
        "--sample",
        type=NON_NEGATIVE,
        metavar="N",
        help="With --load: the N-th sequence of the task's seeded test set.  [default: 0]",
    ),
)

# the lecture model's options (render and step build it with lecture.build), and the colour
# scale of its pictures
model_options = stack(
    click.option("--cell", type=CELL, default="rnn", show_default=True, help="The cell."),
    click.option("--steps", type=POSITIVE, default=4, show_default=True, help="Time steps."),
    click.option("--hidden", type=POSITIVE, default=3, show_default=True, help="Hidden."),
    click.option("--input-size", type=POSITIVE, default=2, show_default=True, help="Input."),
    click.option("--layers", type=POSITIVE, default=1, show_default=True, help="Layers."),
    click.option("--bidirectional", is_flag=True, help="Run a reverse direction too."),
    click.option(
        "--activation",
        type=ACTIVATION,
        default="tanh",
        show_default=True,
        help="The plain RNN's nonlinearity: tanh, relu, sigmoid or linear.",
    ),
    click.option(
        "--radius",
        type=POSITIVE_NUMBER,
        help="Set W_hh to RADIUS x a random orthogonal matrix (its spectral norm).",
    ),
    click.option(
        "--init",
        type=INIT,
        default="orthogonal",
        show_default=True,
        help="orthogonal, or random: a Gaussian matrix scaled to spectral norm RADIUS.",
    ),
    click.option(
        "--loss",
        type=LOSS,
        default="last",
        show_default=True,
        help="last (E_{T-1}, the lecture's E_3), all (E = sum_t E_t) or a step t (E_t).",
    ),
    click.option(
        "--forget-bias",
        type=Finite(),
        metavar="B",
        help="LSTM: every forget gate's total bias (f rests near sigmoid(B)).",
    ),
    grad_range_option,
)

# --load (required), --input/--sample, -o FILE.png, --json: a view of a trained model
# (connectivity, gates)
view_options = stack(
    click.option(
        "--load",
        required=True,
        type=InFile(),
        metavar="CKPT",
        help="A trained model (from train --save).",
    ),
    click.option("--input", "input_text", metavar="TEXT", help="The input, text or tokens."),
    click.option(
        "--sample",
        type=NON_NEGATIVE,
        metavar="N",
        help="The N-th sequence of the task's seeded test set.  [default: 0]",
    ),
    click.option("-o", "--out", type=PictureFile(), metavar="FILE.png", help="Draw it."),
    click.option("--json", "as_json", is_flag=True, help="Print the numbers as JSON."),
)
