"""The PyTorch operations built from primitives: no backward rule of their own to trust.

Each function takes tensors and returns a tensor made by the ops in `ops.py`, so its
gradient is whatever the chain rule makes of theirs, and its graph shows the pieces
(`std` is a `var`, then a square root). `Tensor` forwards its torch-named methods here
(`x.permute(1, 0)` is `permute(x, 1, 0)`). The functions live in one module per concept:

    checks.py       shared argument checks and constant leaves (check_dim, reduction_dims, sizes)
    compare.py      lt le gt ge eq ne: bool tensors outside the graph
    shape.py        reshape permute t squeeze unsqueeze flatten expand flip split chunk, Size
    indexing.py     getitem (torch's order of mixed indices), gather, index_select
    reductions.py   max min amax amin argmax argmin maximum minimum logsumexp prod cumsum
                    var std norm
    elementwise.py  sin cos log1p expm1 log1p_exp sign reciprocal rsqrt square power clamp
                    clamp_tensor masked_fill
    products.py     mm bmm dot

This package re-exports them all, so `from tinygrad_rnn.composite import log1p_exp` and
`composite.check_dim` keep working.
"""

from .checks import check_dim, reduction_dims, sizes
from .compare import eq, ge, gt, le, lt, ne
from .elementwise import (
    clamp,
    clamp_tensor,
    cos,
    expm1,
    log1p,
    log1p_exp,
    masked_fill,
    power,
    reciprocal,
    rsqrt,
    sign,
    sin,
    square,
)
from .indexing import gather, getitem, index_select
from .products import bmm, dot, mm
from .reductions import (
    ValuesIndices,
    amax,
    amin,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max,
    maximum,
    min,
    minimum,
    norm,
    prod,
    std,
    var,
)
from .shape import (
    Size,
    chunk,
    expand,
    flatten,
    flip,
    permute,
    reshape,
    split,
    squeeze,
    t,
    unsqueeze,
)

__all__ = [
    "Size", "ValuesIndices", "amax", "amin", "argmax", "argmin", "bmm", "check_dim", "chunk",
    "clamp", "clamp_tensor", "cos", "cumsum", "dot", "eq", "expand", "expm1", "flatten", "flip",
    "gather", "ge", "getitem", "gt", "index_select", "le", "log1p", "log1p_exp", "logsumexp",
    "lt", "masked_fill", "max", "maximum", "min", "minimum", "mm", "ne", "norm", "permute",
    "power", "prod", "reciprocal", "reduction_dims", "reshape", "rsqrt", "sign", "sin", "sizes",
    "split", "square", "squeeze", "std", "t", "unsqueeze", "var",
]  # fmt: skip
