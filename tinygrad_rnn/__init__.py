"""tinygrad_rnn: a glass-box reverse-mode autograd engine for recurrent networks.

from tinygrad_rnn import Tensor
a = Tensor(-4.0, requires_grad=True)
b = Tensor(2.0, requires_grad=True)
c = a * b + b**3      # -8 + 8 = 0
c.backward()          # a.grad == 2.0 (= b), b.grad == 8.0 (= a + 3 b^2)
"""

# The one place the version is written: pyproject.toml reads it (dynamic = ["version"]),
# and `tinygrad-rnn --version` prints it.
__version__ = "0.1.0"

from .anomaly import AnomalyError, detect_anomaly  # noqa: E402
from .autograd import (  # noqa: E402
    Step,
    backward_steps,
    enable_grad,
    grad,
    jacobian,
    no_grad,
    scope,
    topo_order,
)
from .composite import (  # noqa: E402
    amax,
    amin,
    argmax,
    argmin,
    bmm,
    chunk,
    cumsum,
    dot,
    flatten,
    flip,
    gather,
    index_select,
    logsumexp,
    masked_fill,
    maximum,
    minimum,
    mm,
    norm,
    permute,
    prod,
    split,
    squeeze,
    std,
    unsqueeze,
    var,
)
from .factories import ones, tensor, zeros  # noqa: E402
from .function import Function, FunctionCtx  # noqa: E402
from .gradcheck import GradcheckError, gradcheck  # noqa: E402
from .tensor import Tensor, cat, concat, stack, where  # noqa: E402

__all__ = [
    "__version__",
    "AnomalyError",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "Step",
    "Tensor",
    "backward_steps",
    "cat",
    "chunk",
    "concat",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "jacobian",
    "no_grad",
    "ones",
    "scope",
    "split",
    "stack",
    "tensor",
    "topo_order",
    "where",
    "zeros",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "bmm",
    "cumsum",
    "dot",
    "flatten",
    "flip",
    "gather",
    "index_select",
    "logsumexp",
    "masked_fill",
    "maximum",
    "minimum",
    "mm",
    "norm",
    "permute",
    "prod",
    "squeeze",
    "std",
    "unsqueeze",
    "var",
]

# The submodules DESIGN §2 names, reachable as attributes (`tinygrad_rnn.nn.LSTM`); imported
# last because they build on the names above. `bptt` is the short public path of
# analysis/bptt.py: tinygrad_rnn/bptt.py re-exports its names (the same objects).
from . import bptt, nn, optim  # noqa: E402

__all__ += ["bptt", "nn", "optim"]
