"""Moved to `tinygrad_rnn/analysis/breakpoints.py`, with the other readings of unrolled graphs.

This module keeps the old import path working; code in the project imports from there.
"""

from .analysis.breakpoints import (
    Breakpoint,
    base_label,
    label_matches,
    labels_hint,
    positive_int,
    resolve_label,
    stop_rule,
    unquote,
)

__all__ = [
    "Breakpoint",
    "base_label",
    "label_matches",
    "labels_hint",
    "positive_int",
    "resolve_label",
    "stop_rule",
    "unquote",
]
