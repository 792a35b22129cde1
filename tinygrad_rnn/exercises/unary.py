"""Exercises 1 and 2: the backward of an elementwise activation, written as a `Function`.

The check runs the learner's Function forward and backward through the engine (as any
node), and compares its gradient with the engine's own primitive and with central finite
differences of the true function.
"""

import numpy as np

from ..autograd import grad
from ..function import Function
from ..tensor import Tensor
from .base import LearnerError, call_engine, compare, require, verdict


def sample_input(seed=0):
    """Values across the interesting range: around 0, and out where the curve is flat."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 2.0, size=(3, 4))
    x[0, :3] = (0.0, 6.0, -6.0)
    return x


def check_unary(module, number, title, class_name, engine_op, numpy_fn, seed=0):
    cls = require(module, class_name)
    if not (isinstance(cls, type) and issubclass(cls, Function)):
        raise LearnerError(f"{class_name} in your file is not a subclass of tinygrad_rnn.Function")
    x_data = sample_input(number + seed)
    v = np.random.default_rng(number + 100 + seed).uniform(0.5, 1.5, size=x_data.shape)
    x = Tensor(x_data.copy(), requires_grad=True)
    y = call_engine(module, f"{class_name}.forward", cls.apply, x)
    problems = compare(f"{class_name}.forward: y", numpy_fn(x_data), y.data)
    if problems:
        return verdict(number, title, problems)
    got = call_engine(module, f"{class_name}.backward", lambda: grad(y, [x], grad_outputs=v)[0])
    x_ref = Tensor(x_data.copy(), requires_grad=True)
    expected = grad(engine_op(x_ref), [x_ref], grad_outputs=v)[0]
    eps = 1e-6
    numeric = v * (numpy_fn(x_data + eps) - numpy_fn(x_data - eps)) / (2 * eps)
    if not np.allclose(expected, numeric, atol=1e-7, rtol=1e-5):  # the engine itself is checked
        raise RuntimeError(f"exercise {number}: the engine disagrees with finite differences")
    problems = compare(
        f"{class_name}.backward: dx (for grad_out = a fixed random v)",
        expected,
        got,
    )
    return verdict(number, title, problems)
