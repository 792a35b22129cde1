"""Training: the loop, truncated BPTT(k1, k2), evaluation, checkpoints and exact resuming.

Truncated BPTT(k1, k2) (Sutskever's naming): every k1 steps, backpropagate the losses of
those k1 steps through the last k2 steps (k2 >= k1). Here T = 12, k1 = 4, k2 = 6:

    step           0  1  2  3  4  5  6  7  8  9 10 11
    chunk 1        [==========]                          losses 0..3, graph 0..3
    chunk 2              [-----==========]               losses 4..7, graph 2..7
    chunk 3                          [-----===========]  losses 8..11, graph 6..11
                   = steps whose losses are backpropagated   - older steps kept in the graph

Each chunk builds a graph from a *detached* copy of the state that entered its first step
(kept as plain arrays from the earlier chunks: "k2 > k1 keeps the needed states"), so a
loss at step s sends gradient back at most to the start of its chunk's graph. With
k1 = k2 the graphs do not overlap: the common "detach the state at chunk boundaries".
With k1 = k2 >= T there is one chunk, and the gradient is full BPTT's. For an N-vs-1 task
only the last chunk has a loss; the others run without a graph, to carry the state.

The parameters see one update per batch, with the sum of every chunk's gradient (the
weights stay fixed along the sequence, so that sum is the truncated gradient of the
batch's loss). Batch k of a run is `task.batch(B, seed_sequence(seed, k))`: data depend on
(seed, step) only, which is why a run resumed from a checkpoint continues bit for bit.
"""

import math
import os
import time

import numpy as np

from . import limits, nn, optim
from .autograd import no_grad
from .checkpoint import CheckpointError, load_checkpoint, restore, save_checkpoint
from .nn import functional as F
from .tasks import make_task
from .tasks.models import Classifier, Tagger, build_model, state_after

OPTIMIZERS = {
    "sgd": optim.SGD,
    "adam": optim.Adam,
    "adagrad": optim.Adagrad,
    "rmsprop": optim.RMSprop,
}
DEFAULT_LR = {"sgd": 0.1, "adam": 0.01, "adagrad": 0.05, "rmsprop": 0.005}
DEFAULTS = {
    "task": "adding",
    "length": None,  # the task's own default when None
    "text": None,  # the text task's file (default: the project's README)
    "cell": "lstm",
    "hidden": 32,
    "layers": 1,
    "bidirectional": False,
    "nonlinearity": "tanh",
    "embed": 16,
    "reverse_source": False,
    "radius": None,  # recurrent weights = radius x orthogonal (None: PyTorch's init)
    "forget_bias": None,  # LSTM: every forget gate's total bias (None: PyTorch's init)
    "steps": 200,
    "batch": 32,
    "optim": "adam",
    "lr": None,  # DEFAULT_LR[optim] when None
    "clip": None,
    "k1": None,
    "k2": None,
    "dtype": "float64",
    "seed": 0,
    "eval_batch": 512,
    "eval_every": None,  # also evaluate every N steps (the record gets "eval")
}
# options that shape the model or its data: a checkpoint fixes them
STRUCTURE = (
    "task", "length", "text", "cell", "hidden", "layers", "bidirectional", "nonlinearity",
    "embed", "reverse_source", "dtype",
)  # fmt: skip


