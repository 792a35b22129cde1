"""Checkpoints as plain `.npz` files: parameters, optimizer state and the run's config.

Layout (every entry an array; nothing is pickled, so loading runs no code):

    param/<name>          each parameter, named as `model.named_parameters()` names it
    optim/<index>/<what>  each optimizer state array (exp_avg, momentum_buffer, ...)
    meta                  JSON text: format, version, config, step, parameter names,
                          optimizer groups and the state's plain numbers (step counts)

Writes are atomic: the file is written next to its destination under a temporary name
(with the mode the umask gives a new file), flushed to disk, then renamed over the
destination (`files.write_atomic`), so a crash or a full disk leaves the previous checkpoint whole
and no temporary file behind. Weights or optimizer state that are not finite are never
written: a diverged run cannot overwrite a good checkpoint. Loading checks everything
(every field, dtype, shape and number) before it changes anything, and raises
`CheckpointError` with one line saying what does not fit.
"""

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .files import write_atomic

FORMAT = "tinygrad_rnn checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that does not fit the model it is loaded into."""


def _not_finite(arrays):
    """The names of the arrays holding a NaN or an infinity."""
    return [name for name, a in arrays.items() if not np.all(np.isfinite(a))]


def save_checkpoint(path, model, optimizer, config, step, extra=None):
    """Write model, optimizer and config to `path` atomically; returns the Path.

    Raises CheckpointError (and leaves `path` as it was) when a weight or an optimizer
    state array is not finite.
    """
    path = Path(path)
    arrays = {f"param/{name}": p.data for name, p in model.named_parameters()}
    optim_state = optimizer.state_dict()
    numbers = {}
    for index, state in optim_state["state"].items():
        for field, value in state.items():
            if isinstance(value, np.ndarray):
                arrays[f"optim/{index}/{field}"] = value
            else:
                numbers.setdefault(str(index), {})[field] = value
    bad = _not_finite(arrays)
    if bad:
        names = ", ".join(name.replace("param/", "") for name in bad[:4])
        more = f" and {len(bad) - 4} more" if len(bad) > 4 else ""
        raise CheckpointError(
            f"not writing {path}: the run diverged, {names}{more} "
            "hold NaN or inf (the file was left as it was)"
        )
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": config,
        "step": int(step),
        "params": [name for name, _ in model.named_parameters()],
        "optimizer": {
            "type": type(optimizer).__name__,
            "param_groups": optim_state["param_groups"],
            "numbers": numbers,
        },
        "extra": extra or {},
    }
    arrays["meta"] = np.array(json.dumps(meta))
    buffer = io.BytesIO()  # a file object, not a name: np.savez would append ".npz" to a name
    np.savez(buffer, **arrays)
    write_atomic(path, buffer.getvalue(), fsync=True)
    return path


class Checkpoint:
    """What `load_checkpoint` read: `config`, `step`, `params` (name -> array), `optimizer`
    (a state dict for `Optimizer.load_state_dict`), `optimizer_type`, `extra`."""

    def __init__(self, path, config, step, params, optimizer, optimizer_type, extra):
        self.path, self.config, self.step, self.params = path, config, step, params
        self.optimizer, self.optimizer_type, self.extra = optimizer, optimizer_type, extra


