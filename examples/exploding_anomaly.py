"""An exploding RNN, found by detect_anomaly:  python examples/exploding_anomaly.py

A linear RNN whose W_hh has spectral radius 3 multiplies its state by about 3 each step;
in float32 that overflows after about 80 steps. Without detection all you see is a NaN
loss and NaN gradients; with it, the first op that made an inf, at its time step.
"""

import numpy as np

from tinygrad_rnn import AnomalyError, detect_anomaly, lecture

options = dict(steps=100, hidden=4, activation="linear", radius=3.0, dtype=np.float32)
with np.errstate(all="ignore"):  # numpy's overflow warnings say nothing about where
    run = lecture.build("rnn", **options)
    run.loss.backward()
    print(
        "loss:",
        run.loss.item(),
        " |dE/dW_hh| has NaN:",
        np.isnan(run.model.weight_hh_l0.grad).any(),
    )

    try:
        with detect_anomaly():
            run = lecture.build("rnn", **options)
    except AnomalyError as err:
        print(err)
        print("node:", err.node)
        print("its input:", err.node.inputs[0])
