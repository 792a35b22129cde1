"""composite/ split by concept: the package still offers every name composite.py had."""

import types

import tinygrad_rnn.composite as composite

# composite.py's public names before the split (taken from the module at commit 4f4bfd8,
# minus its stray `namedtuple` import): nothing may disappear, nothing private may leak out
BEFORE_SPLIT = {
    "Size", "ValuesIndices", "amax", "amin", "argmax", "argmin", "bmm", "check_dim", "chunk",
    "clamp", "clamp_tensor", "cos", "cumsum", "dot", "eq", "expand", "expm1", "flatten", "flip",
    "gather", "ge", "getitem", "gt", "index_select", "le", "log1p", "log1p_exp", "logsumexp",
    "lt", "masked_fill", "max", "maximum", "min", "minimum", "mm", "ne", "norm", "permute",
    "power", "prod", "reciprocal", "reduction_dims", "reshape", "rsqrt", "sign", "sin", "sizes",
    "split", "square", "squeeze", "std", "t", "unsqueeze", "var",
}  # fmt: skip


def test_composite_package_reexports_exactly_the_names_composite_py_had():
    public = {
        name
        for name, value in vars(composite).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == BEFORE_SPLIT
    assert set(composite.__all__) == BEFORE_SPLIT


def test_composite_package_tensor_methods_are_the_package_functions():
    from tinygrad_rnn import Tensor

    for name in ("permute", "split", "chunk", "amax", "norm", "var", "gather", "mm", "sin"):
        assert getattr(Tensor, name) is getattr(composite, name), name
    assert Tensor.__getitem__ is composite.getitem
