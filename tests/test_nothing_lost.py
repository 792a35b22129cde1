"""Nothing a user does loses work: checkpoints, Ctrl-C, divergence, all-or-nothing loading."""

import hashlib
import json
import os
import signal
import stat

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from tinygrad_rnn import Tensor, gradcheck, nn, optim
from tinygrad_rnn.checkpoint import CheckpointError, load_checkpoint
from tinygrad_rnn.files import write_atomic
from tinygrad_rnn.train import Run, make_config

SMALL = ["--task", "sine", "--length", "6", "--hidden", "4", "--batch", "4", "--eval-batch", "8"]


def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def train(*args):
    return CliRunner().invoke(main, ["train", *SMALL, *args])


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.npz"
    result = train("--steps", "2", "--save", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_train_ctrl_c_saves_the_last_completed_step(tmp_path, monkeypatch):
    original = Run.train_step

    def interrupted_at_3(self):
        if self.step == 3:
            raise KeyboardInterrupt  # in the middle of step 4: its work is dropped
        return original(self)

    monkeypatch.setattr(Run, "train_step", interrupted_at_3)
    path, log = tmp_path / "c.npz", tmp_path / "log.jsonl"
    result = train("--steps", "50", "--save", str(path), "--log", str(log))
    assert result.exit_code == 130
    assert f"interrupted after step 3: saved {path} (step 3)" in result.stderr
    assert load_checkpoint(path).step == 3
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3]
    assert "Traceback" not in result.output