def load_checkpoint(path):
    """Read and check a checkpoint file (allow_pickle=False); raise CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        if not zipfile.is_zipfile(path):
            # np.load reads a non-archive as a pickle and suggests allow_pickle: never here
            reason = "not an .npz archive; checkpoints never load pickled data"
        else:
            reason = str(exc)
        raise CheckpointError(f"{path} is not a readable checkpoint ({reason})") from None
    if "meta" not in arrays:
        raise CheckpointError(f"{path} is an .npz file but not a tinygrad_rnn checkpoint")
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except ValueError as exc:
        raise CheckpointError(f"{path}: its metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a tinygrad_rnn checkpoint")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {meta.get('version')}, this code reads {VERSION}"
        )
    _check_meta(path, meta)
    params = {}
    for name in meta["params"]:
        key = f"param/{name}"
        if key not in arrays:
            raise CheckpointError(f"{path}: parameter '{name}' is listed but missing")
        params[name] = _real_float(path, key, arrays.pop(key))
    state = {}
    for key, value in arrays.items():
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "optim" or not parts[1].isdigit():
            raise CheckpointError(f"{path}: unexpected entry '{key}'")
        state.setdefault(int(parts[1]), {})[parts[2]] = _real_float(path, key, value)
    for index, fields in meta["optimizer"]["numbers"].items():
        if not str(index).isdigit() or not isinstance(fields, dict):
            raise CheckpointError(f"{path}: optimizer numbers for '{index}' are malformed")
        state.setdefault(int(index), {}).update(fields)
    optimizer = {"state": state, "param_groups": meta["optimizer"]["param_groups"]}
    return Checkpoint(
        path,
        meta["config"],
        meta["step"],
        params,
        optimizer,
        meta["optimizer"]["type"],
        meta.get("extra", {}),
    )


def _real_float(path, key, array):
    """`array` if it is a finite real floating-point array, else CheckpointError."""
    if array.dtype.kind != "f":
        raise CheckpointError(f"{path}: '{key}' is {array.dtype}, not a real floating-point array")
    if not np.all(np.isfinite(array)):
        raise CheckpointError(f"{path}: '{key}' holds NaN or inf")
    return array


# field -> (type, what it must be) for the metadata's top level and its optimizer part
_META = {"config": dict, "step": int, "params": list, "optimizer": dict, "extra": dict}
_OPTIMIZER = {"type": str, "param_groups": list, "numbers": dict}


def _check_meta(path, meta):
    """Every field `load_checkpoint` reads exists and has the right type, or CheckpointError."""
    for fields, where in ((_META, meta), (_OPTIMIZER, meta.get("optimizer"))):
        if not isinstance(where, dict):
            break
        for field, kind in fields.items():
            if field == "extra" and field not in where:
                continue
            if field not in where:
                raise CheckpointError(f"{path}: its metadata has no '{field}' field")
            value = where[field]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise CheckpointError(
                    f"{path}: metadata field '{field}' should be a {kind.__name__}, "
                    f"got {type(value).__name__}"
                )
    if meta["step"] < 0:
        raise CheckpointError(f"{path}: step must be >= 0, got {meta['step']}")
    if not all(isinstance(name, str) for name in meta["params"]):
        raise CheckpointError(f"{path}: parameter names must be strings")
    if not all(isinstance(g, dict) for g in meta["optimizer"]["param_groups"]):
        raise CheckpointError(f"{path}: optimizer parameter groups must be objects")


def restore(checkpoint, model, optimizer=None):
    """Copy a checkpoint into `model` (and `optimizer`), after checking that all of it fits.

    Every mismatch (missing, unexpected, mis-shaped or mis-typed parameter, another
    optimizer type, optimizer state of the wrong shape) raises CheckpointError, and then
    neither the model nor the optimizer has been changed.
    """
    where = checkpoint.path
    own = dict(model.named_parameters())
    problems = [f"missing parameter '{n}'" for n in own if n not in checkpoint.params]
    for name, array in checkpoint.params.items():
        if name not in own:
            problems.append(f"unexpected parameter '{name}'")
        elif array.shape != own[name].shape:
            problems.append(
                f"'{name}' has shape {array.shape} in the checkpoint, "
                f"{own[name].shape} in the model"
            )
        elif array.dtype != own[name].data.dtype:
            problems.append(
                f"'{name}' is {array.dtype} in the checkpoint, {own[name].data.dtype} in the model"
            )
    if optimizer is not None and checkpoint.optimizer_type != type(optimizer).__name__:
        problems.append(
            f"optimizer state is for {checkpoint.optimizer_type}, not {type(optimizer).__name__}"
        )
    if problems:
        raise CheckpointError(f"{where} does not fit the model: " + "; ".join(problems))
    if optimizer is not None:
        # Optimizer.load_state_dict checks every entry before it assigns anything
        try:
            optimizer.load_state_dict(checkpoint.optimizer)
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{where}: optimizer state does not fit ({exc})") from None
    for name, array in checkpoint.params.items():
        own[name].data[...] = array
