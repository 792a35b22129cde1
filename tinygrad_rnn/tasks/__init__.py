"""Every task by name: `make_task("adding", length=50)`, or `TASKS` for the names.

    base.py       Batch and the Task interface (shapes, metric, baseline, config)
    synthetic.py  adding, adding1997, copy, reverse, echo, sine (numbers and symbols)
    language.py   intent, tagging, generate, text (words and characters)
    models.py     the model each task shape trains (`build_model`), text sampling

The table of shapes, inputs, outputs and baselines is in `synthetic.py`'s docstring.
"""

import inspect

from .base import Batch, Task
from .language import GenerateTask, IntentTask, TaggingTask, TextTask
from .synthetic import (
    GO,
    AddingProblem,
    CopyTask,
    EarlyAddingProblem,
    EchoTask,
    ReverseTask,
    SineTask,
)

__all__ = [
    "GO",
    "TASKS",
    "AddingProblem",
    "Batch",
    "CopyTask",
    "EarlyAddingProblem",
    "EchoTask",
    "GenerateTask",
    "IntentTask",
    "ReverseTask",
    "SineTask",
    "TaggingTask",
    "Task",
    "TextTask",
    "make_task",
]

TASKS = {
    "adding": AddingProblem,
    "adding1997": EarlyAddingProblem,
    "copy": CopyTask,
    "reverse": ReverseTask,
    "echo": EchoTask,
    "intent": IntentTask,
    "tagging": TaggingTask,
    "generate": GenerateTask,
    "sine": SineTask,
    "text": TextTask,
}


def make_task(name, **options):
    """Build a task by name; options left as None take the task's defaults."""
    if name not in TASKS:
        raise ValueError(f"unknown task '{name}' (choose from {', '.join(TASKS)})")
    options = {k: v for k, v in options.items() if v is not None}
    accepted = inspect.signature(TASKS[name]).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        takes = ", ".join(accepted) or "no options"
        raise ValueError(f"task '{name}' does not take {', '.join(unknown)} (it takes: {takes})")
    return TASKS[name](**options)
