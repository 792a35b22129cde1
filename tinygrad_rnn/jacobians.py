"""Moved to `tinygrad_rnn/analysis/jacobians.py`, with the other readings of unrolled graphs.

This module keeps the old import path working; code in the project imports from there.
"""

from .analysis.jacobians import (
    DEAD,
    GAMMA,
    STABLE_BAND,
    VERDICTS,
    ScalarFactor,
    cell_path_norms,
    consumer_map,
    fit_rate,
    input_gradient,
    path_steps,
    recurrent_spectrum,
    scalar_chain,
    state_jacobians,
    step_jacobians,
    verdict,
)

__all__ = [
    "DEAD",
    "GAMMA",
    "STABLE_BAND",
    "VERDICTS",
    "ScalarFactor",
    "cell_path_norms",
    "consumer_map",
    "fit_rate",
    "input_gradient",
    "path_steps",
    "recurrent_spectrum",
    "scalar_chain",
    "state_jacobians",
    "step_jacobians",
    "verdict",
]
