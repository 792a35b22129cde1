"""Moved to `tinygrad_rnn/tasks/language.py`, with the other task modules.

This module keeps the old import path working; code in the project imports from there.
"""

from .tasks.base import Batch, Task, per_sequence
from .tasks.language import (
    EOS,
    PAD,
    GenerateTask,
    IntentTask,
    TaggingTask,
    TextTask,
    default_text_path,
)

__all__ = [
    "Batch",
    "Task",
    "per_sequence",
    "EOS",
    "PAD",
    "GenerateTask",
    "IntentTask",
    "TaggingTask",
    "TextTask",
    "default_text_path",
]
