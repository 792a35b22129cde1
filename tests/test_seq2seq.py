"""The lecture's four shapes: SequenceTagger, SequenceClassifier, SequenceGenerator, Seq2Seq.

Shapes of every output, gradchecks through every part (encoder and decoder too), the
source reversal (exactly the source tokens, padding left in place), padding that leaves
the encoder's state alone, greedy decoding consistent with teacher forcing, and tags.
"""

import numpy as np
import pytest

from tinygrad_rnn import Tensor, gradcheck, nn, topo_order
from tinygrad_rnn.nn.seq2seq import reverse_tokens

TOL = {"atol": 1e-6, "rtol": 1e-5}
CELLS = ["rnn", "lstm", "gru"]


def _ints(shape, high, low=0, seed=0):
    return np.random.default_rng(seed).integers(low, high, size=shape)


def _check_all(module, inputs, fn):
    """gradcheck `fn` with respect to `inputs` and every parameter, named by PyTorch names."""
    named = list(module.named_parameters())
    leaves = list(inputs) + [p for _, p in named]
    names = [f"input {k}" for k in range(len(inputs))] + [n for n, _ in named]
    assert gradcheck(lambda *a: fn(*a[: len(inputs)]), leaves, names=names, **TOL)


def _h(state):
    return state[0] if isinstance(state, tuple) else state


# ----- Seq2Seq ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
def test_seq2seq_gradients_match_finite_differences_through_encoder_and_decoder(cell):
    nn.manual_seed(0)
    model = nn.Seq2Seq(4, 5, 3, cell=cell, num_layers=2, embedding_dim=2, reverse_source=True)
    src, tgt_in = _ints((3, 2), 4), _ints((3, 2), 5, seed=1)
    _check_all(model, [], lambda: model(src, tgt_in))
    model(src, tgt_in).sum().backward()
    for name, param in model.named_parameters():  # the gradient reaches every part
        assert param.grad is not None and np.abs(param.grad).sum() > 0, name


def test_seq2seq_gradients_match_finite_differences_with_padding():
    nn.manual_seed(1)
    model = nn.Seq2Seq(5, 4, 3, cell="lstm", embedding_dim=2, pad=0, reverse_source=True)
    src = np.array([[1, 2], [3, 0], [4, 0]])  # column 1 is one token long
    _check_all(model, [], lambda: model(src, _ints((2, 2), 4)))


def test_seq2seq_parameters_have_dotted_pytorch_names():
    model = nn.Seq2Seq(6, 7, 4, cell="gru", embedding_dim=3)
    shapes = dict((n, p.shape) for n, p in model.named_parameters())
    assert list(shapes) == [
        "encoder.embedding.weight",
        "encoder.rnn.weight_ih_l0",
        "encoder.rnn.weight_hh_l0",
        "encoder.rnn.bias_ih_l0",
        "encoder.rnn.bias_hh_l0",
        "decoder.embedding.weight",
        "decoder.rnn.weight_ih_l0",
        "decoder.rnn.weight_hh_l0",
        "decoder.rnn.bias_ih_l0",
        "decoder.rnn.bias_hh_l0",
        "decoder.head.weight",
        "decoder.head.bias",
    ]
    assert shapes["encoder.embedding.weight"] == (6, 3)
    assert shapes["encoder.rnn.weight_ih_l0"] == (12, 3)
    assert shapes["decoder.head.weight"] == (7, 4)


@pytest.mark.parametrize("batch_first", [False, True])
def test_seq2seq_output_and_greedy_shapes(batch_first):
    model = nn.Seq2Seq(6, 7, 4, num_layers=2, batch_first=batch_first)
    src, tgt_in = _ints((5, 3), 6), _ints((4, 3), 7)
    if batch_first:
        src, tgt_in = src.T, tgt_in.T
    logits = model(src, tgt_in)
    assert logits.shape == ((3, 4, 7) if batch_first else (4, 3, 7))
    tokens, greedy_logits = model.greedy(src, 6, return_logits=True)
    assert tokens.shape == ((3, 6) if batch_first else (6, 3))
    assert tokens.dtype == np.int64 and np.all((tokens >= 0) & (tokens < 7))
    assert greedy_logits.shape == ((3, 6, 7) if batch_first else (6, 3, 7))
    np.testing.assert_array_equal(tokens, greedy_logits.argmax(axis=-1))
    np.testing.assert_array_equal(model.greedy(src, 6), tokens)


