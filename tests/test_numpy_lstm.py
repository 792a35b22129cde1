"""The benchmark's hand-derived numpy LSTM computes what nn.LSTM computes, to 1e-10."""

import importlib.util
import pathlib

import numpy as np

from tinygrad_rnn import Tensor, nn

PATH = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "numpy_lstm.py"


def _load():
    spec = importlib.util.spec_from_file_location("numpy_lstm", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_numpy_lstm_matches_the_engine_to_1e10():
    by_hand = _load()
    params = by_hand.init_params(5, 6, seed=1)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(7, 3, 5))
    grad_output = rng.normal(size=(7, 3, 6))
    output, grads = by_hand.forward_backward(params, x, grad_output)
    lstm = nn.LSTM(5, 6)
    lstm.load_state_dict(params)
    out, _ = lstm(Tensor(x))
    (out * Tensor(grad_output)).sum().backward()
    np.testing.assert_allclose(output, out.data, rtol=0, atol=1e-12)
    for name, param in lstm.named_parameters():
        np.testing.assert_allclose(grads[name], param.grad, rtol=0, atol=1e-10, err_msg=name)
