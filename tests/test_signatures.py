"""Every public constructor and function takes PyTorch's arguments: names, order, kinds and
defaults, compared with torch's own signatures by `inspect.signature`."""

import inspect
import typing

import numpy as np
import pytest

from tinygrad_rnn import Tensor, nn, optim

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch")
F = nn.functional

CLASSES = [
    "RNN",
    "LSTM",
    "GRU",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "Linear",
    "Embedding",
    "Dropout",
]
OPTIMIZERS = ["SGD", "Adam", "Adagrad", "RMSprop"]
FUNCTIONAL = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "nll_loss",
    "cross_entropy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "dropout",
    "pad",
    "relu",
    "leaky_relu",
    "elu",
    "silu",
    "tanh",
    "sigmoid",
    "softmax",
    "log_softmax",
]
# torch's C builtins have no inspectable signature: these are their documented ones
BUILTINS = {
    "linear": "(input, weight, bias=None)",
    "softplus": "(input, beta=1, threshold=20)",
    "gelu": "(input, approximate='none')",
    "logsigmoid": "(input)",
    "one_hot": "(tensor, num_classes=-1)",
}


def _torch_signature(obj):
    """torch's signature; the recurrent layers declare theirs as the first @overload."""
    init = getattr(obj, "__init__", None)
    if inspect.isclass(obj) and init is not None:
        overloads = typing.get_overloads(init)
        if overloads:
            return inspect.signature(overloads[0])
    return inspect.signature(obj)


def _shape(signature):
    """(name, kind, default) of every parameter but self, annotations dropped."""
    return [(p.name, p.kind, p.default) for p in signature.parameters.values() if p.name != "self"]


def _assert_same(ours, theirs, what):
    a, b = _shape(ours), _shape(theirs)
    assert [x[:2] for x in a] == [x[:2] for x in b], f"{what}: {ours} vs torch {theirs}"
    for (name, _, mine), (_, _, torchs) in zip(a, b):
        assert mine == torchs or (mine is torchs), f"{what}: {name}={mine!r}, torch {torchs!r}"


@pytest.mark.parametrize("name", CLASSES)
def test_layer_signatures_match_torch(name):
    ours = inspect.signature(getattr(nn, name))
    _assert_same(ours, _torch_signature(getattr(torch.nn, name)), name)


@pytest.mark.parametrize("name", CLASSES)
def test_layer_forward_signatures_match_torch(name):
    ours = inspect.signature(getattr(nn, name).forward)
    _assert_same(ours, inspect.signature(getattr(torch.nn, name).forward), f"{name}.forward")


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_signatures_match_torch(name):
    ours = inspect.signature(getattr(optim, name))
    _assert_same(ours, inspect.signature(getattr(torch.optim, name)), name)


@pytest.mark.parametrize("name", ["clip_grad_norm_", "clip_grad_value_"])
def test_clip_signatures_match_torch(name):
    ours = inspect.signature(getattr(optim, name))
    _assert_same(ours, inspect.signature(getattr(torch.nn.utils, name)), name)


@pytest.mark.parametrize("name", ["uniform_", "normal_", "zeros_", "ones_", "constant_"])
def test_init_signatures_match_torch(name):
    ours = inspect.signature(getattr(nn.init, name))
    _assert_same(ours, inspect.signature(getattr(torch.nn.init, name)), name)


def test_init_takes_a_numpy_generator():
    a, b = nn.Parameter(np.empty(5)), nn.Parameter(np.empty(5))
    nn.init.normal_(a, generator=np.random.default_rng(3))
    nn.init.normal_(b, 0.0, 1.0, np.random.default_rng(3))
    np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(TypeError, match="numpy Generator"):
        nn.init.uniform_(a, generator=3)


