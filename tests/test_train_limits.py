"""`train` refuses a batch graph with too many nodes before any work, as render and step do:
the node count is predicted from four tiny builds (limits.train_nodes)."""

import pytest
from click.testing import CliRunner

from cli import main
from tinygrad_rnn import limits, topo_order
from tinygrad_rnn.tasks import make_task
from tinygrad_rnn.tasks.models import Classifier, Tagger, build_model
from tinygrad_rnn.train import loss_count, make_config, sequence_loss


def _real_nodes(config):
    """The node count of one batch's loss graph, built (small sizes: the count is the same)."""
    task = make_task(config["task"], length=config["length"])
    model = build_model(
        task,
        cell=config["cell"],
        hidden=2,
        layers=config["layers"],
        bidirectional=config["bidirectional"],
        embed=3,
    )
    batch = task.batch(3, 1)
    reads = isinstance(model, (Tagger, Classifier))
    prediction = model.read(batch.x)[0] if reads else model(batch.x, batch.y_in)
    return len(
        topo_order([sequence_loss(task, prediction, batch.y, batch.mask, loss_count(task, batch))])
    )


@pytest.mark.parametrize(
    "options",
    [
        {"task": "adding", "length": 30, "cell": "lstm", "layers": 3},
        {"task": "sine", "length": 20, "cell": "gru", "bidirectional": True, "layers": 2},
        {"task": "echo", "length": 25, "cell": "rnn"},
        {"task": "copy", "length": 12, "cell": "lstm", "layers": 2},
    ],
)
def test_train_nodes_predicts_the_batch_graph(options):
    config = make_config(**options)
    assert limits.train_nodes(config, options["length"]) == _real_nodes(config)


def test_a_long_sequence_is_refused_at_once_with_the_way_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["train", "--length", "30000", "--hidden", "1", "--batch", "1", "--eval-batch", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert "one training batch's graph (T = 30000) would have 480,0" in result.stderr
    assert "nodes (limit 400,000)" in result.stderr and "--k1 " in result.stderr
    # truncated BPTT keeps k2 steps: the same length is accepted
    config = make_config(task="adding", length=30000, hidden=1, batch=1, k1=50, k2=50)
    assert limits.check_training(config, make_task("adding", length=30000)).nodes <= 1000
    # a decoder cannot be truncated: the advice says so by leaving it out
    result = CliRunner().invoke(main, ["train", "--task", "copy", "--length", "20000"] + args[3:])
    assert result.exit_code == 1 and "--k1" not in result.stderr, result.stderr
