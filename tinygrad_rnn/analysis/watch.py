"""Watching a run train, and what a trained model generates.

sample_line(run, seed)   'step 200: The grad of the loss fo'  (text)
                         'step 200: three -> thre, seven -> seven, ...'  (generate)
start_text(run)          what is trained how, in one line (`tinygrad-rnn train` starts with it)
Progress(run, log)       every step's record: counted, logged as JSON lines, lines to print
interrupt_between_steps  Ctrl-C finishes the step under way (the weights stay consistent)
generated_text(run)      `tinygrad-rnn sample`: streamed text, or each class's sequence
"""

import contextlib
import itertools
import json
import math
import signal
import threading
import time

import numpy as np

from ..tasks.models import continue_text, stream_text

__all__ = [
    "SAMPLED_TASKS",
    "Progress",
    "check_samplable",
    "generated_text",
    "interrupt_between_steps",
    "json_number",
    "sample_line",
    "start_text",
]

SAMPLED_TASKS = ("text", "generate")


def check_samplable(task):
    """ValueError unless the task makes something to read (`--sample-every`)."""
    if task.name not in SAMPLED_TASKS:
        raise ValueError(
            f"--sample-every prints generated text: it applies to the text and generate tasks, "
            f"not to '{task.name}'"
        )


def sample_line(run, seed=0, length=60, temperature=1.0):
    """One line: the step, then `length` characters sampled from a text model (primed with
    the text's first character), or each class's greedy spelling from a generate model."""
    task, model = run.task, run.model
    check_samplable(task)
    rng = np.random.default_rng([int(seed), run.step])
    if task.name == "text":
        prime = task.decode(task.data[:1])
        text = prime + continue_text(model, task, prime, length, temperature, rng)
        return f"step {run.step}: {text!r}"
    ids = np.arange(len(task.words))
    tokens = model.sample(ids, task.length, 0.0, rng)
    spelled = ", ".join(f"{w} -> {task.decode(tokens[:, k])}" for k, w in enumerate(task.words))
    return f"step {run.step}: {spelled}"


# ----- a training run as it goes (`tinygrad-rnn train`) -------------------------------------


def start_text(run, resumed_from=None):
    """What a run is, in one line (task, model, optimizer, truncation, batch, dtype, seed),
    and where it resumes when `resumed_from` (a checkpoint path) is given."""
    config, task = run.config, run.task
    truncation = "full BPTT" if config["k1"] is None else f"BPTT({config['k1']}, {config['k2']})"
    line = (
        f"{task.name} ({task.shape}, {task.metric}): {config['cell']} hidden {config['hidden']} "
        f"x{config['layers']}{' bidirectional' if config['bidirectional'] else ''}, "
        f"{config['optim']} lr {config['lr']:g}, clip {config['clip'] or '-'}, {truncation}, "
        f"batch {config['batch']}, {config['dtype']}, seed {config['seed']}"
    )
    if resumed_from is None:
        return line
    return f"{line}\nresuming {resumed_from} at step {run.step} of {config['steps']}"


