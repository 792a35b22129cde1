"""Moved to `tinygrad_rnn/tasks/models.py`, with the other task modules.

This module keeps the old import path working; code in the project imports from there.
"""

from .tasks.models import (
    Classifier,
    Generator,
    Tagger,
    Translator,
    build_model,
    continue_text,
    pick,
    state_after,
    stream_text,
)

__all__ = [
    "Classifier",
    "Generator",
    "Tagger",
    "Translator",
    "build_model",
    "continue_text",
    "pick",
    "state_after",
    "stream_text",
]