def make_config(**options):
    """DEFAULTS updated with `options` (None keeps the default), checked; a plain dict."""
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown training options {unknown}")
    config = dict(DEFAULTS)
    config.update({k: v for k, v in options.items() if v is not None})
    for key in ("hidden", "layers", "embed", "steps", "batch", "eval_batch", "eval_every"):
        if key == "eval_every" and config[key] is None:
            continue
        if not isinstance(config[key], (int, np.integer)) or config[key] < 1:
            raise ValueError(f"--{key.replace('_', '-')} must be a positive integer")
    Cell = nn.recurrent.layer_class(config["cell"]).Cell
    if config["optim"] not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer '{config['optim']}' (choose from sgd, adam, ...)")
    if config["lr"] is None:
        config["lr"] = DEFAULT_LR[config["optim"]]
    if config["text"] is not None:
        # a checkpoint must find its text again from any working directory
        config["text"] = os.path.abspath(config["text"])
    if config["dtype"] not in ("float64", "float32"):
        raise ValueError(f"--dtype must be float64 or float32, got {config['dtype']}")
    if config["clip"] is not None and not config["clip"] > 0:
        raise ValueError(f"--clip must be > 0, got {config['clip']}")
    if config["radius"] is not None and not config["radius"] > 0:
        raise ValueError(f"--radius must be > 0, got {config['radius']}")
    if config["forget_bias"] is not None:
        if "f" not in Cell.gate_names:
            raise ValueError(
                f"--forget-bias applies to the lstm cell only, not to {config['cell']}"
            )
        if not math.isfinite(config["forget_bias"]):
            raise ValueError(f"--forget-bias must be a finite number, got {config['forget_bias']}")
    k1, k2 = config["k1"], config["k2"]
    if k1 is not None or k2 is not None:
        k1, k2 = k1 or k2, k2 or k1  # one given: the other equals it
        if k1 < 1 or k2 < k1:
            raise ValueError(
                f"truncated BPTT needs 1 <= k1 <= k2 (every k1 steps, backpropagate "
                f"through the last k2), got k1={k1}, k2={k2}"
            )
        config["k1"], config["k2"] = int(k1), int(k2)
    return config


def recurrent_layers(model):
    """The RNN/LSTM/GRU stacks inside a model (an encoder-decoder has two)."""
    return [m for m in model.modules() if isinstance(m, (nn.RNN, nn.LSTM, nn.GRU))]


def seed_sequence(seed, step):
    """The entropy of training batch `step`; evaluation draws from `step = -1`'s stream."""
    key = (1,) if step < 0 else (0, int(step))
    return np.random.SeedSequence(int(seed), spawn_key=key)


def sequence_loss(task, prediction, y, mask, count):
    """(sum of the per-element losses of these steps) / count, count being the number of
    loss elements in the whole batch: chunks then add up to the batch's mean loss."""
    if task.output == "float":
        diff = prediction - np.asarray(y, dtype=prediction.data.dtype)
        return (diff * diff).sum() * (1.0 / count)
    classes = prediction.shape[-1]
    logits, target = prediction.reshape(-1, classes), np.asarray(y).reshape(-1)
    if mask is not None:
        rows = np.flatnonzero(np.asarray(mask).reshape(-1))
        logits, target = logits[rows], target[rows]
    return F.cross_entropy(logits, target, reduction="sum") * (1.0 / count)


def loss_count(task, batch):
    if batch.mask is not None:
        return int(batch.mask.sum())
    return int(np.asarray(batch.y).size)


def backward_batch(model, task, batch, k1=None, k2=None, keep=None):
    """Accumulate d(loss)/d(params) into `.grad` (full or truncated BPTT); return the loss.
    With a dict `keep`, the batch's final prediction (an N-vs-1 task's output) goes into
    keep["prediction"]."""
    count = loss_count(task, batch)
    if not isinstance(model, (Tagger, Classifier)):
        prediction = model(batch.x, batch.y_in)
        loss = sequence_loss(task, prediction, batch.y, batch.mask, count)
        loss.backward()
        if keep is not None:
            keep["prediction"] = prediction.data
        return float(loss.data)
    T = batch.x.shape[0]
    k1, k2 = k1 or T, k2 or T
    if k1 < T and model.rnn.bidirectional:  # (k2 >= k1) the reverse direction needs all of x
        raise ValueError(
            "truncated BPTT reads the sequence forwards: it needs a unidirectional model"
        )
    kept = {}  # t -> detached state after step t
    total = 0.0
    for c0 in range(0, T, k1):
        c1 = min(c0 + k1, T)
        if model.per_step or c1 == T:
            w0 = max(0, c1 - k2)
            prediction, unrolled = model.read(batch.x[w0:c1], kept.get(w0 - 1))
            if model.per_step:
                mask = None if batch.mask is None else batch.mask[c0:c1]
                loss = sequence_loss(task, prediction[c0 - w0 :], batch.y[c0:c1], mask, count)
            else:
                loss = sequence_loss(task, prediction, batch.y, None, count)
                if keep is not None:
                    keep["prediction"] = prediction.data
            loss.backward()
            total += float(loss.data)
        else:
            w0 = c0
            with no_grad():
                _, unrolled = model.read(batch.x[c0:c1], kept.get(c0 - 1))
        if c1 < T:
            # a later chunk's graph may start anywhere in the last k2 steps: keep them all
            for t in range(max(w0, c1 - k2), c1):
                if t not in kept:
                    kept[t] = state_after(unrolled, t - w0)
    return total


