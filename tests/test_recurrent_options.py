"""PyTorch's constructor order, LSTM proj_size, and dropout between stacked layers.

Torch parity of every configuration is in test_recurrent_differential.py; this file checks
what that cannot: positional arguments, the graph's labels, finite differences without
torch, dropout's statistics and train()/eval().
"""

import warnings

import numpy as np
import pytest

from tinygrad_rnn import Tensor, concat, gradcheck, nn, topo_order

TOLERANCES = {"eps": 1e-6, "atol": 1e-7, "rtol": 1e-5}


# ----- constructor order ------------------------------------------------------------------


def test_rnn_positional_arguments_follow_pytorchs_order():
    rnn = nn.RNN(1, 2, 1, "relu", False, True, 0.0, True)
    assert (rnn.nonlinearity, rnn.bias, rnn.batch_first, rnn.bidirectional) == (
        "relu",
        False,
        True,
        True,
    )
    assert "bias_ih_l0" not in dict(rnn.named_parameters())
    assert "weight_hh_l0_reverse" in dict(rnn.named_parameters())


@pytest.mark.parametrize("layer", [nn.LSTM, nn.GRU])
def test_lstm_gru_positional_arguments_follow_pytorchs_order(layer):
    model = layer(3, 4, 2, False, True, 0.25, True)
    assert (model.num_layers, model.bias, model.batch_first) == (2, False, True)
    assert (model.dropout, model.bidirectional) == (0.25, True)


def test_lstm_proj_size_is_the_eighth_positional_argument():
    assert nn.LSTM(3, 4, 1, True, False, 0.0, False, 2).proj_size == 2


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: nn.RNN(3, 4, 1, "tanh", "yes"), TypeError, "bias should be of type bool"),
        (lambda: nn.LSTM(3, 4, batch_first=1), TypeError, "batch_first should be of type bool"),
        (lambda: nn.GRU(3, 4, dropout=1.5), ValueError, "dropout should be a number in range"),
        (lambda: nn.GRU(3, 4, dropout=True), ValueError, "dropout must be a number"),
        (lambda: nn.LSTM(3, 4, proj_size=4), ValueError, "proj_size has to be smaller"),
        (lambda: nn.LSTM(3, 4, proj_size=-1), ValueError, "proj_size should be a positive"),
        (lambda: nn.LSTM(3, 4, device="cuda"), ValueError, "device='cuda' is not supported"),
        (lambda: nn.LSTM(3, 4, dtype=np.int64), TypeError, "dtype=.* is not supported"),
        (lambda: nn.Linear(3, 4, device="mps"), ValueError, "device='mps'"),
        (lambda: nn.GRUCell(3, 4, bias=None), TypeError, "bias should be of type bool"),
        (lambda: nn.LSTM(True, 4), ValueError, "input_size must be a positive integer"),
        (lambda: nn.GRU(3, 4, num_layers=True), ValueError, "num_layers must be a positive"),
        (lambda: nn.RNN(3, 4, nonlinearity=["tanh"]), ValueError, "unknown nonlinearity"),
        (lambda: nn.Linear(3, 4, bias="yes"), TypeError, "Linear: bias must be True or False"),
        (lambda: nn.Embedding(3, 4, sparse=None), TypeError, "sparse must be True or False"),
        (lambda: nn.Embedding(3, 4, norm_type="2"), TypeError, "norm_type must be a number"),
        (lambda: nn.Dropout(0.5, inplace=[]), TypeError, "inplace must be True or False"),
    ],
)
def test_bad_constructor_options_are_refused_by_name(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_gru_and_rnn_take_no_proj_size():
    with pytest.raises(TypeError):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(TypeError):
        nn.RNN(3, 4, proj_size=2)


@pytest.mark.parametrize("dtype", [np.float32, "float32", "torch.float32"])
def test_dtype_argument_casts_every_parameter(dtype):
    model = nn.LSTM(2, 3, dtype=dtype, device="cpu")
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}
    assert nn.Linear(2, 3, dtype=dtype).weight.dtype == np.float32


def test_dropout_on_a_single_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.LSTM(3, 4, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 4, num_layers=2, dropout=0.5)


# ----- proj_size ------------------------------------------------------------------------