def test_train_sigint_finishes_the_step_under_way_then_saves_it(tmp_path, monkeypatch):
    original = Run.train_step

    def signalled_during_step_2(self):
        if self.step == 1:
            signal.raise_signal(signal.SIGINT)  # what Ctrl-C does; the handler defers it
        return original(self)

    monkeypatch.setattr(Run, "train_step", signalled_during_step_2)
    path = tmp_path / "c.npz"
    result = train("--steps", "50", "--save", str(path))
    assert result.exit_code == 130 and "saved" in result.stderr
    assert load_checkpoint(path).step == 2
    monkeypatch.undo()
    # the straight run's step-2 weights: the interrupted step was completed, not torn
    straight = Run(make_config(task="sine", length=6, hidden=4, batch=4, eval_batch=8))
    straight.fit(steps=2)
    saved = load_checkpoint(path).params
    for name, p in straight.model.named_parameters():
        np.testing.assert_array_equal(saved[name], p.data)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_train_ctrl_c_without_save_says_nothing_was_saved(monkeypatch):
    def interrupt(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(Run, "train_step", interrupt)
    result = train("--steps", "5")
    assert result.exit_code == 130 and "nothing saved (no --save)" in result.stderr


def test_train_never_writes_non_finite_weights_over_a_checkpoint(good, monkeypatch):
    before = digest(good)

    def poisoned_fit(self, steps=None, on_step=None):
        self.model.rnn.weight_hh_l0.data[0, 0] = np.nan
        return []

    monkeypatch.setattr(Run, "fit", poisoned_fit)
    result = train("--load", str(good), "--steps", "4", "--save", str(good))
    assert result.exit_code == 1
    assert "diverged" in result.stderr and "rnn.weight_hh_l0" in result.stderr
    assert "left as it was" in result.stderr
    assert digest(good) == before
    assert sorted(os.listdir(good.parent)) == ["good.npz"]


def test_train_diverged_run_saves_the_last_finite_step(tmp_path):
    path = tmp_path / "c.npz"
    args = ["--cell", "rnn", "--activation", "linear", "--radius", "1.5", "--length", "40"]
    result = train(*args, "--optim", "sgd", "--lr", "0.05", "--steps", "20", "--save", str(path))
    assert "diverged at step" in result.output
    diverged = int(result.output.split("diverged at step ")[1].split(":")[0])
    checkpoint = load_checkpoint(path)
    assert checkpoint.step == diverged - 1
    assert all(np.all(np.isfinite(a)) for a in checkpoint.params.values())


def test_train_checks_output_paths_before_any_work(tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(Run, "__init__", never)
    for option in ("--save", "--log"):
        result = train("--steps", "2", option, str(tmp_path / "nodir" / "x"))
        assert result.exit_code == 2
        assert f"{option} cannot write" in result.stderr and "does not exist" in result.stderr
        result = train("--steps", "2", option, str(tmp_path))
        assert result.exit_code == 2 and "is a directory" in result.stderr


def test_train_writes_the_checkpoint_before_evaluating(tmp_path, monkeypatch):
    def broken(self):
        raise ValueError("evaluation failed")

    monkeypatch.setattr(Run, "evaluation", broken)
    path = tmp_path / "c.npz"
    result = train("--steps", "2", "--save", str(path))
    assert result.exit_code == 1 and "evaluation failed" in result.stderr
    assert load_checkpoint(path).step == 2


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_checkpoint_files_respect_the_umask(tmp_path, umask):
    run = Run(make_config(task="sine", length=6, hidden=4, batch=4))
    old = os.umask(umask)
    try:
        path = run.save(tmp_path / "c.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_write_atomic_leaves_the_old_file_whole_when_the_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "deep" / "picture.svg"
    assert write_atomic(str(path), "<svg>é</svg>") == str(path)  # folders made, str as UTF-8
    assert path.read_bytes() == "<svg>é</svg>".encode()
    write_atomic(str(path), b"new", fsync=True)
    assert path.read_bytes() == b"new"

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(str(path), b"half")
    assert path.read_bytes() == b"new" and os.listdir(path.parent) == ["picture.svg"]


def test_sample_needs_only_the_checkpoint(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat.\nthe end. " * 20, encoding="utf-8")
    path = tmp_path / "text.npz"
    args = ["--task", "text", "--text", str(text), "--length", "8", "--hidden", "8"]
    result = CliRunner().invoke(main, ["train", *args, "--steps", "2", "--save", str(path)])
    assert result.exit_code == 0, result.output
    text.unlink()
    result = CliRunner().invoke(main, ["sample", "--load", str(path), "--length", "20"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("the cat sat on the mat.")
    assert len(result.stdout) == len("the cat sat on the mat.") + 20 + 1
    # training on needs the text itself, and says so
    result = CliRunner().invoke(main, ["train", "--load", str(path), "--steps", "3"])
    assert result.exit_code == 1 and "no such file" in result.stderr


def test_gradcheck_restores_its_inputs_when_fn_raises():
    x = Tensor(np.arange(4.0), requires_grad=True)
    calls = []

    def fn(t):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("fn failed on a perturbed input")
        return t * 2

    with pytest.raises(RuntimeError, match="perturbed"):
        gradcheck(fn, [x])
    np.testing.assert_array_equal(x.data, np.arange(4.0))


# ----- load_state_dict: every key checked before anything changes -----------------------------

BAD_VALUES = {
    "object": lambda a: a.astype(object),
    "string": lambda a: np.full(a.shape, "x"),
    "complex": lambda a: a + 1j,
    "bool": lambda a: a > 0,
    "int": lambda a: a.astype(np.int64),
    "shape": lambda a: np.zeros(a.shape + (1,)),
}


def _lstm():
    nn.manual_seed(0)
    return nn.LSTM(2, 3, num_layers=2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_module_load_state_dict_is_all_or_nothing(data):
    model = _lstm()
    before = model.state_dict()
    names = list(before)
    new = {k: v + 1.0 for k, v in before.items()}
    kind = data.draw(st.sampled_from([*BAD_VALUES, "missing", "unexpected"]))
    victim = data.draw(st.sampled_from(names))
    if kind == "missing":
        del new[victim]
        error, words = ValueError, [f"missing key '{victim}'"]
    elif kind == "unexpected":
        new["nonsense.weight"] = np.zeros(2)
        error, words = ValueError, ["unexpected key 'nonsense.weight'"]
    else:
        new[victim] = BAD_VALUES[kind](before[victim])
        error = ValueError if kind == "shape" else TypeError
        words = [victim, "shape" if kind == "shape" else str(new[victim].dtype)]
    with pytest.raises(error) as info:
        model.load_state_dict(new)
    assert all(w in str(info.value) for w in words), str(info.value)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def _adam_with_state():
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    opt.step()
    return model, opt


def _bad_optimizer_states():
    _, opt = _adam_with_state()
    sd = opt.state_dict()
    group = sd["param_groups"][0]
    state0 = sd["state"][0]

    def with_group(**changes):
        return {"state": sd["state"], "param_groups": [{**group, **changes}]}

    def with_state(fields):
        return {"state": {**sd["state"], 0: fields}, "param_groups": sd["param_groups"]}

    sgd = optim.SGD(nn.Linear(3, 2).parameters(), lr=0.1, momentum=0.9).state_dict()
    return [
        ("negative lr", with_group(lr=-5), ValueError, "Invalid learning rate: -5"),
        ("nan lr", with_group(lr=float("nan")), ValueError, "Invalid learning rate: nan"),
        ("string lr", with_group(lr="fast"), TypeError, "lr must be a number"),
        ("beta 1", with_group(betas=[1.0, 0.999]), ValueError, "Invalid beta parameter"),
        ("foreign", sgd, ValueError, "does not have"),
        ("incomplete", with_state({"step": 1}), ValueError, "lacks ['exp_avg', 'exp_avg_sq']"),
        ("unknown field", with_state({**state0, "junk": 1}), ValueError, "'junk'"),
        ("negative step", with_state({**state0, "step": -100}), ValueError, "step must be"),
        (
            "complex state",
            with_state({**state0, "exp_avg": state0["exp_avg"] + 1j}),
            TypeError,
            "complex128",
        ),
        (
            "shape",
            with_state({**state0, "exp_avg": np.zeros(7)}),
            ValueError,
            "has shape (7,)",
        ),
        ("unknown index", with_state(state0) | {"state": {9: state0}}, ValueError, "unknown"),
        ("no groups", {"state": {}}, ValueError, "no 'param_groups'"),
        ("not a dict", [1, 2], TypeError, "expected a dict"),
    ]


@pytest.mark.parametrize("case", _bad_optimizer_states(), ids=lambda c: c[0])
def test_optimizer_load_state_dict_checks_everything_first(case):
    _, state, error, words = case
    _, opt = _adam_with_state()
    before = opt.state_dict()
    with pytest.raises(error) as info:
        opt.load_state_dict(state)
    assert words in str(info.value)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for index, fields in before["state"].items():
        for field, value in fields.items():
            np.testing.assert_array_equal(after["state"][index][field], value)


# ----- checkpoints that lie ---------------------------------------------------------------------


def _rewrite(path, change):
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta, arrays)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


LIES = [
    ("no step", lambda m, a: m.pop("step"), "no 'step' field"),
    ("negative step", lambda m, a: m.update(step=-100), "step must be >= 0, got -100"),
    ("string step", lambda m, a: m.update(step="3"), "'step' should be a int"),
    ("no config", lambda m, a: m.pop("config"), "no 'config' field"),
    ("no optimizer", lambda m, a: m.pop("optimizer"), "no 'optimizer' field"),
    ("no params", lambda m, a: m.pop("params"), "no 'params' field"),
    (
        "complex weight",
        lambda m, a: a.update({"param/rnn.weight_hh_l0": a["param/rnn.weight_hh_l0"] + 1j}),
        "complex128, not a real floating-point array",
    ),
    (
        "nan weight",
        lambda m, a: a["param/rnn.weight_hh_l0"].__setitem__((0, 0), np.nan),
        "holds NaN or inf",
    ),
    (
        "lr -5",
        lambda m, a: m["optimizer"]["param_groups"][0].update(lr=-5),
        "Invalid learning rate: -5",
    ),
    ("unknown cell", lambda m, a: m["config"].update(cell="cnn"), "cnn"),
]


@pytest.mark.parametrize("lie", LIES, ids=lambda c: c[0])
def test_checkpoint_that_lies_is_refused_and_left_alone(good, lie):
    _, change, words = lie
    _rewrite(good, change)
    before = digest(good)
    with pytest.raises(CheckpointError) as info:
        Run.resume(good)
    assert words in str(info.value)
    result = train("--load", str(good), "--steps", "4", "--save", str(good))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert words in result.stderr
    assert digest(good) == before
