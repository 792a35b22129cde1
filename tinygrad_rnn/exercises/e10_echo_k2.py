"""Exercise 10: the smallest k2 that learns the echo task (answer checked by training)."""

import functools

from .base import Exercise, LearnerError, verdict

LENGTH, DELAY, SYMBOLS = 5, 2, 2
STEPS, HIDDEN, BATCH, LR = 250, 8, 32, 0.03
LEARNED = 0.75  # test token accuracy that counts as learned (chance is 1/SYMBOLS = 0.5)

TEXT_EN = f"""
The long-dependency problem (RNN的长依赖问题), made exact: the echo task asks for
y_t = x_{{t-d}}, the symbol seen d = {DELAY} steps earlier (sequences of T = {LENGTH} random
bits, the first d steps not scored; chance is 0.5).

Train it with truncated BPTT(k1 = 1, k2): after every step, the loss E_t is
backpropagated through the last k2 steps only, t-k2+1 .. t. What is the smallest k2 with
which an LSTM learns the task? Think about where E_t's source x_{{t-d}} is read, and
which steps E_t's gradient reaches.

Set `ANSWER` in your file. `check` trains two LSTMs ({STEPS} Adam steps, hidden {HIDDEN},
a few seconds): one with k2 = ANSWER, which must learn (test accuracy >= {LEARNED}), and
one with k2 = ANSWER - 1, which must not. Compare `tinygrad-rnn train --task echo --k1 K
--k2 K` and docs/results.md's echo table for the longer delay 5.
"""

TEXT_ZH = f"""
把长依赖问题（RNN的长依赖问题）做成一个精确的问题：echo 任务要求 y_t = x_{{t-d}}，即
d = {DELAY} 步之前看到的符号（序列长 T = {LENGTH}，每个元素是随机的 0/1 两种符号，前 d 步不计分；
随机猜的正确率是 0.5）。

用截断式 BPTT(k1 = 1, k2) 训练：每一步之后，损失 E_t 只沿最近的 k2 步 t-k2+1 .. t 反向
传播。LSTM 能学会这个任务的最小 k2 是多少？想一想 E_t 的来源 x_{{t-d}} 在哪一步被读入，
E_t 的梯度又能到达哪些步。

在你的文件里设置 `ANSWER`。`check` 会训练两个 LSTM（{STEPS} 步 Adam，隐藏层 {HIDDEN}，
几秒钟）：k2 = ANSWER 的必须学会（测试正确率 >= {LEARNED}），k2 = ANSWER - 1 的必须学不会。
可以对照 `tinygrad-rnn train --task echo --k1 K --k2 K` 和 docs/results.md 中延迟为 5 的
echo 表格。
"""

STARTER = '''
"""Exercise 10: the smallest k2 for echo.  Check: tinygrad-rnn exercise check 10 THIS_FILE.py"""

# TODO: the smallest k2 with which BPTT(1, k2) learns y_t = x_{t-2}
ANSWER = None
'''

SOLUTION = '''
"""Exercise 10: the smallest k2 for echo (a solution)."""

# E_t needs x_{t-2}, read at step t-2: the window t-k2+1 .. t must reach back to it,
# so t - k2 + 1 <= t - 2, k2 >= 3. With k2 = 2 the weights that should store x_{t-2}
# never receive E_t's gradient.
ANSWER = 3
'''


@functools.cache
def accuracy(k2, seed=0):
    """Test token accuracy of an LSTM trained with BPTT(1, k2) on the echo task (cached)."""
    from .. import train
    from ..tasks import EchoTask

    config = train.make_config(
        task="echo",
        length=max(LENGTH, 6),  # the default task's own minimum; replaced just below
        cell="lstm",
        hidden=HIDDEN,
        steps=STEPS,
        batch=BATCH,
        lr=LR,
        k1=1,
        k2=k2,
        eval_batch=256,
        seed=seed,
    )
    run = train.Run(config)
    # the model's vocabulary (8 symbols) covers these 2; only the data changes
    run.task = EchoTask(length=LENGTH, delay=DELAY, n_symbols=SYMBOLS)
    run.fit(STEPS)
    return float(run.evaluate())


def check(module, seed=0):
    # trained with its own fixed seed: the separation it relies on was measured there
    title = "the smallest k2 for echo"
    if not hasattr(module, "ANSWER"):
        raise LearnerError("your file does not define ANSWER")
    answer = module.ANSWER
    if answer is None:
        return verdict(10, title, ["ANSWER is None: set it to your k2 (an integer)"])
    if isinstance(answer, bool) or not isinstance(answer, int) or not 1 <= answer <= LENGTH:
        return verdict(10, title, [f"ANSWER must be an integer k2 in 1..{LENGTH}, got {answer!r}"])
    acc = accuracy(answer)
    if acc < LEARNED:
        return verdict(
            10,
            title,
            [
                f"with k2 = {answer} the LSTM reaches test accuracy {acc:.3f} after {STEPS} "
                f"steps (chance 0.5, learned >= {LEARNED}): it does not learn, so k2 must be larger"
            ],
        )
    if answer > 1:
        below = accuracy(answer - 1)
        if below >= LEARNED:
            return verdict(
                10,
                title,
                [
                    f"k2 = {answer} learns ({acc:.3f}), but so does k2 = {answer - 1} "
                    f"({below:.3f}): {answer} is not the smallest"
                ],
            )
    return verdict(10, title, [])


EXERCISE = Exercise(
    number=10,
    slug="echo_k2",
    title="the smallest k2 for echo",
    title_zh="echo 任务所需的最小 k2",
    topic="4. The long-dependency problem; truncated BPTT's k2 (RNN的长依赖问题, 截断式的BPTT)",
    teaches="a truncated gradient cannot teach a dependency longer than its window",
    teaches_zh="截断的梯度学不到比窗口更长的依赖",
    text_en=TEXT_EN,
    text_zh=TEXT_ZH,
    starter=STARTER,
    solution=SOLUTION,
    check=check,
    recurrent=True,
)