def test_proj_size_parameters_and_shapes():
    model = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    shapes = {n: p.shape for n, p in model.named_parameters()}
    assert list(shapes)[:5] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "weight_hr_l0",
    ]
    assert shapes["weight_hh_l0"] == (20, 2)
    assert shapes["weight_hr_l0_reverse"] == (2, 5)
    assert shapes["weight_ih_l1"] == (20, 4)  # the next layer reads D * proj_size features
    out, (h_n, c_n) = model(Tensor(np.zeros((6, 4, 3))))
    assert (out.shape, h_n.shape, c_n.shape) == ((6, 4, 4), (4, 4, 2), (4, 4, 5))
    out, (h_n, c_n) = model(Tensor(np.zeros((6, 3))))
    assert (out.shape, h_n.shape, c_n.shape) == ((6, 4), (4, 2), (4, 5))
    with pytest.raises(ValueError, match=r"h_0 has shape \(4, 4, 5\).*proj_size"):
        model(Tensor(np.zeros((6, 4, 3))), (Tensor(np.zeros((4, 4, 5))),) * 2)


def test_proj_size_is_a_labelled_projection_node_in_the_graph():
    model = nn.LSTM(2, 3, proj_size=1)
    out, _ = model(Tensor(np.ones((2, 1, 2))))
    nodes = {n.label: n for n in topo_order([out])}
    h1, m1 = nodes["h_1"], nodes["m_1"]
    assert h1.op.name == "linear" and h1.inputs[0] is m1
    assert h1.inputs[1] is model.weight_hr_l0 and model.weight_hr_l0.label == "weight_hr_l0"
    assert m1.op.name == "mul" and h1.tags["t"] == 1 and h1.tags["layer"] == 0
    assert h1.shape == (1, 1) and nodes["c_1"].shape == (1, 3)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_proj_size_gradients_match_finite_differences(bidirectional):
    nn.manual_seed(3)
    model = nn.LSTM(2, 2, num_layers=2, bidirectional=bidirectional, proj_size=1)
    rng = np.random.default_rng(0)
    rows = 4 if bidirectional else 2
    x = Tensor(rng.normal(size=(2, 1, 2)), requires_grad=True)
    h0 = Tensor(rng.normal(size=(rows, 1, 1)), requires_grad=True)
    c0 = Tensor(rng.normal(size=(rows, 1, 2)), requires_grad=True)
    named = list(model.named_parameters())

    def fn(x, h0, c0, *_):
        out, (h_n, c_n) = model(x, (h0, c0))
        return concat([out.reshape(-1), h_n.reshape(-1), c_n.reshape(-1)], axis=0)

    leaves = [x, h0, c0] + [p for _, p in named]
    names = ["input", "h_0", "c_0"] + [n for n, _ in named]
    assert gradcheck(fn, leaves, names=names, **TOLERANCES)


# ----- dropout between layers --------------------------------------------------------------


def _dropout_nodes(root):
    return [n for n in topo_order([root]) if n.label == "dropout"]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_dropout_is_a_labelled_mask_on_every_layer_output_but_the_last(bidirectional):
    model = nn.GRU(2, 3, num_layers=3, dropout=0.5, bidirectional=bidirectional)
    out, h_n = model(Tensor(np.ones((4, 2, 2))))
    nodes = _dropout_nodes(out)
    assert sorted((n.tags["layer"], n.tags["t"]) for n in nodes) == [
        (layer, t) for layer in (0, 1) for t in range(4)
    ]
    width = 6 if bidirectional else 3
    for node in nodes:
        assert node.op.name == "mul" and node.shape == (2, width)
        assert node.inputs[1].label == "dropout mask"
        assert set(np.unique(node.inputs[1].data)) <= {0.0, 2.0}
    # h_n is the layers' own states, never dropped
    run = model.unroll(Tensor(np.ones((4, 2, 2))))
    assert not _dropout_nodes(run.finals[0][0])


def test_no_dropout_node_in_eval_mode_or_with_zero_p():
    model = nn.LSTM(2, 3, num_layers=2, dropout=0.5).eval()
    out, _ = model(Tensor(np.ones((3, 1, 2))))
    assert not _dropout_nodes(out)
    out, _ = nn.LSTM(2, 3, num_layers=2)(Tensor(np.ones((3, 1, 2))))
    assert not _dropout_nodes(out)


