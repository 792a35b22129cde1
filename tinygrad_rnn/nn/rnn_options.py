"""What the recurrent constructors accept, checked as PyTorch checks it (with clearer messages).

The public signatures are PyTorch's, in its order:
RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
dropout=0.0, bidirectional=False, device=None, dtype=None); LSTM and GRU without
nonlinearity, LSTM with proj_size=0 after bidirectional.
"""

import numbers
import warnings

import numpy as np

from .module import factory_dtype

# tanh and relu as PyTorch; sigmoid and linear (identity) for the lecture's experiments
NONLINEARITIES = ("tanh", "relu", "sigmoid", "linear")


def check_layer_options(
    name,
    cell,
    input_size,
    hidden_size,
    num_layers,
    nonlinearity,
    bias,
    batch_first,
    dropout,
    bidirectional,
    proj_size,
    device,
    dtype,
):
    """Raise naming the first bad option; return the numpy dtype asked for (or None)."""
    dtype = factory_dtype(name, device, dtype)
    check_sizes(name, input_size, hidden_size)
    if (
        isinstance(num_layers, bool)
        or not isinstance(num_layers, (int, np.integer))
        or num_layers < 1
    ):
        raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
    check_nonlinearity(name, nonlinearity)
    check_bool(name, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
        raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
    if not 0.0 <= dropout <= 1.0:
        raise ValueError(
            f"{name}: dropout should be a number in range [0, 1] representing the "
            f"probability of an element being zeroed, got {dropout}"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            f"{name}: dropout adds dropout after all but the last recurrent layer, so "
            f"dropout={dropout} does nothing with num_layers=1",
            stacklevel=4,
        )
    if not isinstance(proj_size, (int, np.integer)) or isinstance(proj_size, bool):
        raise ValueError(f"{name}: proj_size must be an integer, got {proj_size!r}")
    if proj_size < 0:
        raise ValueError(
            f"{name}: proj_size should be a positive integer or zero to disable "
            f"projections, got {proj_size}"
        )
    if proj_size and cell != "lstm":
        raise ValueError(f"{name}: proj_size argument is only supported for LSTM")
    if proj_size >= hidden_size:
        raise ValueError(
            f"{name}: proj_size has to be smaller than hidden_size, got "
            f"proj_size={proj_size}, hidden_size={hidden_size}"
        )
    return dtype


def check_sizes(name, input_size, hidden_size):
    for what, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name}: {what} must be a positive integer, got {value!r:.40}")


def options(arguments):
    """A public constructor's arguments (its `locals()`), passed on to _RNNBase by name."""
    return {k: v for k, v in arguments.items() if k not in ("self", "__class__")}


def check_bool(name, **flags):
    for what, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name}: {what} should be of type bool, got {value!r}")


def check_nonlinearity(name, nonlinearity):
    if not isinstance(nonlinearity, str) or nonlinearity not in NONLINEARITIES:
        raise ValueError(
            f"{name}: unknown nonlinearity '{nonlinearity}' "
            f"(choose from {', '.join(NONLINEARITIES)})"
        )
