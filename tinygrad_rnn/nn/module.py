"""Module and Parameter: PyTorch's containers, with its names and registration order."""

from collections import OrderedDict

import numpy as np

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad and that a Module registers when assigned to it."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None, label=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, label=label)


class Module:
    """Base of every layer: `parameters()`, `named_parameters()`, `state_dict()`, `__call__`.

    Assigning a Parameter or a Module to an attribute registers it, in assignment order,
    under its attribute name; nested names are dotted (`encoder.weight_ih_l0`).
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() first")
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
            if value.label is None:
                value.label = name
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name, value):
        """Register (or with None, unregister) a parameter under `name`."""
        if value is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, value)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    # ----- traversal (explicit stack: deep nesting never recurses) -----------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) of this module and every submodule, depth first."""
        stack = [(prefix, self)]
        seen = set() if memo is None else {id(m) for m in memo}
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = list(module._modules.items())
            for child_name, child in reversed(children):
                stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self, remove_duplicate=True):
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def children(self):
        return iter(self._modules.values())

    def named_children(self):
        return iter(self._modules.items())

    def add_module(self, name, module):
        """Register `module` (or None) under `name`, as `setattr` does."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(
                f"add_module: module name must be a non-empty string without '.', got {name!r}"
            )
        if module is None:
            self._modules.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, module)

    def apply(self, fn):
        """Call fn(module) on every submodule, then on this one (torch's order); returns self."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        seen = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if remove_duplicate:
                    if id(param) in seen:
                        continue
                    seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording on or off for every parameter (freeze a layer)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient (set_to_none=False writes zeros instead)."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad[...] = 0

    def train(self, mode=True):
        """Set `training` on this module and every submodule (dropout acts only in training)."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def to(self, dtype):
        """Cast every parameter to `dtype` (np.float32 or np.float64), in place."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"to: parameters must stay floating point, got {dtype}")
        for param in self.parameters():
            param.data = param.data.astype(dtype)
            param.grad = None
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    # ----- state ---------------------------------------------------------------------------
    def state_dict(self):
        """name -> numpy copy of every parameter, in registration order."""
        return OrderedDict((name, p.data.copy()) for name, p in self.named_parameters())

    def load_state_dict(self, state, strict=True):
        """Copy values in place. Accepts numpy arrays, array-likes or torch tensors.

        All or nothing: every entry is checked before any parameter changes. A value whose
        dtype is not real floating point (object, string, complex, bool, integer) raises
        TypeError naming the key and dtype; missing, unexpected (with strict) or mis-shaped
        keys raise ValueError naming every one (both shapes).
        """
        if not hasattr(state, "items"):
            raise TypeError(
                f"load_state_dict for {type(self).__name__}: expected a dict of name -> array, "
                f"got {type(state).__name__}"
            )
        own = OrderedDict(self.named_parameters())
        arrays = {}
        problems, wrong_types = [], []
        for name, value in state.items():
            if name not in own:
                if strict:
                    problems.append(f"unexpected key {name!r}")
                continue
            try:
                array = _to_numpy(value)
            except (TypeError, ValueError) as exc:
                wrong_types.append(f"{name!r} cannot be read as an array ({exc})")
                continue
            if array.dtype.kind != "f":
                wrong_types.append(
                    f"{name!r} is {array.dtype}, a parameter takes real floating-point values"
                )
                continue
            if array.shape != own[name].shape:
                problems.append(
                    f"{name!r}: shape {tuple(array.shape)} in the state dict, "
                    f"{tuple(own[name].shape)} in the model"
                )
                continue
            arrays[name] = array
        if wrong_types:
            raise TypeError(f"load_state_dict for {type(self).__name__}: " + "; ".join(wrong_types))
        if strict:
            problems.extend(f"missing key '{name}'" for name in own if name not in state)
        if problems:
            raise ValueError(f"load_state_dict for {type(self).__name__}: " + "; ".join(problems))
        for name, array in arrays.items():
            own[name].data[...] = array
        return self

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in self._modules.items():
            child_text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_text}")
        if len(lines) == 1:
            return lines[0] + ")"
        return "\n".join(lines) + "\n)"

    def extra_repr(self):
        return ""


def factory_dtype(name, device=None, dtype=None):
    """torch's `device=` and `dtype=` constructor arguments, checked: returns a numpy dtype or None.

    numpy runs on the CPU only, so `device` must be None or "cpu"; `dtype` may be a floating
    numpy dtype or its torch spelling (torch.float64, "float32").
    """
    if device is not None and str(device) != "cpu":
        raise ValueError(
            f"{name}: device={device!r} is not supported (numpy runs on the CPU only; "
            "pass device=None or 'cpu')"
        )
    if dtype is None:
        return None
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        try:
            resolved = np.dtype(str(dtype).replace("torch.", ""))
        except TypeError:
            resolved = None
    if resolved is None or resolved not in (np.float32, np.float64):
        raise TypeError(f"{name}: dtype={dtype!r} is not supported (use float32 or float64)")
    return resolved


def _to_numpy(value):
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)
