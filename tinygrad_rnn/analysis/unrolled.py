"""The unrolled model that `render`, `bptt` and `step` read: the lecture's or a trained one.

    run = unrolled.build({"cell": "lstm", "steps": 3, ...})            # lecture.build(...)
    run = unrolled.build(model, load="echo.npz", sample=3)              # a TrainedRun
    run = unrolled.build(model, load="echo.npz", given=["loss"])        # with model["loss"]

Both have `config`, `model`, `loss`, `losses`, `named_parameters()` and the states, so every
reading takes either. A trained model brings its own architecture: the lecture model's options
(`LECTURE_OPTIONS`) must not be given with it, and are refused by name.
"""

import os

from .. import lecture, limits

__all__ = ["LECTURE_OPTIONS", "build", "load_trained"]

LECTURE_OPTIONS = (
    "cell", "steps", "hidden", "input_size", "layers", "bidirectional", "activation",
    "radius", "init", "forget_bias",
)  # fmt: skip


def load_trained(load, input=None, sample=None, loss=None, given=()):
    """The `TrainedRun` of checkpoint `load` on one input (None when `load` is None).

    `input`: text or tokens, or `sample`: the N-th sequence of the task's seeded test set.
    `given`: the option names the user gave; lecture-model options among them are an error
    (ValueError naming them as --options). With "loss" in `given`, `loss` ("last", "all" or a
    step t) picks E_{T-1}, E or E_t as the run's loss; otherwise it is the training loss E.
    """
    if load is None:
        if input is not None or sample is not None:
            raise ValueError("--input and --sample choose the input of a trained model: add --load")
        return None
    if not isinstance(load, (str, bytes, os.PathLike)):
        raise TypeError(f"load must be a checkpoint path, got {type(load).__name__} {load!r}")
    clash = [f"--{n.replace('_', '-')}" for n in LECTURE_OPTIONS if n in given]
    if clash:
        raise ValueError(f"{', '.join(clash)}: lecture-model options; --load brings its own model")
    from . import bptt
    from .trained import load as load_checkpoint

    trained = load_checkpoint(load, input=input, sample=sample)
    if loss is not None and "loss" in given:
        step = int(loss) if isinstance(loss, str) and loss.isdigit() else loss
        trained.loss = bptt.loss_root(trained, step)
    return trained


def build(model, seed=0, load=None, input=None, sample=None, given=()):
    """`load_trained(load, ...)` when `load` is given, else `lecture.build(seed=seed, **model)`
    (`model`: the lecture's options, with "loss"), after `limits.check_lecture(model)`."""
    trained = load_trained(load, input, sample, model.get("loss"), given)
    if trained is None:
        limits.check_lecture(model)  # too large to build: limits.TooLarge, with the numbers
    return trained or lecture.build(seed=seed, **model)
