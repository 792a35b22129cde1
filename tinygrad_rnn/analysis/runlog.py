"""Training logs (`train --log RUN.jsonl`) read back as columns, for `tinygrad-rnn plot`.

One JSON object per line: {"step", "loss", "grad_norm", "clipped"}, plus "eval", "metric"
and "baseline" on the steps that were evaluated (`--eval-every N`). A diverged step logs
null for a non-finite number. A resumed run appends to the same file; a step logged twice
keeps its last record.
"""

import json
import math
from pathlib import Path

__all__ = ["RunLog", "read_log"]


class RunLog:
    """Columns of one log: `steps`, `loss`, `grad_norm` (None where not finite), `clipped`
    (the steps whose gradient was clipped), `eval_steps`, `eval`, `metric`, `baseline`."""

    def __init__(self, name, records):
        self.name = name
        self.steps = [r["step"] for r in records]
        self.loss = [_number(r.get("loss")) for r in records]
        self.grad_norm = [_number(r.get("grad_norm")) for r in records]
        self.clipped = [r["step"] for r in records if r.get("clipped")]
        evaluated = [r for r in records if _number(r.get("eval")) is not None]
        self.eval_steps = [r["step"] for r in evaluated]
        self.eval = [r["eval"] for r in evaluated]
        self.metric = next((r["metric"] for r in evaluated if "metric" in r), "eval metric")
        self.baseline = next((r["baseline"] for r in evaluated if "baseline" in r), None)

    def summary(self):
        """One line: steps, the last finite loss, the last evaluation and its baseline,
        how many steps were clipped."""
        last = next((v for v in reversed(self.loss) if v is not None), None)
        if last is None:
            return f"{self.name}: {len(self.steps)} steps, no finite loss"
        evals = f", last {self.metric} {self.eval[-1]:.4g}" if self.eval else ""
        baseline = f" (baseline {self.baseline:.4g})" if self.baseline is not None else ""
        return (
            f"{self.name}: {len(self.steps)} steps, last loss {last:.4g}{evals}{baseline}, "
            f"{len(self.clipped)} clipped"
        )


def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def read_log(path):
    """A `RunLog` of the file at `path`, or ValueError naming the file and line at fault."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"log {path} does not exist")
    by_step = {}
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"log {path} is not text (is it a train --log?)") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise ValueError(f"{path}, line {number}: not JSON (is it a train --log?)") from None
        step = record.get("step") if isinstance(record, dict) else None
        if isinstance(step, bool) or not isinstance(step, int):
            raise ValueError(f"{path}, line {number}: a train --log record has a 'step'")
        by_step[step] = record
    if not by_step:
        raise ValueError(f"log {path} has no records")
    return RunLog(path.stem, [by_step[s] for s in sorted(by_step)])
