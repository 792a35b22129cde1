"""Watching a run train: a short sample from the model as it is now (the min-char-rnn habit).

sample_line(run, seed)   'step 200: The grad of the loss fo'  (text)
                         'step 200: three -> thre, seven -> seven, ...'  (generate)
"""

import numpy as np

from ..tasks.models import continue_text

__all__ = ["SAMPLED_TASKS", "sample_line"]

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