def test_eval_mode_output_equals_the_same_model_without_dropout():
    nn.manual_seed(5)
    with_dropout = nn.LSTM(2, 3, num_layers=3, dropout=0.7)
    plain = nn.LSTM(2, 3, num_layers=3)
    plain.load_state_dict(with_dropout.state_dict())
    x = Tensor(np.random.default_rng(0).normal(size=(5, 2, 2)))
    trained, _ = with_dropout(x)
    evaluated, _ = with_dropout.eval()(x)
    np.testing.assert_array_equal(evaluated.data, plain(x)[0].data)
    assert not np.allclose(trained.data, evaluated.data)


def test_layer_dropout_is_seeded_and_deterministic():
    def run(seed):
        nn.manual_seed(seed)
        model = nn.RNN(2, 8, num_layers=2, dropout=0.5)
        return model(Tensor(np.ones((6, 3, 2))))[0].data

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))


def test_layer_dropout_statistics_zero_fraction_and_preserved_mean():
    nn.manual_seed(0)
    model = nn.RNN(1, 50, num_layers=2, dropout=0.3)
    out, _ = model(Tensor(np.ones((40, 20, 1))))
    masks = np.concatenate([n.inputs[1].data.ravel() for n in _dropout_nodes(out)])
    assert masks.size == 40 * 20 * 50
    assert abs(np.mean(masks == 0) - 0.3) < 0.01  # 40,000 draws: sd 0.0023
    assert abs(masks.mean() - 1.0) < 0.02  # kept ones are scaled by 1/(1-p)
    np.testing.assert_allclose(np.unique(masks), [0.0, 1 / 0.7])


def test_dropout_gradient_flows_only_through_kept_units():
    nn.manual_seed(2)
    model = nn.RNN(1, 4, num_layers=2, dropout=0.5, nonlinearity="relu")
    x = Tensor(np.ones((1, 1, 1)), requires_grad=True)
    out, _ = model(x)
    out.sum().backward()
    (node,) = _dropout_nodes(out)
    dropped = node.inputs[1].data[0] == 0
    # layer 1's input weights see only the units that survived
    assert np.all(model.weight_ih_l1.grad[:, dropped] == 0)


def test_train_and_eval_are_recursive_and_return_the_module():
    outer = nn.Module()
    outer.rnn = nn.LSTM(2, 3, num_layers=2, dropout=0.5)
    outer.drop = nn.Dropout(0.2)
    assert outer.eval() is outer
    assert not any(m.training for m in outer.modules())
    assert outer.train() is outer and all(m.training for m in outer.modules())
    outer.train(False)
    assert not outer.rnn.training and not outer.drop.training
    tagger = nn.SequenceTagger(2, 3, 4, cell="lstm", num_layers=2)
    assert not tagger.eval().rnn.training and tagger.train().rnn.training


def test_train_refuses_a_non_boolean_mode():
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        nn.LSTM(2, 3).train("no")


def test_zero_grad_keeps_arrays_with_set_to_none_false():
    layer = nn.Linear(2, 1)
    layer(np.ones((1, 2))).sum().backward()
    grad = layer.weight.grad
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad is grad and not grad.any()
    layer.zero_grad()
    assert layer.weight.grad is None


def test_module_traversal_helpers_follow_torch():
    outer = nn.Module()
    outer.add_module("rnn", nn.GRU(2, 3))
    outer.head = nn.Linear(3, 1)
    assert [n for n, _ in outer.named_children()] == ["rnn", "head"]
    assert [n for n, _ in outer.named_parameters(recurse=False)] == []
    assert list(outer.head.parameters(recurse=False)) == [outer.head.weight, outer.head.bias]
    seen = []
    assert outer.apply(lambda m: seen.append(type(m).__name__)) is outer
    assert seen == ["Linear", "GRU", "Module"]  # children first, as torch
    outer.rnn.requires_grad_(False)
    assert not any(p.requires_grad for p in outer.rnn.parameters())
    assert outer.head.weight.requires_grad
    shared = nn.Linear(2, 2)
    outer.a, outer.b = shared, shared
    names = [n for n, _ in outer.named_parameters(remove_duplicate=False)]
    assert "a.weight" in names and "b.weight" in names
    with pytest.raises(TypeError, match="not a Module"):
        outer.add_module("x", 3)