def test_module_train_eval_and_from_pretrained_signatures_match_torch():
    for ours, theirs in [
        (nn.Module.train, torch.nn.Module.train),
        (nn.Module.eval, torch.nn.Module.eval),
        (nn.Module.zero_grad, torch.nn.Module.zero_grad),
        (nn.Module.named_parameters, torch.nn.Module.named_parameters),
        (nn.Module.parameters, torch.nn.Module.parameters),
        (nn.Module.named_modules, torch.nn.Module.named_modules),
        (nn.Module.modules, torch.nn.Module.modules),
        (nn.Module.named_children, torch.nn.Module.named_children),
        (nn.Module.apply, torch.nn.Module.apply),
        (nn.Module.requires_grad_, torch.nn.Module.requires_grad_),
        (nn.Module.add_module, torch.nn.Module.add_module),
        (nn.Embedding.from_pretrained, torch.nn.Embedding.from_pretrained),
    ]:
        _assert_same(inspect.signature(ours), inspect.signature(theirs), ours.__qualname__)


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_signatures_match_torch(name):
    ours = inspect.signature(getattr(F, name))
    _assert_same(ours, inspect.signature(getattr(torch.nn.functional, name)), name)


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_functional_builtin_signatures_match_torchs_documentation(name):
    documented = inspect.Signature.from_callable(eval(f"lambda {BUILTINS[name][1:-1]}: 0"))
    _assert_same(inspect.signature(getattr(F, name)), documented, name)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: optim.SGD(p, foreach=True), "foreach=True is not supported"),
        (lambda p: optim.Adam(p, fused=True), "fused=True is not supported"),
        (lambda p: optim.Adam(p, capturable=True), "capturable=True is not supported"),
        (lambda p: optim.RMSprop(p, differentiable=True), "differentiable=True"),
        (lambda p: optim.Adagrad(p, foreach=True), "foreach=True is not supported"),
        (lambda p: optim.clip_grad_norm_(p, 1.0, foreach=True), "foreach=True"),
        (lambda p: optim.clip_grad_value_(p, 1.0, foreach=True), "foreach=True"),
    ],
)
def test_torch_kernel_switches_are_refused_unless_default(make, match):
    with pytest.raises(ValueError, match=match):
        make([Tensor(np.ones(2), requires_grad=True)])


def test_optimizers_accept_torchs_defaults_for_kernel_switches_and_named_parameters():
    layer = nn.Linear(2, 1)
    opt = optim.SGD(layer.named_parameters(), lr=0.1, foreach=False, fused=None)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    layer(np.ones((1, 2))).sum().backward()
    before = layer.weight.data.copy()
    opt.step()
    np.testing.assert_allclose(layer.weight.data, before - 0.1)


@pytest.mark.parametrize("method", ["step", "zero_grad", "add_param_group"])
def test_optimizer_method_signatures_match_torch(method):
    ours = inspect.signature(getattr(optim.SGD, method))
    _assert_same(ours, inspect.signature(getattr(torch.optim.SGD, method)), method)


def test_adam_refuses_betas_that_are_not_a_pair():
    with pytest.raises(TypeError, match="betas must be 2 numbers"):
        optim.Adam([Tensor(np.ones(2), requires_grad=True)], betas=0.9)


def test_step_closure_and_add_param_group_as_torch():
    a, b = (Tensor(np.ones(2), requires_grad=True) for _ in range(2))
    opt = optim.Adagrad([a], lr=0.5)
    opt.add_param_group({"params": [b], "lr": 1.0})
    assert opt.param_groups[1]["lr"] == 1.0 and opt.state[b]["step"] == 0

    def closure():
        opt.zero_grad()
        loss = (a * a).sum() + (b * b).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.data) == 4.0 and np.all(a.data < 1) and np.all(b.data < 1)
    with pytest.raises(ValueError, match="more than once"):
        opt.add_param_group({"params": [a]})


def test_adam_decoupled_weight_decay_matches_torch_adamw():
    w0 = np.array([1.0, -2.0, 3.0])
    ours = Tensor(w0.copy(), requires_grad=True)
    theirs = torch.tensor(w0.copy(), requires_grad=True)
    a = optim.Adam([ours], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
    b = torch.optim.AdamW([theirs], lr=0.1, weight_decay=0.5)
    for step in range(5):
        g = np.array([0.3, -0.1, 0.2]) * (step + 1)
        ours.grad = g.copy()
        theirs.grad = torch.from_numpy(g.copy())
        a.step()
        b.step()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=0, atol=1e-12)


def test_clip_grad_norm_returns_a_float_with_item():
    p = Tensor(np.ones(4), requires_grad=True)
    p.grad = np.full(4, 2.0)
    total = optim.clip_grad_norm_([p], 1.0)
    assert isinstance(total, float) and total.item() == 4.0