@pytest.mark.parametrize("cell", CELLS)
def test_seq2seq_greedy_equals_teacher_forcing_on_its_own_tokens(cell):
    nn.manual_seed(2)
    model = nn.Seq2Seq(6, 7, 5, cell=cell, num_layers=2, bos=3)
    src = _ints((4, 3), 6)
    tokens, logits = model.greedy(src, 5, return_logits=True)
    tgt_in = np.concatenate([np.full((1, 3), 3), tokens[:-1]])
    np.testing.assert_allclose(model(src, tgt_in).data, logits, rtol=0, atol=1e-13)


def test_reverse_tokens_reverses_exactly_the_non_pad_tokens():
    src = np.array([[1, 5, 0], [2, 6, 7], [3, 0, 8], [4, 0, 9]])
    np.testing.assert_array_equal(reverse_tokens(src), src[::-1])
    got = reverse_tokens(src, pad=0)
    # right padding stays at the end, left padding at the start
    np.testing.assert_array_equal(got, [[4, 6, 0], [3, 5, 9], [2, 0, 8], [1, 0, 7]])
    np.testing.assert_array_equal(reverse_tokens(got, pad=0), src)  # an involution
    np.testing.assert_array_equal(src[0], [1, 5, 0])  # the input is not modified


def test_seq2seq_reverse_source_feeds_the_encoder_the_reversed_source():
    nn.manual_seed(3)
    forward = nn.Seq2Seq(6, 5, 4, pad=0)
    nn.manual_seed(3)
    reverse = nn.Seq2Seq(6, 5, 4, pad=0, reverse_source=True)
    src = np.array([[1, 2], [3, 4], [5, 0]])
    expected = np.array([[5, 4], [3, 2], [1, 0]])
    np.testing.assert_array_equal(reverse.source(src), expected)
    np.testing.assert_array_equal(forward.source(src), src)
    for a, b in zip(reverse.encode(src), forward.encode(expected)):
        np.testing.assert_array_equal(_h(a).data, _h(b).data)
    # and the embedded tokens the encoder read, step by step, are the reversed ones
    logits = reverse(src, np.array([[0, 0]]))
    read = {
        n.tags["t"]: n.data
        for n in topo_order([logits])
        if n.tags.get("role") == "encoder" and n.label == f"x_{n.tags['t']}"
    }
    weight = reverse.encoder.embedding.weight.data
    for t in range(3):
        np.testing.assert_array_equal(read[t], weight[expected[t]])


@pytest.mark.parametrize("cell", CELLS)
def test_seq2seq_padding_leaves_the_encoder_state_after_the_last_token(cell):
    nn.manual_seed(4)
    model = nn.Seq2Seq(6, 5, 4, cell=cell, num_layers=2, pad=0)
    padded = np.array([[1, 2], [3, 4], [5, 0], [2, 0]])
    together = model.encode(padded)
    alone = model.encode(padded[:2, 1:])  # column 1 without its padding
    for layer in range(2):
        states = together[layer] if cell == "lstm" else (together[layer],)
        single = alone[layer] if cell == "lstm" else (alone[layer],)
        for s, one in zip(states, single):
            np.testing.assert_allclose(s.data[1], one.data[0], rtol=0, atol=1e-15)


def test_seq2seq_encoder_steps_equal_the_layer_forward():
    """The encoder steps the layer's own parameters; stepping equals the (torch-checked) layer."""
    nn.manual_seed(5)
    model = nn.Seq2Seq(6, 5, 4, cell="lstm", num_layers=2)
    src = _ints((5, 3), 6)
    states = model.encode(src)
    _, (h_n, c_n) = model.encoder.rnn(model.encoder.embedding(src))
    for layer, (h, c) in enumerate(states):
        np.testing.assert_allclose(h.data, h_n.data[layer], rtol=0, atol=1e-14)
        np.testing.assert_allclose(c.data, c_n.data[layer], rtol=0, atol=1e-14)


