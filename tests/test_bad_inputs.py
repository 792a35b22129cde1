"""The bad-input table: by category, each case the exact error type and a message naming the
problem; files that a failed command was pointed at are unchanged byte for byte.

The CLI part is generated from the commands themselves: every option that has one of
cli_types' checked types gets the values that type must refuse, so an option added later is
covered without a new line here. (Checkpoint and training cases: test_nothing_lost.py; sizes:
test_limits.py.)
"""

import hashlib
import math
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from clicommands import commands

import cli
import cli_types as T
from tinygrad_rnn import Tensor, backward_steps, grad, gradcheck, nn, optim


def raises(error, words, fn):
    with pytest.raises(error) as info:
        fn()
    assert type(info.value) is error, type(info.value)
    text = str(info.value)
    for w in [words] if isinstance(words, str) else words:
        assert w in text, text


# ----- Python API -----------------------------------------------------------------------------

x6 = Tensor(np.arange(6.0), requires_grad=True)
m23 = Tensor(np.ones((2, 3)), requires_grad=True)

API = [
    ("object dtype", lambda: Tensor(np.array([1, "a"], dtype=object)), TypeError, "object"),
    ("string dtype", lambda: Tensor(np.array(["a", "b"])), TypeError, "<U1"),
    ("complex dtype", lambda: Tensor(np.array([1j])), TypeError, "complex128"),
    ("dtype= object", lambda: Tensor([1.0], dtype=object), TypeError, "object"),
    ("int requires grad", lambda: Tensor([1, 2], requires_grad=True), TypeError, "int64"),
    ("transpose dim", lambda: m23.transpose(0, 5), IndexError, ["dim 5", "2-d"]),
    ("transpose perm", lambda: m23.reshape(1, 2, 3).transpose(0, 0, 1), ValueError, "permut"),
    ("split dim", lambda: x6.split(2, dim=3), IndexError, ["dim 3", "1-d"]),
    ("split negative", lambda: x6.split([7, -1]), ValueError, "sizes must be >= 0"),
    ("split sum", lambda: x6.split([4, 1]), ValueError, "do not add up to 6"),
    ("split zero", lambda: x6.split(0), ValueError, "size must be positive"),
    ("split float", lambda: x6.split([2.5, 3.5]), TypeError, "must be integers"),
    ("chunk zero", lambda: x6.chunk(0), ValueError, "chunks must be a positive integer"),
    ("sum axis", lambda: m23.sum(axis=3), ValueError, ["axis 3", "2-d"]),
    ("hook not callable", lambda: x6.register_hook(3), TypeError, "must be callable"),
    (
        "grad lengths",
        lambda: grad([(x6 * 2).sum()], [x6], grad_outputs=[1.0, 2.0]),
        ValueError,
        "1 outputs but 2 grad_outputs",
    ),
    ("grad input", lambda: grad((x6 * 2).sum(), [x6, 3]), TypeError, "input 1 is a int"),
    (
        "stop label",
        lambda: backward_steps((x6 * 3).sum().named("L"), stop="nope"),
        ValueError,
        ["no node labelled 'nope'", "labels: L"],
    ),
    (
        "gradcheck eps",
        lambda: gradcheck(lambda t: t * 2, [x6], eps=float("nan")),
        ValueError,
        "eps must be finite",
    ),
    (
        "gradcheck names",
        lambda: gradcheck(lambda t: t * 2, [x6], names=["a", "b"]),
        ValueError,
        "2 names for 1 inputs",
    ),
]


@pytest.mark.parametrize("case", API, ids=lambda c: c[0])
def test_api_refuses_bad_input_by_name(case):
    _, fn, error, words = case
    raises(error, words, fn)


# ----- layers -------------------------------------------------------------------------------


def _lstm():
    nn.manual_seed(0)
    return nn.LSTM(2, 3)


LAYERS = [
    ("negative size", lambda: nn.Linear(-1, 2), ValueError, "in_features"),
    ("zero hidden", lambda: nn.LSTM(2, 0), ValueError, "hidden_size"),
    ("nonlinearity", lambda: nn.RNN(2, 3, nonlinearity="cube"), ValueError, "'cube'"),
    ("dropout", lambda: nn.LSTM(2, 3, dropout=2.0), ValueError, "dropout"),
    (
        "features",
        lambda: _lstm()(Tensor(np.ones((4, 1, 5)))),
        ValueError,
        ["5 features", "input_size=2"],
    ),
    ("embedding index", lambda: nn.Embedding(5, 2)(Tensor(np.array([7]))), IndexError, "7"),
    (
        "state dict dtype",
        lambda: _lstm().load_state_dict({k: v + 1j for k, v in _lstm().state_dict().items()}),
        TypeError,
        "complex128",
    ),
    ("state dict type", lambda: _lstm().load_state_dict([1, 2]), TypeError, "expected a dict"),
]


