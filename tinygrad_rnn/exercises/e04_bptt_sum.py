"""Exercise 4: full BPTT of the lecture's 4-step RNN, dE_3/dW as the sum over k."""

import numpy as np

from .. import nn
from ..analysis import bptt
from ..autograd import scope
from ..nn import functional as F
from ..tensor import Tensor
from .base import Exercise, call, compare, verdict

TEXT_EN = """
Compute the lecture's BPTT sum for its 4-step RNN, term by term:

    s_k = tanh(U x_k + W s_{k-1} + b)        k = 0..3, s_{-1} given (not zero here)
    dE_3/dW = sum_{k=0..3} dE_3/ds_3 * ds_3/ds_k * d+s_k/dW

d+s_k/dW is the immediate partial: s_{k-1} held constant. Walking back from k = 3 with
delta_3 = dE_3/ds_3 (given):

    da_k         = delta_k * (1 - s_k^2)           (through tanh)
    term_k       = outer(da_k, s_{k-1})            (step k's share of dE_3/dW)
    delta_{k-1}  = W^T da_k                        (dE_3/ds_{k-1}: one more factor ds_k/ds_{k-1})

Return the list [term_0, term_1, term_2, term_3]. `check` compares every term with the
engine's own per-step terms (the numbers `tinygrad-rnn bptt` prints, summed into
dE_3/dW), walking back from k = 3, and names the first step whose term is wrong: a
missing step, or a factor dropped from the chain, shows up right there.
"""

TEXT_ZH = """
逐项计算课件中 4 步 RNN 的 BPTT 求和：

    s_k = tanh(U x_k + W s_{k-1} + b)        k = 0..3，s_{-1} 已给出（这里不为零）
    dE_3/dW = sum_{k=0..3} dE_3/ds_3 * ds_3/ds_k * d+s_k/dW

d+s_k/dW 是直接偏导：把 s_{k-1} 看作常量。从 k = 3 开始往回走，delta_3 = dE_3/ds_3（已给出）：

    da_k         = delta_k * (1 - s_k^2)           （经过 tanh）
    term_k       = outer(da_k, s_{k-1})            （第 k 步对 dE_3/dW 的贡献）
    delta_{k-1}  = W^T da_k                        （dE_3/ds_{k-1}：链上再乘一个 ds_k/ds_{k-1}）

返回列表 [term_0, term_1, term_2, term_3]。`check` 从 k = 3 往回，把每一项和引擎自己算出的
逐步项（即 `tinygrad-rnn bptt` 打印的、加起来等于 dE_3/dW 的那些数）比较，并指出第一个
出错的时间步：漏掉一步，或链上少乘一个因子，都会在那里显示出来。
"""

STARTER = '''
"""Exercise 4: BPTT's sum over k.  Check: tinygrad-rnn exercise check 4 THIS_FILE.py"""

import numpy as np


def bptt_terms(s_init, s, W, dE_ds3):
    """[term_0, ..., term_3]: step k's share of dE_3/dW (each the shape of W).

    s_init: s_{-1} (H,);  s: [s_0, s_1, s_2, s_3], each (H,);  W: (H, H);
    dE_ds3: dE_3/ds_3 (H,).  s_k = tanh(U x_k + W s_{k-1} + b).
    """
    terms = [np.zeros_like(W) for _ in s]
    delta = dE_ds3
    # TODO: for k = 3, 2, 1, 0: da_k, term_k, then delta for step k - 1
    return terms
'''

SOLUTION = '''
"""Exercise 4: BPTT's sum over k (a solution)."""

import numpy as np


def bptt_terms(s_init, s, W, dE_ds3):
    """[term_0, ..., term_3]: step k's share of dE_3/dW (each the shape of W).

    s_init: s_{-1} (H,);  s: [s_0, s_1, s_2, s_3], each (H,);  W: (H, H);
    dE_ds3: dE_3/ds_3 (H,).  s_k = tanh(U x_k + W s_{k-1} + b).
    """
    terms = [np.zeros_like(W) for _ in s]
    delta = dE_ds3
    for k in range(len(s) - 1, -1, -1):
        da = delta * (1.0 - s[k] * s[k])
        s_prev = s[k - 1] if k > 0 else s_init
        terms[k] = np.outer(da, s_prev)
        delta = W.T @ da
    return terms
'''

STEPS, HIDDEN, INPUT = 4, 3, 2


class _Run:
    """What bptt.decompose needs: the parameters by name."""

    def __init__(self, model, head):
        self.model, self.head = model, head

    def named_parameters(self):
        return list(self.model.named_parameters()) + list(self.head.named_parameters())


def lecture_rnn(seed=4):
    """The lecture's RNN: 4 steps, E_3 = (V s_3 + c - y_3)^2, a random non-zero s_{-1}."""
    nn.manual_seed(seed)
    model, head = nn.RNN(INPUT, HIDDEN), nn.Linear(HIDDEN, 1)
    rng = np.random.default_rng(seed)
    x = Tensor(rng.normal(size=(STEPS, 1, INPUT)), label="x")
    s_init = Tensor(rng.normal(0.0, 0.5, size=(1, 1, HIDDEN)), label="s_init")
    states = [s[0] for s in model.unroll(x, s_init).states[0][0]]
    with scope(t=STEPS - 1, role="output"):
        e3 = F.mse_loss(head(states[-1]), Tensor(rng.normal(size=(1, 1)))).named("E_3")
    return _Run(model, head), s_init, states, e3


def check(module, seed=0):
    run, s_init, states, e3 = lecture_rnn(4 + seed)
    terms, errors = bptt.decompose(run, e3)
    W = run.model.weight_hh_l0
    expected = [terms["weight_hh_l0"].get(k, np.zeros_like(W.data)) for k in range(STEPS)]
    if errors["weight_hh_l0"] > 1e-10:  # the engine's own terms must add up
        raise RuntimeError("exercise 4: the engine's BPTT terms do not sum to the gradient")
    got = call(
        module,
        "bptt_terms",
        s_init.data[0, 0].copy(),
        [s.data[0].copy() for s in states],
        W.data.copy(),
        states[-1].grad[0].copy(),
    )
    if not isinstance(got, (list, tuple)) or len(got) != STEPS:
        n = len(got) if isinstance(got, (list, tuple)) else type(got).__name__
        return verdict(
            4, "BPTT's sum", [f"bptt_terms returned {n}; expected a list of {STEPS} terms"]
        )
    problems = []
    for k in range(STEPS - 1, -1, -1):  # the order backpropagation visits them
        wrong = compare(f"term_{k} (step k={k}'s share of dE_3/dW)", expected[k], got[k])
        if wrong:
            problems = [
                f"walking back from k={STEPS - 1}, your terms first depart from the engine's "
                f"at time step k={k}"
            ] + wrong
            if got[k] is not None and not np.any(got[k]):
                problems.append(f"  term_{k} is all zeros: did your loop skip k={k}?")
            break
    if not problems:
        total = compare("the sum over k (dE_3/dW)", W.grad, sum(np.asarray(g) for g in got))
        problems += total
    return verdict(4, "BPTT's sum", problems)


EXERCISE = Exercise(
    number=4,
    slug="bptt_sum",
    title="BPTT's sum over k",
    title_zh="BPTT 的逐项求和",
    topic="3. Training an RNN: BPTT, dE_3/dW = sum_k ... (循环神经网络的训练: BPTT)",
    teaches="why dE_3/dW is a sum over every step k, and what each term is made of",
    teaches_zh="为什么 dE_3/dW 是对每一步 k 的求和，每一项由什么组成",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
    recurrent=True,
)
