"""Exercises: learners write the backward pass themselves; a check says exactly where it is
wrong (the output, the worst elements, the gate, the time step).

`EXERCISES` is the table, in the lecture's order; each module holds one exercise's texts
(English and Chinese), starter file, solution file and checker. `check(n, path)` loads
the learner's file (their own code: importing it is the point) and returns a `Result`.
"""

import os

from ..files import write_atomic
from . import (
    e01_tanh,
    e02_sigmoid,
    e03_rnn_step,
    e04_bptt_sum,
    e05_jacobian_column,
    e06_clip,
    e07_tbptt,
    e08_lstm_step,
    e09_gru_step,
    e10_echo_k2,
    e11_dead_relu,
)
from .base import Exercise, LearnerError, Result, load_file

# in the lecture's order: activations, the RNN step, BPTT, vanishing/exploding, clipping,
# truncation, LSTM, GRU, long dependencies, ReLU
EXERCISES = [
    e01_tanh.EXERCISE,
    e02_sigmoid.EXERCISE,
    e03_rnn_step.EXERCISE,
    e04_bptt_sum.EXERCISE,
    e05_jacobian_column.EXERCISE,
    e06_clip.EXERCISE,
    e07_tbptt.EXERCISE,
    e08_lstm_step.EXERCISE,
    e09_gru_step.EXERCISE,
    e10_echo_k2.EXERCISE,
    e11_dead_relu.EXERCISE,
]


def get(number):
    """The exercise numbered `number` (1-based), or a ValueError listing the range."""
    for exercise in EXERCISES:
        if exercise.number == number:
            return exercise
    raise ValueError(
        f"no exercise {number}: choose 1..{len(EXERCISES)} (tinygrad-rnn exercise list)"
    )


def picture_problem(number, picture):
    """Why `check --picture PICTURE` cannot draw for exercise `number` (a sentence), or None:
    the picture is svg or png, and only exercises with an unrolled graph draw one."""
    if not str(picture).lower().endswith((".svg", ".png")):
        return f"draws svg or png: give FILE.svg or FILE.png, got {picture}"
    if not get(number).draws:
        drawn = ", ".join(str(x.number) for x in EXERCISES if x.draws)
        return f"exercise {number} has no unrolled graph to draw (exercises {drawn} have)"
    return None


def check(number, path, seed=0):
    """Run exercise `number`'s check on the learner's file at `path`; a Result.

    A file that does not load, or code that raises, gives a failed Result whose lines say
    where (file:line), never a traceback.
    """
    exercise = get(number)
    try:
        module = load_file(path)
        return exercise.check(module, seed)
    except LearnerError as exc:
        return Result(False, [f"exercise {number} ({exercise.title}): not yet", str(exc)])


def write_file(number, path=None, force=False, solution=False):
    """Write exercise `number`'s starter (or solution) to `path` (default: its own file name
    in the current folder); refuse to overwrite an existing file unless `force`. Atomic: a
    temporary file beside it, then a rename. Returns the path."""
    exercise = get(number)
    path = path or exercise.filename
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory; give a file name like {exercise.filename}")
    if os.path.exists(path) and not force:
        raise FileExistsError(
            f"{path} exists; use --force to overwrite it (your work would be lost)"
        )
    text = exercise.solution if solution else exercise.starter
    return write_atomic(path, text)


__all__ = [
    "EXERCISES",
    "Exercise",
    "LearnerError",
    "Result",
    "check",
    "get",
    "load_file",
    "picture_problem",
    "write_file",
]
