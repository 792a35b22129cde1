"""Saved-tensor versions: data changed under a live graph raises at backward (as torch does)."""

import numpy as np
import pytest

from tinygrad_rnn import Tensor, no_grad, optim, scope


def _leaf(value, label, requires_grad=True):
    return Tensor(np.array(value, dtype=np.float64), requires_grad=requires_grad, label=label)


def test_changing_a_saved_input_raises_naming_op_tensor_versions_and_cause():
    a, b = _leaf(1.0, "a"), _leaf(3.0, "b", requires_grad=False)
    with scope(t=2, layer=0):
        y = a * b
    b.data *= 100  # without the check, dy/da would silently be 300 instead of 3
    with pytest.raises(RuntimeError) as info:
        y.backward()
    message = str(info.value)
    for part in ("backward of mul", "t=2, layer 0", "input 1 'b'", "version 0", "version 1"):
        assert part in message, (part, message)
    assert "an assignment to .data" in message and "modified by an inplace operation" in message


def test_an_optimizer_step_bumps_versions_and_is_named():
    w, x = _leaf([0.5, -1.0], "w"), _leaf([2.0, 3.0], "x", requires_grad=False)
    loss = (w * w * x).sum()
    loss.backward()
    opt = optim.SGD([w], lr=0.1)
    opt.step()
    assert w._version == 1
    with pytest.raises(
        RuntimeError, match=r"input 0 'w' \(2,\) was saved at version 0 .*SGD\.step\(\)"
    ):
        loss.backward()
    w.grad = None
    fresh = (w * w * x).sum()  # a new forward pass saves the new version
    fresh.backward()
    np.testing.assert_allclose(w.grad, 2 * w.data * x.data)


def test_ops_that_do_not_read_their_inputs_do_not_complain_as_in_torch():
    a, b = _leaf([1.0, 2.0], "a"), _leaf([3.0, 4.0], "b")
    y = (a + b).sum() + a.reshape(2, 1).sum() + b[0]
    b.data = np.array([30.0, 40.0])
    y.backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])
    np.testing.assert_array_equal(b.grad, [2.0, 1.0])


def test_changing_a_saved_output_raises():
    a = _leaf([0.5, 1.0], "a")
    y = a.exp().named("e")
    y.data *= 2.0
    with pytest.raises(RuntimeError, match="backward of exp at 'e': its output 'e'"):
        y.sum().backward()


def test_in_place_methods_change_data_bump_versions_and_guard_grad_leaves():
    t = _leaf([1.0, 2.0, 3.0], "t", requires_grad=False)
    assert t.add_(1.0, alpha=2) is t and list(t.data) == [3.0, 4.0, 5.0]
    t.mul_(Tensor([1.0, 0.5, 2.0]))
    np.testing.assert_array_equal(t.data, [3.0, 2.0, 10.0])
    t.copy_(np.array(7.0))
    np.testing.assert_array_equal(t.data, [7.0, 7.0, 7.0])
    t.fill_(2.5).zero_()
    assert t._version == 5 and not t.data.any()
    w = _leaf([1.0], "w")
    with pytest.raises(RuntimeError, match="zero_: 'w' requires grad"):
        w.zero_()
    y = w * w
    with no_grad():
        w.add_(1.0)  # allowed, as in torch, and recorded
    with pytest.raises(RuntimeError, match=r"add_\(\) changed it"):
        y.backward()


def test_no_change_no_cost_path_leaves_gradients_exact():
    # many nodes, versions recorded but never changed: same gradients as before
    x = _leaf(np.linspace(-1, 1, 6).reshape(2, 3), "x")
    y = (x.tanh() * x).sum(dim=1).exp().sum()
    y.backward()
    t = np.tanh(x.data)
    expected = np.exp((t * x.data).sum(1, keepdims=True)) * ((1 - t**2) * x.data + t)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12)