@pytest.mark.parametrize("case", LAYERS, ids=lambda c: c[0])
def test_layers_refuse_bad_input_by_name(case):
    _, fn, error, words = case
    raises(error, words, fn)


# ----- optimizers and clipping ----------------------------------------------------------------


def _params():
    return list(nn.Linear(3, 2).parameters())


OPTIMIZERS = [
    ("sgd lr", lambda: optim.SGD(_params(), lr=-1), ValueError, "Invalid learning rate: -1"),
    ("sgd nan lr", lambda: optim.SGD(_params(), lr=math.nan), ValueError, "learning rate: nan"),
    ("sgd momentum", lambda: optim.SGD(_params(), momentum=-1), ValueError, "momentum"),
    ("adam betas", lambda: optim.Adam(_params(), betas=(1.0, 0.9)), ValueError, "beta"),
    ("adam eps", lambda: optim.Adam(_params(), eps=math.nan), ValueError, "epsilon"),
    ("adam lr type", lambda: optim.Adam(_params(), lr="x"), TypeError, "lr must be a number"),
    ("rmsprop alpha", lambda: optim.RMSprop(_params(), alpha=-1), ValueError, "alpha"),
    ("adagrad decay", lambda: optim.Adagrad(_params(), lr_decay=-1), ValueError, "lr_decay"),
    (
        "clip nan",
        lambda: optim.clip_grad_norm_(_params(), math.nan),
        ValueError,
        "max_norm must be >= 0",
    ),
    (
        "clip string",
        lambda: optim.clip_grad_norm_(_params(), "1"),
        TypeError,
        "max_norm must be a number",
    ),
    ("clip value", lambda: optim.clip_grad_value_(_params(), -1), ValueError, "clip_value"),
]


@pytest.mark.parametrize("case", OPTIMIZERS, ids=lambda c: c[0])
def test_optimizers_refuse_bad_hyperparameters_by_name(case):
    _, fn, error, words = case
    raises(error, words, fn)


# ----- every CLI option, from its type ----------------------------------------------------------


def _bad_values(kind):
    """(value, words of the message) that an option of this type must refuse."""
    if isinstance(kind, T.Numbers):
        return [("1,x", "must be a number"), ("1,nan", "must be a finite number")]
    if isinstance(kind, T.Finite):
        low, high, low_open, _ = kind.range
        out = [("nan", "must be a finite number"), ("inf", "must be a finite number")]
        out += [("abc", "must be a number")]
        if low is not None:
            out.append((str(low if low_open else low - 1), "must be >"))
        if high is not None:
            out.append((str(high + 1), "<"))
        return out
    if isinstance(kind, T.Count):
        out = [("abc", "must be an integer"), ("1.5", "must be an integer")]
        out += [("1e3", "must be an integer")]
        if kind.min is not None:
            out.append((str(kind.min - 1), f"must be >= {kind.min}"))
        if kind.max is not None:
            out.append((str(kind.max + 1), f"<= {kind.max}"))
        return out
    if isinstance(kind, T.Names):
        return [(f"{kind.choices[0]},nonsense", "must be one of")]
    if isinstance(kind, T.Name):
        return [("nonsense", "must be one of")]
    if isinstance(kind, T.Pair):
        out = [("x", "A:B"), ("1:2:3", "A:B")]
        if kind.kind is int:
            out.append(("1:y", "A:B"))
            if kind.ordered:
                out.append(("5:2", "A <= B"))
            if kind.min is not None:
                out.append((f"{kind.min - 1}:3", f">= {kind.min}"))
        return out
    if isinstance(kind, T.InFile):
        return [("no/such/file.npz", "does not exist"), (".", "is a directory")]
    if isinstance(kind, T.PictureFile):
        return [("no/such/dir/out.png", "does not exist"), ("out.dot", "not a picture format")]
    if isinstance(kind, T.OutFile):
        return [("no/such/dir/out.x", "does not exist"), (".", "is a directory")]
    return []


# what each command needs besides the option under test, so that the option is what fails
REQUIRED = {
    ("sample",): ["--load", "GOOD"],
    ("connectivity",): ["--load", "GOOD"],
    ("gates",): ["--load", "GOOD"],
    ("plot",): ["GOOD"],
    ("exercise", "check"): ["1", "GOOD"],
    ("exercise", "show"): ["1"],
    ("exercise", "start"): ["1"],
}


def _options():
    for path, command in commands():
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag:
                yield path, param