def test_seq2seq_steps_are_tagged_by_role_time_layer_and_labelled():
    model = nn.Seq2Seq(6, 5, 4, cell="lstm", num_layers=2)
    logits = model(_ints((3, 2), 6), _ints((4, 2), 5))
    steps = [n for n in topo_order([logits]) if "t" in n.tags]
    roles = {n.tags["role"] for n in steps}
    assert roles == {"encoder", "decoder"}
    for node in steps:
        assert node.tags["layer"] in (0, 1) and node.tags["cell"] == "lstm", node.tags
        assert node.tags["direction"] == "forward"
    labels = {(n.tags["role"], n.tags["t"], n.tags["layer"], n.label) for n in steps}
    for t in range(4):
        assert ("decoder", t, 1, f"o_{t}") in labels
        assert ("decoder", t, 0, f"y_{t}") in labels
        for layer in (0, 1):
            for name in ("i", "f", "g", "og", "c", "h"):
                # unique labels: the layer, and "dec" for the decoder's own states
                assert ("decoder", t, layer, f"{name}_{t}^({layer},dec)") in labels
    for t in range(3):
        assert ("encoder", t, 0, f"x_{t}") in labels and ("encoder", t, 1, f"h_{t}^(1)") in labels


def test_seq2seq_rejects_bad_tokens_and_options():
    model = nn.Seq2Seq(6, 5, 4)
    with pytest.raises(TypeError, match="tokens must be integers"):
        model(np.zeros((3, 2)), _ints((2, 2), 5))
    with pytest.raises(ValueError, match=r"\(steps, batch\) array, got shape \(3,\)"):
        model(_ints((3,), 6), _ints((2, 2), 5))
    with pytest.raises(ValueError, match="source batch 2 != target batch 3"):
        model(_ints((3, 2), 6), _ints((2, 3), 5))
    with pytest.raises(IndexError, match="index 6 is out of range"):
        model(np.full((3, 2), 6), _ints((2, 2), 5))
    with pytest.raises(ValueError, match="max_len must be a positive integer"):
        model.greedy(_ints((3, 2), 6), 0)
    with pytest.raises(ValueError, match="bos=5 is not a token"):
        nn.Seq2Seq(6, 5, 4, bos=5)
    with pytest.raises(ValueError, match="unknown cell 'transformer'"):
        nn.Seq2Seq(6, 5, 4, cell="transformer")


# ----- N-vs-N, N-vs-1 --------------------------------------------------------------------------


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_tagger_outputs_one_row_per_step(bidirectional, batch_first):
    tagger = nn.SequenceTagger(3, 4, 5, bidirectional=bidirectional, batch_first=batch_first)
    x = np.random.default_rng(0).normal(size=(2, 6, 3) if batch_first else (6, 2, 3))
    logits = tagger(Tensor(x))
    assert logits.shape == ((2, 6, 5) if batch_first else (6, 2, 5))
    tokens = nn.SequenceTagger(3, 4, 5, vocab_size=9, batch_first=batch_first)
    assert tokens(_ints((2, 6) if batch_first else (6, 2), 9)).shape == logits.shape


