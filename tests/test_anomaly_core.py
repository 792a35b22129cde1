"""detect_anomaly basics: a non-finite value is reported at the op that made it."""

import numpy as np
import pytest

from tinygrad_rnn import AnomalyError, Tensor, detect_anomaly, scope


def test_anomaly_forward_log_of_zero_is_named():
    x = Tensor([1.0, 0.0], requires_grad=True)
    with pytest.raises(AnomalyError) as info, detect_anomaly(), scope(t=2):
        x.log()
    err = info.value
    assert err.phase == "forward" and err.node.op.name == "log"
    message = str(err)
    assert "forward of log" in message and "inf" in message
    assert "t=2" in message and "(2,)" in message


def test_anomaly_backward_sqrt_of_zero_is_reported_at_the_sqrt():
    x = Tensor([0.0, 4.0], requires_grad=True)
    r = x.sqrt().named("r")  # sqrt(0) = 0 is fine; its derivative 1/(2 sqrt 0) is not
    loss = (r * 2.0).sum()
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        loss.backward()
    err = info.value
    assert err.phase == "backward" and err.node is r
    assert "backward of sqrt" in str(err) and "'r'" in str(err) and "inf" in str(err)


def test_anomaly_forward_names_where_an_earlier_value_was_born():
    x = Tensor([0.0], requires_grad=True)
    y = x.log()  # outside anomaly mode: nothing checks it here
    with pytest.raises(AnomalyError) as info, detect_anomaly():
        y * 2.0
    assert info.value.node is y and "log" in str(info.value)


def test_anomaly_check_inf_false_allows_inf_but_not_nan():
    with detect_anomaly(check_inf=False):
        assert np.isinf(Tensor([0.0], requires_grad=True).log().data).all()
        with pytest.raises(AnomalyError, match="nan"):
            Tensor([-1.0], requires_grad=True).sqrt()


def test_anomaly_off_by_default_and_restored_after_an_error():
    x = Tensor([0.0], requires_grad=True)
    with pytest.raises(AnomalyError), detect_anomaly():
        x.log()
    y = x.sqrt()  # no longer checked
    y.sum().backward()
    assert np.isinf(x.grad).all()