def _cases(first_only):
    for path, param in _options():
        flag = T.option_name(param)
        for value, words in _bad_values(param.type)[: 1 if first_only else None]:
            yield pytest.param(path, param, value, words, id=f"{' '.join(path)} {flag} {value}")


CLI_CASES = list(_cases(first_only=True))


def test_the_cli_table_covers_every_command():
    covered = {case.values[0] for case in CLI_CASES}
    assert covered == {path for path, command in commands() if command.params}, covered
    assert len(list(_cases(first_only=False))) > 200


@pytest.mark.parametrize(
    "param", [p for _, p in _options()], ids=[f"{' '.join(a)} {p.name}" for a, p in _options()]
)
def test_every_option_type_refuses_its_bad_values_naming_the_option(param):
    # every value, at the type (fast); the command line itself below, one value per option
    for value, words in _bad_values(param.type):
        with pytest.raises(T.OptionError) as info:
            param.type.convert(value, param, None)
        line = info.value.format_message()
        assert line.startswith(T.option_name(param) + " ") and words in line, line
        assert "\n" not in line


@pytest.mark.parametrize("path, param, value, words", CLI_CASES)
def test_every_cli_option_refuses_bad_values_up_front(path, param, value, words, tmp_path):
    flag = T.option_name(param)
    good = tmp_path / "good.bin"
    good.write_bytes(b"precious")
    before = hashlib.sha256(good.read_bytes()).hexdigest()
    extra = [str(good) if a == "GOOD" else a for a in REQUIRED.get(path, [])]
    with CliRunner().isolated_filesystem(temp_dir=tmp_path) as here:
        result = CliRunner().invoke(cli.main, [*path, *extra, flag, value])
        written = sorted(p.name for p in Path(here).iterdir())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
    line = result.stderr
    assert flag in line and words in line, line
    assert written == [] and hashlib.sha256(good.read_bytes()).hexdigest() == before


# ----- the CLI's own rules, beyond one option -------------------------------------------------


def test_cli_errors_are_one_line_with_the_way_to_the_traceback(monkeypatch):
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    for args, words in [
        (["nosuch"], "No such command 'nosuch'"),
        (["--bogus"], "No such option '--bogus'"),
        (["render", "--bogus"], "render --help"),
        (["bptt", "--loss", "7"], "loss must be"),
        (["train", "--k1", "5", "--k2", "2"], "1 <= k1 <= k2"),
    ]:
        result = CliRunner().invoke(cli.main, args)
        assert result.exit_code != 0 and result.stderr.count("\n") == 1, result.output
        assert result.stderr.startswith("Error: ") and words in result.stderr


def test_cli_debug_env_turns_a_bug_into_its_traceback(monkeypatch):
    monkeypatch.setattr(cli, "_check_size", lambda *a, **k: 1 / 0)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    quiet = CliRunner().invoke(cli.main, ["step", "--commands", "q"])
    assert quiet.exit_code == 1 and "internal error, ZeroDivisionError" in quiet.stderr
    assert "--debug" in quiet.stderr and quiet.stderr.count("\n") == 1
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    loud = CliRunner().invoke(cli.main, ["step", "--commands", "q"])
    assert isinstance(loud.exception, ZeroDivisionError)


def test_cli_free_text_inputs_are_checked_before_any_output(tmp_path):
    log = tmp_path / "binary.jsonl"
    log.write_bytes(b"\x89PNG\xa4\x00")
    for args, words in [
        (["plot", str(log), "-o", str(tmp_path / "p.png")], "is not text"),
        (["gradcheck", "-k", "zzz"], "no op case matches 'zzz'"),
        (["bptt", "--param", "nope"], "unknown parameter 'nope' (--param"),
        (["step", "--break", "", "--commands", "q"], "breakpoint"),
    ]:
        result = CliRunner().invoke(cli.main, args)
        assert result.exit_code != 0 and result.stderr.count("\n") == 1, result.output
        assert words in result.stderr and result.stderr.count("(see") <= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary.jsonl"]


def test_sample_checks_the_prime_before_printing_it(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("abc abc cab. " * 40, encoding="utf-8")
    path = tmp_path / "t.npz"
    args = ["train", "--task", "text", "--text", str(text), "--length", "6", "--hidden", "4"]
    trained = CliRunner().invoke(cli.main, [*args, "--steps", "1", "--save", str(path)])
    assert trained.exit_code == 0, trained.output
    result = CliRunner().invoke(cli.main, ["sample", "--load", str(path), "--prime", "XYZ"])
    assert result.exit_code == 1 and result.stdout == ""
    assert "characters ['X', 'Y', 'Z'] are not in the vocabulary" in result.stderr
