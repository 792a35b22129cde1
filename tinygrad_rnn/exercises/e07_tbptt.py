"""Exercise 7: truncated BPTT(k1, k2) by hand."""

import numpy as np

from .. import nn
from ..analysis import bptt
from ..autograd import scope
from ..tensor import Tensor
from .base import Exercise, call_engine, compare, require, verdict

TEXT_EN = """
Write truncated backpropagation through time, BPTT(k1, k2) (截断式的BPTT): every k1 steps,
backpropagate the losses of those k1 steps through the last k2 steps only (k2 >= k1).

    for each chunk of losses, t = a .. c-1 with a = 0, k1, 2 k1, ... and c = min(a + k1, T):
        start from the state before step c-k2 (step 0 if c-k2 < 0), detached
        run the steps c-k2 .. c-1, summing the losses E_t of the chunk, t = a .. c-1
        backward() that sum: the parameters' .grad accumulate every chunk's gradient

The lecture: k1 sets how often the weights are updated, k2 how far back the gradient
reaches; too short a k2 cannot learn long dependencies. With k1 = k2 = T it is full BPTT.
The starter does full BPTT; make it truncated. Write `truncated_bptt(cell, x, h0,
loss_at, k1, k2)` with the engine: `cell(x[t], h)` is one step (an nn.RNNCell),
`loss_at(t, h_t)` is E_t, `h.detach()` cuts the graph. Steps before each window must not
receive gradient: `check` compares with the full BPTT terms of every E_t kept only from
its window's first step on.
"""

TEXT_ZH = """
写出截断式的 BPTT(k1, k2)：每 k1 步，把这 k1 步的损失只沿最近的 k2 步反向传播（k2 >= k1）。

    对每一块损失 t = a .. c-1（a = 0, k1, 2 k1, ...，c = min(a + k1, T)）：
        从第 c-k2 步之前的状态开始（c-k2 < 0 时从第 0 步），先 detach
        运行第 c-k2 .. c-1 步，把这一块的损失 E_t（t = a .. c-1）加起来
        对这个和调用 backward()：参数的 .grad 会累加每一块的梯度

课件中：k1 决定权重更新的频率，k2 决定梯度往回传多远；k2 太短就学不到长依赖。
k1 = k2 = T 时就是完整的 BPTT。起始文件做的是完整 BPTT，请把它改成截断式的。用本引擎写
`truncated_bptt(cell, x, h0, loss_at, k1, k2)`：`cell(x[t], h)` 是一步（nn.RNNCell），
`loss_at(t, h_t)` 是 E_t，`h.detach()` 切断计算图。窗口之前的步不能得到梯度：`check`
会把结果和每个 E_t 的完整 BPTT 各项（只保留从其窗口第一步开始的项）比较。
"""

STARTER = '''
"""Exercise 7: truncated BPTT(k1, k2).  Check: tinygrad-rnn exercise check 7 THIS_FILE.py"""


def truncated_bptt(cell, x, h0, loss_at, k1, k2):
    """Accumulate the BPTT(k1, k2) gradient of sum_t E_t into the cell's parameters' .grad.

    cell(x[t], h) -> the next h;  loss_at(t, h_t) -> E_t (a scalar Tensor);
    x: (T, B, I) Tensor;  h0: (B, H) Tensor;  1 <= k1 <= k2.
    """
    T = len(x)
    # TODO: this is full BPTT (one graph, one backward); cut it into chunks of k1 steps,
    # each backpropagated through its last k2 steps only (h.detach())
    h, total = h0, None
    for t in range(T):
        h = cell(x[t], h)
        e = loss_at(t, h)
        total = e if total is None else total + e
    total.backward()
'''

SOLUTION = '''
"""Exercise 7: truncated BPTT(k1, k2) (a solution)."""


def truncated_bptt(cell, x, h0, loss_at, k1, k2):
    """Accumulate the BPTT(k1, k2) gradient of sum_t E_t into the cell's parameters' .grad.

    cell(x[t], h) -> the next h;  loss_at(t, h_t) -> E_t (a scalar Tensor);
    x: (T, B, I) Tensor;  h0: (B, H) Tensor;  1 <= k1 <= k2.
    """
    T = len(x)
    states = [h0.detach()]  # states[t] = the state before step t, cut from any graph
    for first in range(0, T, k1):  # the chunk's losses: steps first .. end - 1
        end = min(first + k1, T)
        start = max(0, end - k2)  # its graph: steps start .. end - 1
        h, total = states[start], None
        for t in range(start, end):
            h = cell(x[t], h)
            if t + 1 == len(states):
                states.append(h.detach())
            if t >= first:
                e = loss_at(t, h)
                total = e if total is None else total + e
        total.backward()
'''

T, B, I, H = 7, 2, 2, 3
CASES = ((1, 1), (2, 3), (3, 3), (2, 5), (7, 7))


def _setup(seed=7):
    nn.manual_seed(seed)
    cell = nn.RNNCell(I, H)
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=(T, B, I)), label="x")
    h0 = Tensor(rng.normal(0, 0.5, size=(B, H)), label="h_init")
    y = rng.normal(size=(T, B, H))

    def loss_at(t, h):
        return ((h - Tensor(y[t])) ** 2).mean()

    return cell, x, h0, loss_at


class _Run:
    def __init__(self, cell):
        self.cell = cell

    def named_parameters(self):
        return list(self.cell.named_parameters())


def expected_grads(k1, k2, seed=7):
    """Per parameter: sum over t of E_t's full-BPTT terms from step c(t) - k2 on, where c(t)
    is the end of t's chunk (an independent route to truncated BPTT's gradient)."""
    cell, x, h0, loss_at = _setup(seed)
    h, losses = h0, []
    for t in range(T):
        with scope(t=t):
            h = cell(x[t], h)
        losses.append(loss_at(t, h))
    total = {n: np.zeros_like(p.data) for n, p in cell.named_parameters()}
    for t, e in enumerate(losses):
        end = min((t // k1) * k1 + k1, T)
        start = max(0, end - k2)
        terms, _ = bptt.decompose(_Run(cell), e)
        for name, by_step in terms.items():
            for k, term in by_step.items():
                if k is not None and k >= start:
                    total[name] += term
    return total


def check(module, seed=0):
    fn = require(module, "truncated_bptt")
    for k1, k2 in CASES:
        expected = expected_grads(k1, k2, 7 + seed)
        cell, x, h0, loss_at = _setup(7 + seed)
        call_engine(module, "truncated_bptt", fn, cell, x, h0, loss_at, k1, k2)
        problems = []
        for name, p in cell.named_parameters():
            if p.grad is None:
                problems.append(f"BPTT(k1={k1}, k2={k2}): {name}.grad is None (no backward() ran?)")
                continue
            problems += compare(f"BPTT(k1={k1}, k2={k2}): {name}.grad", expected[name], p.grad)
        if problems:
            what = (
                "full BPTT" if k2 >= T else f"each chunk of {k1} losses through its last {k2} steps"
            )
            return verdict(
                7, "truncated BPTT", [f"for k1={k1}, k2={k2} (T={T}: {what}):"] + problems
            )
    return verdict(7, "truncated BPTT", [])


EXERCISE = Exercise(
    number=7,
    slug="tbptt",
    title="truncated BPTT",
    title_zh="截断式的 BPTT",
    topic="4. Exploding gradients: 2. truncated BPTT (截断式的BPTT, k1 and k2)",
    teaches="what k1 and k2 cut: which losses, which steps, and where the graph is detached",
    teaches_zh="k1 和 k2 截掉了什么：哪些损失、哪些步、计算图在哪里被切断",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
    recurrent=True,
)
