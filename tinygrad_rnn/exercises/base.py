"""What every exercise shares: the record, loading a learner's file, comparing arrays.

A check never trusts the learner's code to behave: every call into it goes through
`call`, which turns any exception into a `LearnerError` whose one-line message names the
function, the exception and the line of the learner's file it came from.
"""

import importlib.util
import os
import sys
import traceback

import numpy as np

WORST = 5  # elements shown per wrong output


class LearnerError(Exception):
    """The learner's file could not be loaded or one of its functions raised; one line."""


class Result:
    """The outcome of a check: `passed`, and `lines` to print (the verdict first)."""

    def __init__(self, passed, lines):
        self.passed = bool(passed)
        self.lines = list(lines)

    def text(self):
        return "\n".join(self.lines)


class Exercise:
    """One exercise: its texts, starter and solution (file contents), and its checker.

    `check(module, seed)` returns a Result (`seed` varies the random inputs); for the
    exercises that unroll the learner's step (`draws`), `result.graphs` holds the learner's
    and the true unrolled graph, for `--picture`.
    """

    def __init__(
        self,
        number,
        slug,
        title,
        topic,
        teaches,
        text_en,
        text_zh,
        starter,
        solution,
        check,
        title_zh,
        teaches_zh,
        recurrent=False,
        draws=False,
    ):
        self.number = number
        self.slug = slug
        self.title = title
        self.title_zh = title_zh
        self.topic = topic
        self.teaches = teaches
        self.teaches_zh = teaches_zh
        self.text_en = text_en.strip("\n")
        self.text_zh = text_zh.strip("\n")
        self.starter = starter.lstrip("\n")
        self.solution = solution.lstrip("\n")
        self.check = check
        self.recurrent = recurrent
        self.draws = draws

    @property
    def filename(self):
        return f"exercise{self.number:02d}_{self.slug}.py"


def load_file(path):
    """Import the learner's file as a fresh module (it is their own code: running it is the
    point). A syntax or import error becomes one line naming the file and line."""
    if not os.path.isfile(path):
        raise LearnerError(f"{path}: no such file")
    name = f"_exercise_{abs(hash(os.path.abspath(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:  # importlib knows no loader for this suffix
        raise LearnerError(
            f"{path}: not a Python file (give the FILE.py that exercise start wrote)"
        )
    module = importlib.util.module_from_spec(spec)
    folder = os.getcwd()
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        where = f"{path}:{exc.lineno}" if exc.lineno else path
        raise LearnerError(f"{where}: SyntaxError: {exc.msg}") from None
    except (Exception, SystemExit) as exc:  # the learner's module-level code: anything goes
        raise LearnerError(
            f"{_where(exc, path)}: {_describe(exc)} (while loading the file)"
        ) from None
    finally:
        sys.modules.pop(name, None)
        os.chdir(folder)  # in case their code moved it: the paths we were given stay valid
    module.__exercise_path__ = os.path.abspath(path)
    return module


def _describe(exc):
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r}): your code called exit(); a check needs it to return"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _where(exc, path):
    """`path:line` of the deepest frame of the exception inside the learner's file."""
    target = os.path.abspath(path)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == target:
            line = frame.lineno
    return f"{path}:{line}" if line is not None else path


def learner_error(exc, module, what):
    """A LearnerError for an exception raised while running `what` from the learner's file."""
    path = getattr(module, "__exercise_path__", "your file")
    return LearnerError(f"{what} raised {_describe(exc)} ({_where(exc, os.path.relpath(path))})")


def call(module, name, *args):
    """module.name(*args), with any exception reported as a LearnerError."""
    fn = require(module, name)
    try:
        return fn(*args)
    except (Exception, SystemExit) as exc:
        raise learner_error(exc, module, name) from None


def call_engine(module, what, fn, *args):
    """fn(*args) where fn reaches into the learner's code (e.g. a backward walk through their
    Function): an exception raised in their file names its line; one raised by the engine's
    own checks (a gradient of the wrong shape) is passed on as its first line."""
    try:
        return fn(*args)
    except LearnerError:
        raise
    except (Exception, SystemExit) as exc:
        path = getattr(module, "__exercise_path__", None)
        frames = traceback.extract_tb(exc.__traceback__)
        if path and any(os.path.abspath(f.filename) == path for f in frames):
            raise learner_error(exc, module, what) from None
        raise LearnerError(
            str(exc).strip().splitlines()[0] if str(exc).strip() else _describe(exc)
        ) from None


def require(module, name):
    if not hasattr(module, name):
        raise LearnerError(f"your file does not define {name}")
    return getattr(module, name)


def tolerance(expected, atol, rtol):
    return atol + rtol * np.abs(expected)


def compare(name, expected, got, atol=1e-6, rtol=1e-4, worst=WORST):
    """[] when `got` matches `expected` elementwise, else lines saying what is wrong:
    the shape, or how many elements differ and a table of the worst (index, expected,
    got, error)."""
    expected = np.asarray(expected, dtype=np.float64)
    if got is None:
        return [f"{name} is None (not computed yet?); expected shape {expected.shape}"]
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return [f"{name} is not an array of numbers ({type(got).__name__})"]
    if got.shape != expected.shape:
        return [f"{name} has shape {got.shape}, expected {expected.shape}"]
    error = np.abs(got - expected)
    bad = ~(error <= tolerance(expected, atol, rtol))
    if not bad.any():
        return []
    count, total = int(bad.sum()), bad.size
    head = f"{name} is wrong: {count} of {total} elements differ"
    if not np.any(got):
        head += " (all zeros: not computed yet?)"
    order = np.argsort(np.where(bad, np.nan_to_num(error, nan=np.inf), -1.0), axis=None)[::-1]
    rows = [("index", "expected", "got", "error")]
    for flat in order[: min(worst, count)]:
        index = np.unravel_index(flat, expected.shape) if expected.ndim else ()
        rows.append(
            (
                str(tuple(int(i) for i in index)),
                f"{expected[index]:.6g}",
                f"{got[index]:.6g}",
                f"{error[index]:.2e}",
            )
        )
    return [head] + table(rows)


def table(rows, indent="  "):
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def verdict(number, title, problems):
    """The Result for a list of problem lines (empty: passed)."""
    if not problems:
        return Result(True, [f"exercise {number} ({title}): correct"])
    return Result(False, [f"exercise {number} ({title}): not yet"] + problems)
