"""Checks of the autograd entry points' arguments (`grad`, `backward`, `backward_steps`), kept
out of autograd.py so that the walk stays short to read. Each names the call and what is wrong.
"""

from .tensor import Tensor


def paired_outputs(outputs, grad_outputs, caller):
    """(outputs, grad_outputs) as two lists of equal length: one gradient (or None) per output."""
    if isinstance(outputs, Tensor):
        return [outputs], [grad_outputs]
    if not isinstance(outputs, (list, tuple)):
        raise TypeError(f"{caller}: outputs must be a Tensor or a list of Tensors")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        raise TypeError(f"{caller}: grad_outputs must be a list, one entry per output")
    if len(grad_outputs) != len(outputs) or not outputs:
        raise ValueError(
            f"{caller}: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs "
            "(one per output; None for a scalar output)"
        )
    return list(outputs), list(grad_outputs)


def tensor_list(inputs, caller):
    """`inputs` (a Tensor or an iterable of them) as a list, or TypeError naming the first
    that is not a Tensor."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for k, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{caller}: input {k} is a {type(x).__name__}, not a Tensor")
    return inputs
