"""The optimizers' common machinery: parameter groups, option checks, per-parameter state,
and `state_dict()` / `load_state_dict()` in PyTorch's layout (numpy arrays and plain numbers
only, so a checkpoint needs no pickle). The update rules themselves are in optim.py.

An optimizer subclass declares its options once, in its constructor's signature (passed on
with `given_options(locals())`), the state fields it keeps (`_state_fields`), any extra
checks (`_check`), and its `_update(p, g, state, group)`.
"""

import inspect
import math
from collections import defaultdict

import numpy as np

from .autograd import enable_grad
from .display import param_name
from .tensor import Tensor
from .versions import changing

__all__ = ["NON_NEGATIVE", "Optimizer", "given_options"]

# the options that must be >= 0 wherever an optimizer has them (torch's checks)
NON_NEGATIVE = ("lr", "momentum", "weight_decay", "eps", "alpha", "lr_decay")
NON_NEGATIVE += ("initial_accumulator_value",)


class Optimizer:
    """Base class: parameter groups, `zero_grad()`, `state_dict()`, `load_state_dict()`.

    `params` is an iterable of Tensors, of (name, Tensor) pairs, or of dicts
    `{"params": [...], "lr": ...}` (groups whose options override the defaults), as in PyTorch.
    """

    # torch's implementation switches: the value that means "what numpy does here" is allowed
    _KERNEL_OPTIONS = {
        "foreach": (None, False),
        "fused": (None, False),
        "capturable": (False,),
        "differentiable": (False,),
    }

    def __init__(self, params, defaults):
        # betas given as a list are kept as the tuple the signature shows (as torch does)
        self.defaults = {k: tuple(v) if isinstance(v, list) else v for k, v in defaults.items()}
        self.param_groups = []
        # Tensor -> dict of arrays and numbers; a defaultdict, as torch's, so a subclass's own
        # step() can write self.state[p]["buf"] for a parameter seen the first time
        self.state = defaultdict(dict)
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        seen = set()
        for group in groups:
            self._add_group(group, seen)

    def _add_group(self, group, seen):
        if not isinstance(group, dict):
            raise TypeError(f"{type(self).__name__}: mix of parameter groups and tensors")
        members = group.get("params")
        members = [members] if isinstance(members, Tensor) else list(members or ())
        names = None
        if members and all(isinstance(m, tuple) and len(m) == 2 for m in members):
            names = [str(n) for n, _ in members]
            members = [p for _, p in members]
        for k, p in enumerate(members):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__}: parameter {k} is a {type(p).__name__}, not a Tensor"
                )
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf tensor")
            if p in seen:
                raise ValueError(
                    f"{type(self).__name__}: parameter {param_name(p, k)} appears more than once"
                )
            seen.add(p)
        unknown = set(group) - set(self.defaults) - {"params", "param_names"}
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown options {sorted(unknown)}")
        full = {**self.defaults, **group, "params": members}
        if names is not None:
            full["param_names"] = names
        self._check(full)
        self.param_groups.append(full)

    def _check(self, group):
        """Validate one group's options (raise ValueError naming the bad one): the one place
        every constructor and `load_state_dict` check hyperparameters, as torch does. Each
        option has its default's type: a number, a flag, or a tuple of numbers (betas)."""
        name = type(self).__name__
        # the types come from the constructor's own defaults (self.defaults holds the values given)
        signature = inspect.signature(type(self).__init__).parameters
        for key in self.defaults:
            default = signature[key].default if key in signature else None
            value = group[key]
            if isinstance(default, bool):
                if not isinstance(value, (bool, np.bool_)):
                    raise TypeError(f"{name}: {key} must be True or False, got {value!r}")
            elif isinstance(default, tuple):
                if not (
                    isinstance(value, (tuple, list))
                    and len(value) == len(default)
                    and all(_is_number(v) for v in value)
                ):
                    raise TypeError(f"{name}: {key} must be {len(default)} numbers, got {value!r}")
            elif _is_number(default) and not _is_number(value):
                raise TypeError(f"{name}: {key} must be a number, got {value!r}")
        for option, allowed in self._KERNEL_OPTIONS.items():
            if option in group and not any(group[option] is a for a in allowed):
                raise ValueError(
                    f"{type(self).__name__}: {option}={group[option]!r} is not supported "
                    f"(it picks one of torch's kernels; numpy has one: leave it at "
                    f"{allowed[0]!r})"
                )
        for key in self.defaults:  # in the signature's order, as torch checks them
            if key in NON_NEGATIVE and not group[key] >= 0.0:
                what = {"lr": "learning rate", "eps": "epsilon value"}.get(key, f"{key} value")
                raise ValueError(f"Invalid {what}: {group[key]} (must be >= 0)")

    def zero_grad(self, set_to_none=True):
        """Forget every gradient (set_to_none=False writes zeros into the arrays instead)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad[...] = 0

    def _grads(self, group):
        """(param, gradient, state) for the params of `group` that have a gradient."""
        for p in group["params"]:
            if p.grad is None:
                continue
            g = p.grad
            if group.get("maximize"):
                g = -g
            if group.get("weight_decay") and not group.get("decoupled_weight_decay"):
                # L2 regularisation enters through the gradient (not decoupled as in AdamW)
                g = g + group["weight_decay"] * p.data
            st = self.state.get(p)
            if st is None:
                st = self.state[p] = self._fresh_state(p, group)
            yield p, g, st

    def step(self, closure=None):
        """Update every parameter that has a gradient; `closure` (torch's optional callable
        that re-runs the model and returns the loss) is called first, its loss returned."""
        loss = None
        if closure is not None:
            if not callable(closure):
                raise TypeError(f"{type(self).__name__}.step: closure must be callable")
            with enable_grad():
                loss = closure()
        with changing(f"{type(self).__name__}.step()"):  # names it if a stale graph saved p
            for group in self.param_groups:
                for p, g, st in self._grads(group):
                    self._update(p, g, st, group)
        return loss

    def add_param_group(self, param_group):
        """Add a group `{"params": [...], option: value}` (defaults fill the other options)."""
        seen = {p for group in self.param_groups for p in group["params"]}
        self._add_group(param_group, seen)
        if self.EAGER_STATE:
            self._init_state(self.param_groups[-1])

    def _update(self, p, g, st, group):
        raise NotImplementedError

    # ----- checkpoints ---------------------------------------------------------------
    def state_dict(self):
        """PyTorch's layout, numpy arrays and plain numbers only:

        {"state": {index: {name: array or number}},
         "param_groups": [{option: value, ..., "params": [indices]}]}
        """
        index, groups = {}, []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[p] = len(index)
                ids.append(index[p])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for p, st in self.state.items():
            if st:
                state[index[p]] = {
                    k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in st.items()
                }
        return {"state": state, "param_groups": groups}

    # ----- per-parameter state ---------------------------------------------------------
    EAGER_STATE = False  # True: every parameter gets its state at construction (Adagrad)

    def _state_fields(self, group):
        """(required, allowed): the state fields of a parameter of `group`, in order; the
        required ones exist from its first step on (torch's names, so state_dicts match)."""
        return (), ()

    def _fresh_state(self, p, group):
        """A parameter's state before its first step: step 0 and zero arrays, as torch's."""
        required, _ = self._state_fields(group)
        return {f: 0 if f == "step" else np.zeros_like(p.data) for f in required}

    def _init_state(self, group):
        for p in group["params"]:
            self.state[p] = self._fresh_state(p, group)

    def load_state_dict(self, state_dict):
        """Restore options and state (PyTorch's layout), all or nothing.

        Everything is checked before anything changes: the layout, the number of groups and
        of parameters in each, each group's options (this optimizer's names only, values
        valid as the constructor checks them), and each parameter's state (this optimizer's
        fields, complete, arrays real floating point of the parameter's shape, step counts
        non-negative). Raises ValueError (TypeError for a wrong type) naming what is wrong.
        """
        name = type(self).__name__
        where = f"{name}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: expected a dict, got {type(state_dict).__name__}")
        missing = [k for k in ("state", "param_groups") if k not in state_dict]
        if missing:
            raise ValueError(f"{where}: the state dict has no {' or '.join(map(repr, missing))}")
        groups, states = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) for g in groups):
            raise TypeError(f"{where}: 'param_groups' must be a list of dicts")
        if not isinstance(states, dict):
            raise TypeError(f"{where}: 'state' must be a dict, got {type(states).__name__}")
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{where}: {len(groups)} parameter groups saved, {len(self.param_groups)} here"
            )
        params, new_groups = [], []
        for k, (saved, mine) in enumerate(zip(groups, self.param_groups)):
            ids = saved.get("params")
            if not isinstance(ids, (list, tuple)) or not all(
                isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in ids
            ):
                raise ValueError(f"{where}: group {k}'s 'params' must be a list of indices")
            if len(ids) != len(mine["params"]):
                raise ValueError(
                    f"{where}: group {k} has {len(ids)} parameters saved, "
                    f"{len(mine['params'])} here"
                )
            foreign = sorted(set(saved) - set(self.defaults) - {"params"})
            if foreign:
                raise ValueError(
                    f"{where}: group {k} has options {foreign} that {name} does not have "
                    "(state saved by another optimizer?)"
                )
            options = {
                key: tuple(v) if isinstance(v, list) else v
                for key, v in saved.items()
                if key != "params"
            }
            group = {**mine, **options}
            try:
                self._check(group)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{where}: group {k}: {exc}") from None
            new_groups.append(group)
            params.extend((int(i), p, group) for i, p in zip(ids, mine["params"]))
        by_index = {i: (p, group) for i, p, group in params}
        if len(by_index) != len(params):
            raise ValueError(f"{where}: a parameter index appears in more than one place")
        new_state = {}
        for key, st in states.items():
            try:
                p, group = by_index[int(key)]
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"{where}: state for unknown parameter {key!r}") from None
            if not isinstance(st, dict):
                raise TypeError(f"{where}: the state of parameter {key} must be a dict")
            new_state[p] = self._checked_state(where, key, p, group, st)
        for mine, group in zip(self.param_groups, new_groups):
            mine.update({k: v for k, v in group.items() if k != "params"})
        self.state = defaultdict(dict, new_state)

    def _checked_state(self, where, key, p, group, st):
        """A copy of one parameter's saved state, after checking every field."""
        required, allowed = self._state_fields(group)
        unknown = sorted(set(st) - set(allowed))
        if unknown:
            raise ValueError(
                f"{where}: parameter {key} has state {unknown}, which {type(self).__name__} "
                f"does not keep (it keeps {sorted(allowed) or 'none'})"
            )
        absent = sorted(set(required) - set(st)) if st else []
        if absent:
            raise ValueError(f"{where}: parameter {key}'s state lacks {absent}")
        restored = {}
        for field, value in st.items():
            if field == "step":
                step = float(value) if np.ndim(value) == 0 else math.nan
                if not (step >= 0 and step == int(step)):
                    raise ValueError(
                        f"{where}: parameter {key}'s step must be a whole number >= 0, "
                        f"got {value!r}"
                    )
                restored[field] = int(step)
                continue
            value = np.asarray(value)
            if value.dtype.kind != "f":
                raise TypeError(
                    f"{where}: state {field!r} of parameter {key} is {value.dtype}, "
                    "not real floating point"
                )
            if value.shape != p.shape:
                raise ValueError(
                    f"{where}: state {field!r} of parameter {key} has shape {value.shape}, "
                    f"the parameter {p.shape}"
                )
            restored[field] = np.array(value, dtype=p.data.dtype)
        return restored

    def __repr__(self):
        options = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({options})"


def given_options(arguments):
    """An optimizer's options from its constructor's `locals()`: the signature is the one
    place each default is written (and what `_check` reads each option's type from)."""
    return {k: v for k, v in arguments.items() if k not in ("self", "params", "__class__")}


def _is_number(x):
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)
