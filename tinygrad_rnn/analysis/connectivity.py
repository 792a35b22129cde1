"""Which inputs each output depends on: C[t, k] = ||d o_t / d x_k||_F of a trained model.

Rows are output steps t, columns input steps k; for token inputs x_k is the embedded vector
the layer reads. An N-vs-1 model has one row (its single output o).

All of C comes from one backward pass: the sequence is copied into a batch of
rows x n_out rows, row b = (t, j) of the batch seeds the gradient of o_t[j] alone, and
batch rows never mix, so d x_k[b] is row j of the Jacobian d o_t / d x_k. For a
unidirectional model an output cannot depend on a later input: in C those entries are
exactly zero (the gradient of every later step is a product with zero, never computed
by differences); a bidirectional model fills both sides.
"""

import numpy as np

from ..autograd import grad
from ..tasks.base import Batch
from .trained import unroll_task

__all__ = ["MAX_WORK", "Connectivity", "connectivity"]

# batch rows x steps of the one backward pass (a 200-character text model: 200 x 200 x ~90)
MAX_WORK = 4_000_000


class Connectivity:
    """`matrix` (rows t, columns k), `inputs` (each step's token as text), `rows` (the
    output labels: o_t, or o for an N-vs-1 model), `title`; `to_dict()` is the JSON."""

    def __init__(self, matrix, inputs, rows, title):
        self.matrix, self.inputs, self.rows, self.title = matrix, inputs, rows, title

    def to_dict(self):
        return {"matrix": self.matrix.tolist(), "inputs": list(self.inputs)}


def connectivity(trained):
    """C[t, k] = ||d o_t / d x_k|| for the sequence of a `TrainedRun` (see the module)."""
    model, task = trained.run.model, trained.task
    if task.input == "class":
        raise ValueError(
            "connectivity needs an input sequence; "
            f"a model of the '{task.name}' task reads one class"
        )
    one = _one_sequence(trained)
    steps_out = len(trained.outputs)
    n_out = trained.outputs[0].shape[-1]
    copies = steps_out * n_out
    steps_in = len(trained.inputs)
    if copies * steps_in > MAX_WORK:
        longest = int((MAX_WORK / n_out) ** 0.5) if steps_out > 1 else MAX_WORK // n_out
        raise ValueError(
            f"connectivity: {steps_in} input steps x {steps_out} outputs x {n_out} classes is "
            f"more than this view computes at once; use an input of at most {longest} steps"
        )
    batch = Batch(
        np.repeat(one.x, copies, axis=1),
        None,
        None,
        None if one.y_in is None else np.repeat(one.y_in, copies, axis=1),
    )
    wide = unroll_task(model, task, batch, trained.labels, with_loss=False)
    # the rows of P: the identity, or the centring I - 11^T/n for logits (softmax ignores a
    # shift of all logits by one number, so that direction says nothing about the output)
    project = np.eye(n_out)
    if task.output == "classes":
        project = project - 1.0 / n_out
    seeds = []
    for t in range(steps_out):
        seed = np.zeros((copies, n_out), dtype=wide.outputs[t].data.dtype)
        seed[t * n_out : (t + 1) * n_out] = project
        seeds.append(seed)
    found = grad(wide.outputs, wide.inputs, grad_outputs=seeds)
    matrix = np.zeros((steps_out, len(wide.inputs)))
    for k, g in enumerate(found):
        per_row = (np.asarray(g, dtype=np.float64).reshape(copies, -1) ** 2).sum(axis=1)
        matrix[:, k] = np.sqrt(per_row.reshape(steps_out, n_out).sum(axis=1))
    rows = [o.label for o in trained.outputs]
    return Connectivity(matrix, trained.labels, rows, trained.title())


def _one_sequence(trained):
    """The (x, y_in) of the run's sequence, from its input labels' source: the run keeps it."""
    batch = trained.batch
    return Batch(np.asarray(batch.x), None, None, batch.y_in)
