"""Module, Parameter, Linear, Embedding and nn.functional: PyTorch's contract, exact gradients.

Covers registration order and dotted names, zero_grad, state_dict copies, load_state_dict's
errors (every offending key, both shapes, nothing changed on error), gradchecks of the layers
and losses, parity of the losses with torch (also for logits of magnitude 1e3), and the
error messages for bad inputs.
"""

import numpy as np
import pytest

from tinygrad_rnn import Tensor, gradcheck, nn
from tinygrad_rnn.nn import functional as F

TOL = {"atol": 1e-7, "rtol": 1e-6}


class Tagger(nn.Module):
    """Embedding -> 2-layer bidirectional LSTM -> Linear, the way a torch user writes it."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(7, 3)
        self.rnn = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
        self.head = nn.Linear(8, 5)

    def forward(self, tokens):
        out, _ = self.rnn(self.embed(tokens))
        return self.head(out)


def _torch_tagger(torch):
    class TorchTagger(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(7, 3)
            self.rnn = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
            self.head = torch.nn.Linear(8, 5)

        def forward(self, tokens):
            out, _ = self.rnn(self.embed(tokens))
            return self.head(out)

    return TorchTagger().double()


# ----- Module ------------------------------------------------------------------------------


def test_named_parameters_use_dotted_names_in_registration_order():
    names = [name for name, _ in Tagger().named_parameters()]
    layer = ["weight_ih_l{}", "weight_hh_l{}", "bias_ih_l{}", "bias_hh_l{}"]
    rnn = []
    for k in range(2):
        rnn += ["rnn." + n.format(k) for n in layer]
        rnn += ["rnn." + n.format(k) + "_reverse" for n in layer]
    assert names == ["embed.weight", *rnn, "head.weight", "head.bias"]
    assert list(Tagger().parameters())[0].shape == (7, 3)


@pytest.mark.torch
def test_named_parameters_match_torch_names_and_shapes():
    torch = pytest.importorskip("torch")
    ours = [(n, p.shape) for n, p in Tagger().named_parameters()]
    theirs = [(n, tuple(p.shape)) for n, p in _torch_tagger(torch).named_parameters()]
    assert ours == theirs


@pytest.mark.torch
def test_module_loads_torch_state_dict_and_matches_its_forward_and_gradients():
    torch = pytest.importorskip("torch")
    theirs = _torch_tagger(torch)
    ours = Tagger()
    ours.load_state_dict(theirs.state_dict())
    tokens = np.array([[1, 2], [3, 3], [6, 0]])
    logits = ours(tokens)
    logits_t = theirs(torch.from_numpy(tokens))
    np.testing.assert_allclose(logits.data, logits_t.detach().numpy(), atol=1e-12, rtol=0)
    target = np.array([0, 4, 2, 2, 1, 3])
    F.cross_entropy(logits.reshape(-1, 5), target).backward()
    torch.nn.functional.cross_entropy(logits_t.reshape(-1, 5), torch.from_numpy(target)).backward()
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        expected = their_params[name].grad.numpy()
        np.testing.assert_allclose(param.grad, expected, atol=1e-12, rtol=0, err_msg=name)


def test_shared_parameter_is_listed_once():
    model = nn.Module()
    model.a = nn.Linear(2, 2)
    model.b = nn.Linear(2, 2)
    model.b.weight = model.a.weight
    names = [n for n, _ in model.named_parameters()]
    assert names == ["a.weight", "a.bias", "b.bias"]


def test_parameter_registration_follows_assignment_and_reassignment():
    model = nn.Module()
    model.second = nn.Parameter(np.zeros(2))
    model.first = nn.Parameter(np.zeros(3))
    model.second = nn.Parameter(np.ones(2))  # reassigning moves it to the end, as attributes
    assert [n for n, _ in model.named_parameters()] == ["first", "second"]
    model.first = None
    assert [n for n, _ in model.named_parameters()] == ["second"]


def test_parameter_is_a_leaf_that_requires_grad_and_gets_its_attribute_label():
    layer = nn.Linear(3, 2)
    assert layer.weight.requires_grad and layer.weight.is_leaf
    assert layer.weight.label == "weight" and layer.bias.label == "bias"


def test_zero_grad_clears_every_parameter_gradient():
    model = Tagger()
    model(np.array([[1], [2]])).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_gradients_accumulate_across_backward_calls_until_zero_grad():
    layer = nn.Linear(3, 2)
    x = Tensor(np.ones((4, 3)))
    layer(x).sum().backward()
    once = layer.weight.grad.copy()
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad, 2 * once)


def test_state_dict_holds_copies_in_registration_order():
    model = Tagger()
    state = model.state_dict()
    assert list(state) == [n for n, _ in model.named_parameters()]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    before = model.head.weight.data.copy()
    state["head.weight"][...] = 123.0  # editing the dict leaves the model alone
    np.testing.assert_array_equal(model.head.weight.data, before)
    model.head.weight.data[...] = -1.0  # and training the model leaves a saved dict alone
    assert np.all(state["head.weight"] == 123.0)


def test_load_state_dict_round_trips_and_copies_values():
    source, target = Tagger(), Tagger()
    state = source.state_dict()
    target.load_state_dict(state)
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[name])
    state["head.bias"][...] = 7.0  # the model holds its own copy
    assert not np.any(target.head.bias.data == 7.0)
    assert target.head.bias.data is not state["head.bias"]


def test_load_state_dict_keeps_the_parameter_objects():
    model = nn.Linear(2, 3)
    weight = model.weight
    model.load_state_dict({"weight": np.ones((3, 2)), "bias": np.zeros(3)})
    assert model.weight is weight and np.all(weight.data == 1.0)


def test_load_state_dict_error_names_every_missing_unexpected_and_misshaped_key():
    model = nn.LSTM(3, 4)
    before = model.state_dict()
    state = model.state_dict()
    del state["bias_hh_l0"]
    del state["bias_ih_l0"]
    state["weight_hh_l0"] = np.zeros((4, 4))
    state["weight_ih_l0"] = np.zeros((16, 5))
    state["bias_hh_l1"] = np.zeros(16)
    state["extra"] = np.zeros(1)
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    for key in ("bias_hh_l0", "bias_ih_l0", "bias_hh_l1", "extra"):
        assert f"'{key}'" in message
    assert "missing key 'bias_hh_l0'" in message and "unexpected key 'extra'" in message
    assert "'weight_hh_l0': shape (4, 4) in the state dict, (16, 4) in the model" in message
    assert "'weight_ih_l0': shape (16, 5) in the state dict, (16, 3) in the model" in message
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before), "changed on error"


def test_load_state_dict_non_strict_ignores_missing_and_unexpected_but_not_shapes():
    model = nn.Linear(2, 3)
    model.load_state_dict({"weight": np.ones((3, 2)), "other": np.zeros(2)}, strict=False)
    assert np.all(model.weight.data == 1.0)
    bias = model.bias.data.copy()
    with pytest.raises(ValueError, match=r"'bias': shape \(4,\) in the state dict, \(3,\)"):
        model.load_state_dict({"weight": np.zeros((3, 2)), "bias": np.zeros(4)}, strict=False)
    assert np.all(model.weight.data == 1.0) and np.array_equal(model.bias.data, bias)


@pytest.mark.torch
def test_load_state_dict_accepts_torch_tensors_and_torch_accepts_ours():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.GRU(3, 4, num_layers=2).double()
    ours = nn.GRU(3, 4, num_layers=2)
    ours.load_state_dict(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name], value.numpy())
    nn.manual_seed(9)
    fresh = nn.GRU(3, 4, num_layers=2)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in fresh.state_dict().items()})
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(fresh.state_dict()[name], value.numpy())


def test_to_float32_and_back_keeps_values_and_drops_grads():
    layer = nn.Linear(2, 2)
    layer(np.ones((1, 2))).sum().backward()
    layer.float()
    assert all(p.dtype == np.float32 and p.grad is None for p in layer.parameters())
    layer.double()
    assert all(p.dtype == np.float64 for p in layer.parameters())


# ----- Linear and Embedding -------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 3), (3,)])
def test_linear_gradients_match_finite_differences(bias, shape):
    nn.manual_seed(0)
    layer = nn.Linear(3, 2, bias=bias)
    x = Tensor(np.random.default_rng(0).normal(size=shape), requires_grad=True)
    params = list(layer.parameters())
    assert gradcheck(lambda x, *p: layer(x), [x, *params], **TOL)
    assert layer(x).shape == shape[:-1] + (2,)


def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    nn.manual_seed(0)
    layer = nn.Linear(16, 200)
    for param in layer.parameters():
        assert np.all(np.abs(param.data) <= 0.25) and param.data.max() > 0.24


def test_embedding_gradients_scatter_add_repeated_indices():
    nn.manual_seed(0)
    emb = nn.Embedding(5, 3)
    indices = np.array([[0, 2], [2, 2], [4, 0]])
    assert gradcheck(lambda w: emb(indices), [emb.weight], **TOL)
    emb(indices).sum().backward()
    np.testing.assert_allclose(emb.weight.grad[:, 0], [2.0, 0.0, 3.0, 0.0, 1.0])
    assert emb(indices).shape == (3, 2, 3)


@pytest.mark.torch
def test_linear_and_embedding_match_torch():
    torch = pytest.importorskip("torch")
    linear_t = torch.nn.Linear(3, 2).double()
    linear = nn.Linear(3, 2)
    linear.load_state_dict(linear_t.state_dict())
    x = np.random.default_rng(1).normal(size=(5, 3))
    np.testing.assert_allclose(linear(x).data, linear_t(torch.from_numpy(x)).detach().numpy())
    emb_t = torch.nn.Embedding(4, 2).double()
    emb = nn.Embedding(4, 2)
    emb.load_state_dict(emb_t.state_dict())
    idx = np.array([3, 0, 3])
    np.testing.assert_array_equal(emb(idx).data, emb_t(torch.from_numpy(idx)).detach().numpy())


def test_embedding_rejects_bad_indices():
    emb = nn.Embedding(5, 3)
    with pytest.raises(IndexError, match="index 5 is out of range for 5 embeddings"):
        emb(np.array([1, 5]))
    with pytest.raises(IndexError, match="index -1"):
        emb(np.array([-1]))
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(np.array([1.0]))


def test_layer_constructors_reject_bad_sizes():
    with pytest.raises(ValueError, match="in_features must be a non-negative integer"):
        nn.Linear(-1, 3)
    with pytest.raises(ValueError, match="out_features must be a non-negative integer"):
        nn.Linear(2, -1)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        nn.LSTM(3, 0)
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        nn.GRU(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        nn.RNN(3, 4, nonlinearity="gelu")


# ----- bad layer inputs ------------------------------------------------------------------------


def test_linear_rejects_wrong_feature_count_naming_shapes():
    with pytest.raises(ValueError, match=r"\(5, 2\), \(4, 3\)"):
        nn.Linear(3, 4)(Tensor(np.zeros((5, 2))))


@pytest.mark.parametrize(
    "shape,match",
    [
        ((5, 1, 2), r"input has 2 features \(shape \(5, 1, 2\)\), expected input_size=3"),
        ((5, 1, 1, 3), r"got shape \(5, 1, 1, 3\)"),
        ((3,), r"got shape \(3,\)"),
        ((0, 1, 3), r"the sequence is empty \(shape \(0, 1, 3\)\)"),
    ],
)
def test_layer_rejects_bad_input_shapes_naming_them(shape, match):
    with pytest.raises(ValueError, match=match):
        nn.GRU(3, 4)(Tensor(np.zeros(shape)))


def test_layer_rejects_bad_initial_state_naming_both_shapes():
    model = nn.RNN(3, 4, num_layers=2, batch_first=True)
    x = Tensor(np.zeros((6, 5, 3)))  # batch 6, 5 steps
    with pytest.raises(ValueError, match=r"h_0 has shape \(2, 5, 4\), expected \(2, 6, 4\)"):
        model(x, Tensor(np.zeros((2, 5, 4))))
    lstm = nn.LSTM(3, 4)
    x = Tensor(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"c_0 has shape \(1, 2, 3\), expected \(1, 2, 4\)"):
        lstm(x, (Tensor(np.zeros((1, 2, 4))), Tensor(np.zeros((1, 2, 3)))))
    with pytest.raises(ValueError, match=r"pair \(h_0, c_0\), got one tensor of shape \(1, 2, 4\)"):
        lstm(x, Tensor(np.zeros((1, 2, 4))))


def test_cell_rejects_bad_input_and_state_shapes_naming_them():
    cell = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match=r"input of shape \(2, 5\); expected \(batch, 3\)"):
        cell(Tensor(np.zeros((2, 5))))
    with pytest.raises(ValueError, match=r"h has shape \(3, 4\), expected \(2, 4\)"):
        cell(Tensor(np.zeros((2, 3))), Tensor(np.zeros((3, 4))))
    with pytest.raises(ValueError, match=r"pair \(h, c\)"):
        nn.LSTMCell(3, 4)(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4))))


# ----- functional ----------------------------------------------------------------------------


def _logits(shape=(4, 5), scale=1.0, seed=0):
    return Tensor(scale * np.random.default_rng(seed).normal(size=shape), requires_grad=True)


TARGETS = np.array([0, 4, 2, 2])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_gradients_match_finite_differences(reduction):
    x = _logits()
    assert gradcheck(lambda x: F.cross_entropy(x, TARGETS, reduction=reduction), [x], **TOL)
    assert gradcheck(
        lambda x: F.nll_loss(x.log_softmax(), TARGETS, reduction=reduction), [x], **TOL
    )
    y = Tensor(np.random.default_rng(1).normal(size=(4, 5)))
    assert gradcheck(lambda x: F.mse_loss(x, y, reduction=reduction), [x], **TOL)
    p = Tensor(np.random.default_rng(2).uniform(size=(4, 5)))
    assert gradcheck(
        lambda x: F.binary_cross_entropy_with_logits(x, p, reduction=reduction), [x], **TOL
    )


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_gradients_match_finite_differences(fn, dim):
    assert gradcheck(lambda x: fn(x, dim=dim), [_logits((3, 4))], **TOL)


def test_mse_loss_target_receives_gradient_too():
    x, y = _logits((3,)), _logits((3,), seed=1)
    assert gradcheck(lambda x, y: F.mse_loss(x, y), [x, y], **TOL)


def test_unbatched_cross_entropy_takes_a_scalar_target():
    x = _logits((5,))
    loss = F.cross_entropy(x, np.array(3))
    assert loss.shape == ()
    np.testing.assert_allclose(loss.data, -x.log_softmax().data[3])


@pytest.mark.torch
@pytest.mark.parametrize("scale", [1.0, 1e3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch_values_and_gradients(scale, reduction):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    y = np.random.default_rng(3).normal(size=(4, 5))
    p = np.random.default_rng(4).uniform(size=(4, 5))
    cases = [
        (F.cross_entropy, tf.cross_entropy, TARGETS),
        (lambda x, t, **k: F.nll_loss(x.log_softmax(), t, **k), None, TARGETS),
        (F.mse_loss, tf.mse_loss, y),
        (F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits, p),
    ]
    for ours_fn, torch_fn, target in cases:
        if torch_fn is None:
            torch_fn = lambda x, t, **k: tf.nll_loss(tf.log_softmax(x, -1), t, **k)  # noqa: E731
        x = _logits(scale=scale)
        x_t = torch.tensor(x.data, requires_grad=True)
        ours = ours_fn(x, target, reduction=reduction)
        theirs = torch_fn(x_t, torch.from_numpy(target), reduction=reduction)
        assert np.all(np.isfinite(ours.data))
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
        weights = np.random.default_rng(5).uniform(0.5, 1.5, size=ours.shape)
        (ours * Tensor(weights)).sum().backward()
        (theirs * torch.from_numpy(weights)).sum().backward()
        assert np.all(np.isfinite(x.grad))
        np.testing.assert_allclose(x.grad, x_t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_softmax_and_log_softmax_match_torch(scale):
    torch = pytest.importorskip("torch")
    x = _logits((3, 6), scale=scale)
    x_t = torch.tensor(x.data)
    for dim in (0, 1):
        np.testing.assert_allclose(
            F.softmax(x, dim=dim).data, torch.softmax(x_t, dim).numpy(), rtol=1e-12, atol=1e-300
        )
        ours = F.log_softmax(x, dim=dim).data
        assert np.all(np.isfinite(ours))
        np.testing.assert_allclose(ours, torch.log_softmax(x_t, dim).numpy(), rtol=1e-12)


def test_losses_are_finite_for_huge_logits():
    x = Tensor(np.array([[1e3, -1e3, 0.0], [-1e3, 1e3, 5e2]]), requires_grad=True)
    loss = F.cross_entropy(x, np.array([1, 0]))
    loss.backward()
    assert np.isfinite(loss.data) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(loss.data, (2e3 + 2e3) / 2)
    z = Tensor(np.array([1e3, -1e3, 1e3, -1e3]), requires_grad=True)
    bce = F.binary_cross_entropy_with_logits(z, np.array([1.0, 0.0, 0.0, 1.0]), reduction="sum")
    bce.backward()
    np.testing.assert_allclose(bce.data, 2e3)
    np.testing.assert_allclose(z.grad, [0.0, 0.0, 1.0, -1.0])


def test_losses_reject_bad_shapes_targets_and_reductions():
    x = _logits()
    with pytest.raises(ValueError, match=r"expected target size \(2, 5\) for input of shape"):
        F.cross_entropy(_logits((2, 2, 5)), np.zeros((2, 2), dtype=int))
    with pytest.raises(
        ValueError, match=r"input batch_size \(4\) to match target batch_size \(3\)"
    ):
        F.cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(IndexError, match="cross_entropy: Target 5 is out of bounds for 5 classes"):
        F.cross_entropy(x, np.array([0, 1, 5, 2]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F.nll_loss(x, np.array([0, -1, 1, 2]))
    with pytest.raises(ValueError, match="class-probability targets must have the input's shape"):
        F.cross_entropy(x, np.array([0.0, 1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="expected target dtype to be integer class indices"):
        F.nll_loss(x, np.array([0.0, 1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="unknown reduction 'avg'"):
        F.cross_entropy(x, TARGETS, reduction="avg")
    with pytest.raises(ValueError, match="unknown reduction 'total'"):
        F.mse_loss(x, x, reduction="total")
    with pytest.raises(ValueError, match=r"input shape \(4, 5\) and target shape \(4,\) do not"):
        F.mse_loss(x, np.zeros(4))
    with pytest.raises(ValueError, match=r"Target size \(\(4,\)\) must be the same as input"):
        F.binary_cross_entropy_with_logits(x, np.zeros(4))