def json_number(x):
    """A JSON-safe value: non-finite numbers (a diverged step) become None (null)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return x  # flags and names ("metric") as they are
    return x if math.isfinite(x) else None


class Progress:
    """A training run as it goes: every step's record kept and counted, written to `log` as
    one JSON line (appended when `append`: a resumed run), and the lines to print.

        with Progress(run, "run.jsonl", sample_every=100) as progress:
            run.fit(on_step=lambda record: print(*progress.add(record), sep="\\n"))
        print(*progress.summary(), sep="\\n")

    The log is opened at the first finished step and line-buffered: every finished step's
    line is on disk, even after a crash or Ctrl-C. `sample_every` N prints `sample_line`
    every N steps (text and generate tasks: ValueError for the others, at once).
    """

    def __init__(self, run, log=None, append=False, sample_every=None):
        if sample_every is not None:
            if isinstance(sample_every, bool) or not isinstance(sample_every, (int, np.integer)):
                raise TypeError(f"sample_every must be an integer, got {sample_every!r}")
            if sample_every < 1:
                raise ValueError(f"--sample-every must be >= 1, got {sample_every}")
            check_samplable(run.task)
        self.run, self.log, self.append, self.sample_every = run, log, append, sample_every
        self.records, self.clipped, self.todo = [], 0, max(0, run.config["steps"] - run.step)
        self._file, self._start, self.seconds = None, None, 0.0

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        if self._file:
            self._file.close()

    def add(self, record):
        """Keep, count and log one step's record; the lines to print for it (its evaluation
        against the baseline, a sample), usually none."""
        run, task = self.run, self.run.task
        self.records.append(record)
        self.clipped += record["clipped"]
        if self.log and self._file is None:  # opened at the first finished step: a run
            # refused before it (bad options, a model truncation cannot read) writes nothing
            self._file = open(self.log, "a" if self.append else "w", encoding="utf-8", buffering=1)
        if self._file:
            self._file.write(json.dumps({k: json_number(v) for k, v in record.items()}) + "\n")
        lines = []
        if "eval" in record:
            lines.append(
                f"step {record['step']}: test {task.metric} {record['eval']:.4g} "
                f"(baseline {task.baseline:.4g})"
            )
        every = self.sample_every
        if every and record["step"] % every == 0 and not run.diverged:
            lines.append(sample_line(run, run.config["seed"]))
        return lines

    def bar_text(self, record):
        """The progress bar's text after a step: loss, gradient norm, steps clipped so far."""
        if record is None:
            return ""
        return (
            f"loss {record['loss']:.4g}  |grad| {record['grad_norm']:.3g}  clipped {self.clipped}"
        )

    def interrupted(self, save=None):
        """After Ctrl-C: save the weights of the last completed step to `save` (if given) and
        say so."""
        where = f"interrupted after step {self.run.step}"
        if not save:
            return f"{where}: nothing saved (no --save)"
        self.run.save(save)
        return f"{where}: saved {save} (step {self.run.step})"

    def summary(self):
        """The lines after training: steps, time per step, clipped, last loss; divergence."""
        records = self.records
        per_step = 1000 * self.seconds / len(records) if records else 0.0
        lines = [
            f"{len(records)} steps in {self.seconds:.1f} s ({per_step:.1f} ms/step), "
            f"{self.clipped} clipped; last loss {records[-1]['loss']:.4g}"
            if records
            else "nothing to do: the run has already taken --steps steps"
        ]
        if self.run.diverged is not None:
            lines.append(
                f"diverged at step {self.run.diverged}: the loss or the gradient norm is not "
                "finite (the update was not applied; try --clip 1.0 or a smaller --lr)"
            )
        return lines


@contextlib.contextmanager
def interrupt_between_steps():
    """Ctrl-C during training finishes the step under way, then stops (the list it yields
    becomes non-empty: check it after each step); a second Ctrl-C stops at once
    (KeyboardInterrupt). Outside the main thread, signals are left alone."""
    interrupted = []
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return

    def handler(signum, frame):
        if interrupted:
            raise KeyboardInterrupt
        interrupted.append(signum)

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


# ----- generating from a checkpoint (`tinygrad-rnn sample`) -----------------------------------


def generated_text(run, seed=0, length=200, prime=None, temperature=None, classes=(), name=None):
    """Pieces of text to print one after another (no newlines added) for what `run` (a
    loaded `Run`) generates: for a text model `prime` (default: the text's first line) and
    `length` sampled characters, streamed in chunks of 64 (temperature 1 by default); for a
    generate model, 'class -> spelling' per class name in `classes` (default: all; greedy by
    default). Every check runs before the first piece; `name` names the checkpoint in errors.
    """
    task, model, rng = run.task, run.model, np.random.default_rng(seed)
    if task.name == "text":
        if prime is None:
            text = task.decode(task.data[:200])
            prime = text.split("\n")[0] or text[:1]
        temperature = 1.0 if temperature is None else temperature
        chars = stream_text(model, task, prime, length, temperature, rng)
        return _streamed(prime, chars)
    if task.name != "generate":
        raise ValueError(
            f"{name or 'the checkpoint'} is a model of the '{task.name}' task: "
            "sample needs a 'text' "
            "(character) model or a 'generate' (1-vs-N) model"
        )
    names = list(classes) or task.words
    unknown = [c for c in names if c not in task.words]
    if unknown:
        raise ValueError(f"unknown class {unknown[0]!r} (classes: {', '.join(task.words)})")
    ids = np.array([task.words.index(c) for c in names])
    temperature = 0.0 if temperature is None else temperature
    tokens = model.sample(ids, task.length, temperature, rng)
    return iter([f"{c} -> {task.decode(tokens[:, k])}\n" for k, c in enumerate(names)])


def _streamed(prime, chars):
    yield prime
    # chunks of 64 characters: a long sample never sits in memory
    yield from iter(lambda: "".join(itertools.islice(chars, 64)), "")
    yield "\n"