def test_tagger_step_t_reads_h_t_of_both_directions():
    nn.manual_seed(6)
    tagger = nn.SequenceTagger(3, 4, 5, cell="gru", num_layers=2, bidirectional=True)
    x = Tensor(np.random.default_rng(1).normal(size=(6, 2, 3)))
    output, _ = tagger.rnn(x)
    expected = output.data @ tagger.head.weight.data.T + tagger.head.bias.data
    np.testing.assert_allclose(tagger(x).data, expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_tagger_and_classifier_gradients_match_finite_differences(cell):
    nn.manual_seed(7)
    x = Tensor(np.random.default_rng(2).normal(size=(3, 2, 2)), requires_grad=True)
    tagger = nn.SequenceTagger(2, 2, 3, cell=cell, bidirectional=True)
    _check_all(tagger, [x], lambda x: tagger(x))
    classifier = nn.SequenceClassifier(2, 2, 3, cell=cell, num_layers=2, bidirectional=True)
    _check_all(classifier, [x], lambda x: classifier(x))


@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_reads_each_directions_final_state(bidirectional):
    nn.manual_seed(8)
    model = nn.SequenceClassifier(3, 4, 5, cell="lstm", num_layers=2, bidirectional=bidirectional)
    x = Tensor(np.random.default_rng(3).normal(size=(6, 2, 3)))
    logits = model(x)
    assert logits.shape == (2, 5)
    _, (h_n, _) = model.rnn(x)
    top = h_n.data[-2:] if bidirectional else h_n.data[-1:]
    expected = np.concatenate(list(top), axis=-1) @ model.head.weight.data.T
    np.testing.assert_allclose(logits.data, expected + model.head.bias.data, atol=1e-14)


def test_classifier_takes_tokens_and_batch_first():
    model = nn.SequenceClassifier(3, 4, 2, vocab_size=10, batch_first=True, bidirectional=True)
    assert model(_ints((5, 7), 10)).shape == (5, 2)
    with pytest.raises(ValueError, match=r"\(batch, steps\) array, got shape \(7,\)"):
        model(_ints((7,), 10))
    floats = nn.SequenceClassifier(3, 4, 2)
    with pytest.raises(ValueError, match=r"input must be \(steps, batch, features\)"):
        floats(Tensor(np.zeros((7, 3))))


# ----- 1-vs-N ----------------------------------------------------------------------------------


@pytest.mark.parametrize("condition", ["state", "input"])
@pytest.mark.parametrize("cell", CELLS)
def test_generator_gradients_match_finite_differences(condition, cell):
    nn.manual_seed(9)
    model = nn.SequenceGenerator(2, 2, 3, cell=cell, condition=condition, embedding_dim=2)
    v = Tensor(np.random.default_rng(4).normal(size=(2, 2)), requires_grad=True)
    tgt_in = _ints((3, 2), 3)
    _check_all(model, [v], lambda v: model(v, tgt_in))


@pytest.mark.parametrize("condition", ["state", "input"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_generator_output_and_greedy_shapes(condition, batch_first):
    model = nn.SequenceGenerator(
        3, 4, 6, num_layers=2, condition=condition, batch_first=batch_first
    )
    v = np.eye(3)[[0, 2]]  # condition on a class through its one-hot vector
    tgt_in = _ints((2, 5) if batch_first else (5, 2), 6)
    assert model(v, tgt_in).shape == ((2, 5, 6) if batch_first else (5, 2, 6))
    tokens, logits = model.greedy(v, 4, return_logits=True)
    assert tokens.shape == ((2, 4) if batch_first else (4, 2))
    np.testing.assert_array_equal(tokens, logits.argmax(axis=-1))


def test_generator_vector_reaches_every_step():
    """condition="state" starts from v; condition="input" reads v at each step."""
    for condition in ("state", "input"):
        model = nn.SequenceGenerator(3, 4, 6, condition=condition)
        v = Tensor(np.eye(3)[[0, 1]], requires_grad=True)
        logits = model(v, _ints((4, 2), 6))
        readers = {n.tags.get("t") for n in topo_order([logits]) if any(i is v for i in n.inputs)}
        assert readers == ({None} if condition == "state" else {0, 1, 2, 3}), condition
        logits[3].sum().backward()
        assert np.abs(v.grad).sum() > 0


def test_generator_rejects_bad_options_and_vectors():
    with pytest.raises(ValueError, match="unknown condition 'both'"):
        nn.SequenceGenerator(3, 4, 6, condition="both")
    model = nn.SequenceGenerator(3, 4, 6)
    with pytest.raises(ValueError, match=r"v must be \(batch, 3\), got shape \(2, 4\)"):
        model(np.zeros((2, 4)), _ints((3, 2), 6))
    with pytest.raises(ValueError, match="v has batch 2, tgt_in has batch 3"):
        model(np.zeros((2, 3)), _ints((3, 3), 6))
