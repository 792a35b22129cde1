"""What the recurrent cells and layers accept (constructor options, inputs, initial states),
checked as PyTorch checks it, with clearer messages.

The public signatures are PyTorch's, in its order:
RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
dropout=0.0, bidirectional=False, device=None, dtype=None); LSTM and GRU without
nonlinearity, LSTM with proj_size=0 after bidirectional.
"""

import numbers
import warnings

import numpy as np

from ..tensor import Tensor
from .module import factory_dtype

# tanh and relu as PyTorch; sigmoid and linear (identity) for the lecture's experiments
NONLINEARITIES = ("tanh", "relu", "sigmoid", "linear")


def check_layer_options(
    name,
    projects,
    *,
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
    """Raise naming the first bad option; return the numpy dtype asked for (or None).

    `projects`: whether the layer has a projection (proj_size), as only the LSTM does."""
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
    if proj_size and not projects:
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
    """A public constructor's arguments (its `locals()`), passed on to the layers' base by name."""
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


def check_input(layer, x):
    """The input of a layer as a Tensor, if its shape is one the layer reads."""
    name = type(layer).__name__
    x = as_tensor(x, f"{name} input")
    if x.ndim not in (2, 3):
        raise ValueError(
            f"{name}: input must be (T, B, {layer.input_size}), (B, T, {layer.input_size}) "
            f"with batch_first, or unbatched (T, {layer.input_size}); got shape {x.shape}"
        )
    if x.shape[-1] != layer.input_size:
        raise ValueError(
            f"{name}: input has {x.shape[-1]} features (shape {x.shape}), "
            f"expected input_size={layer.input_size}"
        )
    if x.shape[-2 if x.ndim == 3 and layer.batch_first else 0] == 0:
        raise ValueError(f"{name}: the sequence is empty (shape {x.shape})")
    return x


def initial_states(layer, hx, batch, unbatched, dtype):
    """Zeros, or the given (D*L, B, H) tensors (batch_first never applies to states).

    With proj_size P, h_0 is (D*L, B, P) and c_0 stays (D*L, B, H).
    """
    name = type(layer).__name__
    rows = layer.num_layers * layer.num_directions
    widths = (layer.output_size, layer.hidden_size)[: len(layer.Cell.state_names)]
    if hx is None:
        return [np.zeros((rows, batch, w), dtype=dtype) for w in widths]
    given = state_list(hx, layer.Cell.state_names, name, "(h_0, c_0)")
    states = []
    for k, s in enumerate(given):
        s = as_tensor(s, f"{name} initial state")
        expected = (rows, widths[k]) if unbatched else (rows, batch, widths[k])
        if s.shape != expected:
            what = "proj_size" if k == 0 and layer.proj_size else "hidden_size"
            raise ValueError(
                f"{name}: {('h_0', 'c_0')[k]} has shape {s.shape}, expected {expected} "
                f"(num_layers * num_directions, batch, {what})"
            )
        states.append(s.reshape(rows, 1, widths[k]) if unbatched else s)
    return states


def as_tensor(x, what):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, float)):
        return Tensor(x)
    raise TypeError(f"{what} must be a Tensor or array, got {type(x).__name__}")


def state_list(hx, state_names, name, pair):
    """The given state(s) as a list: [h], or [h, c] for the LSTM, whose state is a pair.

    A single tensor given to an LSTM must not be iterated: that would split its first axis.
    """
    if len(state_names) == 1:
        return [hx]
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        if isinstance(hx, (tuple, list)):
            got = f"{len(hx)} tensors"
        elif hasattr(hx, "shape"):
            got = f"one tensor of shape {tuple(hx.shape)}"
        else:
            got = type(hx).__name__
        raise ValueError(f"{name}: the state of an LSTM is a pair {pair}, got {got}")
    return list(hx)
