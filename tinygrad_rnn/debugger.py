"""Moved to `tinygrad_rnn/analysis/debugger.py`, with the other readings of unrolled graphs.

This module keeps the old import path working; code in the project imports from there.
"""

from .analysis.debugger import (
    HELP,
    Breakpoint,
    Session,
    SessionError,
    break_at,
    command_lines,
    execute_lines,
    interact,
    node_name,
    typed_lines,
)

__all__ = [
    "HELP",
    "Breakpoint",
    "Session",
    "SessionError",
    "break_at",
    "command_lines",
    "interact",
    "node_name",
    "execute_lines",
    "typed_lines",
]
