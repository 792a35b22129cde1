"""F.linear with broadcast biases and zero features, Embedding's options, and dropout."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_rnn import Tensor, gradcheck, nn, topo_order

F = nn.functional
TOLERANCES = {"eps": 1e-6, "atol": 1e-7, "rtol": 1e-5}


def _leaf(rng, shape):
    return Tensor(np.asarray(rng.normal(size=shape)), requires_grad=True)


@st.composite
def linear_cases(draw):
    batch = draw(st.lists(st.integers(0, 3), min_size=0, max_size=2))
    n_in, n_out = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    bias = draw(st.sampled_from([None, "full", "one", "scalar"]))
    return batch, n_in, n_out, bias, draw(st.integers(0, 2**16))


def _bias_shape(kind, n_out):
    return {"full": (n_out,), "one": (1,), "scalar": ()}[kind]


def _build(case):
    batch, n_in, n_out, bias, seed = case
    rng = np.random.default_rng(seed)
    x, w = _leaf(rng, (*batch, n_in)), _leaf(rng, (n_out, n_in))
    b = None if bias is None else _leaf(rng, _bias_shape(bias, n_out))
    return x, w, b


@settings(max_examples=60, deadline=None)
@given(linear_cases())
def test_linear_with_broadcast_or_missing_bias_matches_finite_differences(case):
    x, w, b = _build(case)
    y = F.linear(x, w, b)
    assert y.shape == (*x.shape[:-1], w.shape[0])
    expected = x.data @ w.data.T + (0.0 if b is None else b.data)
    np.testing.assert_allclose(y.data, expected, atol=1e-12)
    leaves = [x, w] + ([b] if b is not None else [])
    if y.size:
        fn = (lambda x, w, b: F.linear(x, w, b)) if b is not None else F.linear
        assert gradcheck(fn, leaves, **TOLERANCES)
    y.backward(np.ones(y.shape))
    for leaf in leaves:
        assert leaf.grad.shape == leaf.shape


def test_linear_with_zero_input_features_returns_the_bias():
    x = Tensor(np.zeros((2, 5, 0)), requires_grad=True)
    w = Tensor(np.zeros((3, 0)), requires_grad=True)
    b = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = F.linear(x, w, b)
    np.testing.assert_array_equal(y.data, np.broadcast_to(b.data, (2, 5, 3)))
    y.sum().backward()
    np.testing.assert_array_equal(b.grad, [10.0, 10.0, 10.0])
    assert x.grad.shape == (2, 5, 0) and w.grad.shape == (3, 0)
    layer = nn.Linear(0, 3)
    np.testing.assert_array_equal(layer(np.zeros((4, 0))).data, np.zeros((4, 3)))


def test_linear_refuses_a_bias_that_does_not_broadcast():
    with pytest.raises(ValueError, match=r"bias of shape \(2,\) does not broadcast"):
        F.linear(Tensor(np.ones((4, 3))), Tensor(np.ones((5, 3))), Tensor(np.ones(2)))


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(linear_cases())
def test_linear_matches_torch(case):
    torch = pytest.importorskip("torch")
    x, w, b = _build(case)
    y = F.linear(x, w, b)
    xt, wt = (torch.from_numpy(t.data.copy()).requires_grad_() for t in (x, w))
    bt = None if b is None else torch.from_numpy(b.data.copy()).requires_grad_()
    yt = torch.nn.functional.linear(xt, wt, bt)
    g = np.random.default_rng(1).normal(size=y.shape)
    y.backward(g)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y.data, yt.detach().numpy(), atol=1e-12)
    pairs = [(x, xt), (w, wt)] + ([(b, bt)] if b is not None else [])
    for ours, theirs in pairs:
        assert ours.grad.shape == tuple(theirs.grad.shape)
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), atol=1e-12)


# ----- Embedding ------------------------------------------------------------------------


@pytest.mark.parametrize("padding_idx", [1, -1])
def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient(padding_idx):
    emb = nn.Embedding(4, 3, padding_idx=padding_idx)
    row = padding_idx % 4
    assert emb.padding_idx == row
    np.testing.assert_array_equal(emb.weight.data[row], 0.0)
    emb.weight.data[row] = 7.0  # a padding row the user changed is returned as it is
    idx = np.array([[0, row], [row, 2]])
    out = emb(idx)
    np.testing.assert_array_equal(out.data[0, 1], 7.0)
    (out * out).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[row], 0.0)
    np.testing.assert_allclose(emb.weight.grad[0], 2 * emb.weight.data[0])
    assert any(n.label == "padding_idx" for n in topo_order([out]))


@pytest.mark.torch
def test_embedding_options_match_torch():
    torch = pytest.importorskip("torch")
    weight = np.random.default_rng(0).normal(size=(6, 3)) * 3
    idx = np.array([[1, 2, 2], [5, 0, 1]])
    for kwargs in ({"padding_idx": 2}, {"max_norm": 1.0}, {"max_norm": 2.0, "norm_type": 1.0}):
        ours = nn.Embedding(6, 3, _weight=weight, **kwargs)
        theirs = torch.nn.Embedding(6, 3, _weight=torch.from_numpy(weight.copy()), **kwargs)
        out, out_t = ours(idx), theirs(torch.from_numpy(idx))
        g = np.random.default_rng(1).normal(size=out.shape)
        out.backward(g)
        out_t.backward(torch.from_numpy(g))
        np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), atol=1e-12)


def test_embedding_from_pretrained_is_frozen_by_default():
    emb = nn.Embedding.from_pretrained(np.eye(3))
    assert not emb.weight.requires_grad
    assert nn.Embedding.from_pretrained(np.eye(3), freeze=False).weight.requires_grad
    np.testing.assert_array_equal(emb(np.array([2])).data, [[0.0, 0.0, 1.0]])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"padding_idx": 4}, "padding_idx must be within num_embeddings"),
        ({"padding_idx": -5}, "padding_idx must be within num_embeddings"),
        ({"sparse": True}, "sparse=True is not supported"),
        ({"scale_grad_by_freq": True}, "scale_grad_by_freq=True is not supported"),
        ({"_weight": np.zeros((3, 3))}, r"_weight has shape \(3, 3\)"),
        ({"device": "cuda:0"}, "device='cuda:0' is not supported"),
    ],
)
def test_embedding_refuses_what_it_cannot_do(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.Embedding(4, 3, **kwargs)


# ----- dropout --------------------------------------------------------------------------


def test_functional_dropout_statistics_and_seeding():
    nn.manual_seed(0)
    x = Tensor(np.ones((200, 100)), requires_grad=True)
    y = F.dropout(x, p=0.25)
    assert abs(np.mean(y.data == 0) - 0.25) < 0.01
    assert abs(y.data.mean() - 1.0) < 0.02
    np.testing.assert_allclose(np.unique(y.data), [0.0, 1 / 0.75])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)  # d(x * m)/dx = m
    nn.manual_seed(0)
    np.testing.assert_array_equal(F.dropout(x, p=0.25).data, y.data)


def test_dropout_edge_probabilities_and_eval():
    x = Tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    np.testing.assert_array_equal(F.dropout(x, p=1.0).data, 0.0)
    assert F.dropout(x, p=0.0) is x
    assert F.dropout(x, p=0.9, training=False) is x
    layer = nn.Dropout(0.5)
    assert layer(x) is not x and layer.eval()(x) is x
    assert repr(layer) == "Dropout(p=0.5, inplace=False)"


@pytest.mark.parametrize("p", [-0.1, 1.5, True, "0.5"])
def test_dropout_refuses_bad_probabilities(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(Tensor(np.ones(3)), p)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout(p)


def test_dropout_refuses_inplace():
    with pytest.raises(ValueError, match="inplace=True is not supported"):
        F.dropout(Tensor(np.ones(3)), 0.5, inplace=True)


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(
    num=st.integers(1, 5),
    dim=st.integers(1, 3),
    shape=st.lists(st.integers(0, 3), max_size=2).map(tuple),
    padding=st.booleans(),
    max_norm=st.sampled_from([None, 0.5, 2.0]),
    norm_type=st.sampled_from([1.0, 2.0, 3.0]),
    seed=st.integers(0, 2**16),
)
def test_embedding_configurations_match_torch(num, dim, shape, padding, max_norm, norm_type, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    weight = rng.normal(size=(num, dim)) * 2
    padding_idx = int(rng.integers(-num, num)) if padding else None
    kwargs = {"padding_idx": padding_idx, "max_norm": max_norm, "norm_type": norm_type}
    ours = nn.Embedding(num, dim, _weight=weight.copy(), **kwargs)
    theirs = torch.nn.Embedding(num, dim, _weight=torch.from_numpy(weight.copy()), **kwargs)
    idx = rng.integers(0, num, size=shape)
    out, out_t = ours(idx), theirs(torch.from_numpy(idx))
    g = rng.normal(size=out.shape)
    out.backward(g)
    out_t.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), atol=1e-12)
    expected = np.zeros((num, dim)) if theirs.weight.grad is None else theirs.weight.grad.numpy()
    got = np.zeros((num, dim)) if ours.weight.grad is None else ours.weight.grad
    np.testing.assert_allclose(got, expected, atol=1e-12)
