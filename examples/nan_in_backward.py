"""A NaN born in backward, found at its origin:  python examples/nan_in_backward.py

A penalty |h_3 - target| is 0 going forward, which is fine; its derivative 1/(2 sqrt 0) is
not. The inf becomes NaN one op later (inf * 0 in the square's rule) and then every
gradient upstream is NaN. detect_anomaly stops at the sqrt, where it was born.
"""

import numpy as np

from tinygrad_rnn import AnomalyError, detect_anomaly, lecture, scope

run = lecture.build("rnn", steps=4, hidden=3)
h_3 = run.hidden_states()[3]
with scope(t=3, role="penalty"):
    target = h_3.detach()  # a target state that, this time, h_3 already equals
    distance = ((h_3 - target) ** 2).sum().sqrt().named("|h_3 - target|")
loss = run.loss + 0.1 * distance

with np.errstate(all="ignore"):
    loss.backward()
print(
    "without detection: dE/dh_3 =",
    h_3.grad,
    " dE/dW_hh has NaN:",
    np.isnan(run.model.weight_hh_l0.grad).any(),
)
try:
    with detect_anomaly():
        loss.backward()
except AnomalyError as err:
    print(err)