class Run:
    """One training run: config, task, model, optimizer and the number of steps taken.

    `Run(config)` starts one; `Run.resume(path)` continues a checkpointed one.
    """

    def __init__(self, config, _restore=None, need_data=True):
        self.config = config
        self.task = _task(config, _restore, need_data)
        # before any array is made: --hidden 100000 or --length 100000 is refused at once,
        # with the numbers, instead of running out of memory or time
        limits.check_training(config, self.task)
        nn.manual_seed(config["seed"])
        self.model = build_model(
            self.task,
            cell=config["cell"],
            hidden=config["hidden"],
            layers=config["layers"],
            bidirectional=config["bidirectional"],
            nonlinearity=config["nonlinearity"],
            embed=config["embed"],
            reverse_source=config["reverse_source"],
        )
        if config["radius"] is not None:
            from .lecture import set_recurrent_radius

            for rnn in recurrent_layers(self.model):
                set_recurrent_radius(rnn, config["radius"], "orthogonal", config["seed"])
        if config.get("forget_bias") is not None:
            from .lecture import set_forget_bias

            set_forget_bias(self.model, config["forget_bias"])
        if config["dtype"] == "float32":
            self.model.to(np.float32)
        if config["k1"] is not None and not isinstance(self.model, (Tagger, Classifier)):
            raise ValueError(
                f"--k1/--k2 apply to the tasks read by one recurrent layer stack "
                f"(adding, intent, tagging, sine, text), not to '{config['task']}'"
            )
        self.params = list(self.model.named_parameters())
        self.optimizer = OPTIMIZERS[config["optim"]]([p for _, p in self.params], lr=config["lr"])
        self.step = 0
        self.diverged = None
        self.recent_errors = np.zeros(0)  # adding1997: |error| of recent training sequences
        if _restore is not None:
            vocab = getattr(self.task, "vocab", None)
            if "vocab" in _restore.extra and list(vocab) != _restore.extra["vocab"]:
                raise CheckpointError(
                    f"{_restore.path}: the task's vocabulary is not the one the model was "
                    f"trained on (did {config['text'] or 'the text'} change?)"
                )
            restore(_restore, self.model, self.optimizer)
            self.step = _restore.step
            for group in self.optimizer.param_groups:
                group["lr"] = config["lr"]

    @classmethod
    def resume(cls, path, need_data=True, **overrides):
        """Rebuild the run saved in `path`; `overrides` may change training options (steps,
        lr, clip, ...) but not the model's structure, which must match the checkpoint.
        With need_data=False (sampling), a text model whose text file is gone is rebuilt
        from the vocabulary the checkpoint carries."""
        checkpoint = load_checkpoint(path)
        saved = checkpoint.config
        if overrides.get("text") is not None:
            overrides = {**overrides, "text": os.path.abspath(overrides["text"])}
        clashes = [
            f"--{k.replace('_', '-')} {overrides[k]!r} (it was trained with {saved.get(k)!r})"
            for k in STRUCTURE
            if overrides.get(k) is not None and overrides[k] != saved.get(k)
        ]
        if clashes:
            raise CheckpointError(f"{path} does not match " + ", ".join(clashes))
        training = {k: v for k, v in overrides.items() if k not in STRUCTURE}
        if training.get("optim") is not None and training["optim"] != saved["optim"]:
            raise CheckpointError(f"{path} holds {saved['optim']} state, not {training['optim']}")
        try:
            config = make_config(
                **{**saved, **{k: v for k, v in training.items() if v is not None}}
            )
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: its config is not usable ({exc})") from None
        try:
            return cls(config, _restore=checkpoint, need_data=need_data)
        except CheckpointError:
            raise
        except (TypeError, ValueError) as exc:  # a config no model can be built from
            raise CheckpointError(f"{path}: its config is not usable ({exc})") from None

    def train_step(self):
        """One batch: gradient (full or truncated), clipping, update. Returns the log record."""
        config = self.config
        batch = self.task.batch(config["batch"], seed_sequence(config["seed"], self.step))
        step = self.step + 1
        self.optimizer.zero_grad()
        # overflow is an outcome to report (the exploding-gradient experiment), not a warning
        keep = {} if hasattr(self.task, "sequence_errors") else None
        with np.errstate(over="ignore", invalid="ignore"):
            loss = backward_batch(
                self.model, self.task, batch, config["k1"], config["k2"], keep=keep
            )
        if keep and "prediction" in keep:
            errors = self.task.sequence_errors(keep["prediction"], batch)
            self.recent_errors = np.concatenate([self.recent_errors, errors])[-self._window :]
        params = [p for _, p in self.params]
        max_norm = config["clip"] if config["clip"] is not None else math.inf
        grad_norm = optim.clip_grad_norm_(params, max_norm)
        clipped = config["clip"] is not None and grad_norm > config["clip"]
        record = {"step": step, "loss": loss, "grad_norm": grad_norm, "clipped": bool(clipped)}
        if not (math.isfinite(loss) and math.isfinite(grad_norm)):
            # the update would write inf/NaN into every weight: stop here and say so; the
            # weights (and self.step) stay those of the last completed step
            self.diverged = step
            record["diverged"] = True
            return record
        self.optimizer.step()
        self.step = step  # only now is the step complete (an interrupt before leaves none)
        return record

    def fit(self, steps=None, on_step=None):
        """Train until `steps` (default: the config's) have been taken; returns the records."""
        steps = self.config["steps"] if steps is None else steps
        records = []
        while self.step < steps and self.diverged is None:
            record = self.train_step()
            every = self.config["eval_every"]
            if every and (self.step % every == 0 or self.step == steps) and not self.diverged:
                found = self.evaluation()
                record["eval"] = found["metric"]
                record["eval_standard_error"] = found["standard_error"]
                record.update(self._extras(found))
                # the log then says what the number is and what it must beat (plot reads it)
                record["metric"], record["baseline"] = self.task.metric, self.task.baseline
            records.append(record)
            if on_step is not None:
                on_step(record)
        return records

    @property
    def _window(self):
        return getattr(self.task, "stop_window", 0)

    def stopping_criterion(self):
        """Hochreiter & Schmidhuber's stopping test for adding1997, on the most recent
        training sequences of this process (their errors made before each update): a dict
        with `holds` (mean squared error below 0.01 and all of the last 2,000 correct),
        `sequences` seen, `wrong` among them and `mse`; None for other tasks."""
        if not self._window:
            return None
        errors = self.recent_errors
        n = len(errors)
        mse = float(np.mean(errors**2)) if n else float("nan")
        wrong = int(np.sum(errors >= self.task.tolerance))
        holds = n >= self._window and wrong == 0 and mse < self.task.stop_error
        return {"holds": bool(holds), "sequences": n, "wrong": wrong, "mse": mse}

    def stopping_line(self):
        """The final line for adding1997: does the paper's stopping criterion hold?"""
        found = self.stopping_criterion()
        if found is None:
            return None
        n, window = found["sequences"], self._window
        if n < window:
            return (
                f"1997 stopping criterion (last {window} training sequences all within "
                f"{self.task.tolerance:g}, mean squared error < {self.task.stop_error:g}): "
                f"not reached, only {n} training sequences in this run"
            )
        return (
            f"1997 stopping criterion: {'holds' if found['holds'] else 'does not hold'} "
            f"(last {window} training sequences: {found['wrong']} with |error| >= "
            f"{self.task.tolerance:g}, mean squared error {found['mse']:.3g}, needs < "
            f"{self.task.stop_error:g} and none wrong)"
        )

    def evaluate(self):
        """The task metric on a fixed held-out batch (full BPTT forward, free-running decode)."""
        return self.evaluation()["metric"]

    def verdict_line(self, found):
        """One line: the test metric with its standard error against the baseline, and
        "beats the baseline" only when the margin is more than 3 standard errors."""
        task, metric, error = self.task, found["metric"], found["standard_error"]
        words = {
            "beats": "beats the baseline",
            "at": "at the baseline (chance): the difference is within 3 standard errors",
            "worse": "does not beat the baseline",
        }
        return (
            f"test {task.metric} {metric:.4g} +- {error:.2g} (standard error over "
            f"{self.config['eval_batch']} sequences) vs baseline {task.baseline:.4g} "
            f"({task.baseline_text}): {words[found['versus_baseline']]}"
        )

    @staticmethod
    def _extras(found):
        standard = ("metric", "standard_error", "versus_baseline")
        return {k: v for k, v in found.items() if k not in standard}

    def evaluation(self):
        """The held-out batch's metric, its standard error over the batch's sequences, how it
        compares with the baseline ("beats", "at" within 3 standard errors, "worse") and the
        task's extra numbers (adding1997: wrong_fraction), as a dict."""
        batch = self.task.batch(self.config["eval_batch"], seed_sequence(self.config["seed"], -1))
        task = self.task
        with np.errstate(over="ignore", invalid="ignore"):
            prediction = self.model.predict(batch)
            metric = task.score(prediction, batch)
            error = task.standard_error(prediction, batch)
            result = {"metric": metric, "standard_error": error}
            result["versus_baseline"] = task.compare(metric, error)
            result.update(task.extra_metrics(prediction, batch))
        return result

    def save(self, path):
        """Write the run at its last completed step (raises CheckpointError, leaving `path`
        as it was, if a weight is not finite)."""
        # token tasks keep their vocabulary with the weights: a changed text is caught on
        # load, and `sample` works from the checkpoint alone (vocabulary and first line)
        vocab = getattr(self.task, "vocab", None)
        extra = {} if vocab is None else {"vocab": list(vocab)}
        if self.task.name == "text":
            text = self.task.decode(self.task.data[:200])
            extra["prime"] = text.split("\n")[0] or text[:1]
        return save_checkpoint(path, self.model, self.optimizer, self.config, self.step, extra)


def _task(config, checkpoint, need_data):
    """The config's task; for sampling, a text task from the checkpoint when its file is gone."""
    options = {"path": config["text"]} if config["task"] == "text" else {}
    if config["task"] == "text" and not need_data and checkpoint is not None:
        from .tasks.language import TextTask, default_text_path

        path = config["text"] or default_text_path()
        extra = checkpoint.extra
        if not os.path.isfile(path) and isinstance(extra.get("vocab"), list):
            try:
                return TextTask.from_vocab(
                    extra["vocab"],
                    str(extra.get("prime") or extra["vocab"][0]),
                    config["length"] or 32,
                    path,
                )
            except ValueError as exc:
                raise CheckpointError(f"{checkpoint.path}: {exc}") from None
    return make_task(config["task"], length=config["length"], **options)


def train(config, on_step=None):
    """Run `config` from scratch; returns (run, records, test metric, seconds)."""
    run = Run(make_config(**config))
    start = time.perf_counter()
    records = run.fit(on_step=on_step)
    return run, records, run.evaluate(), time.perf_counter() - start
