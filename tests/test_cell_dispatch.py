"""Cells say what they are: no code asks a cell's name.

The library, viz and the CLI read what differs between RNN, LSTM and GRU from the cell
classes (`Cell.state_names`, `gate_names`, `gates`, `has_cell_state`, `has_nonlinearity`),
never by comparing the name with "rnn" / "lstm" / "gru" or keeping a table keyed by those
names. The name becomes a class in one place: `nn.recurrent.LAYERS` (`layer_class`).
"""

import ast
import os

import pytest

from tinygrad_rnn import nn
from tinygrad_rnn.nn.recurrent import LAYERS, layer_class

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAMES = {"rnn", "lstm", "gru"}


def sources():
    """Every Python file of the library, viz and the CLI, relative to the repository."""
    for top in ("tinygrad_rnn", "viz"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in sorted(files):
                if name.endswith(".py"):
                    yield os.path.relpath(os.path.join(folder, name), ROOT)
    yield from ("cli.py", "cli_types.py")


def _is_name(node):
    if isinstance(node, ast.Constant):
        return node.value in NAMES if isinstance(node.value, str) else False
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_name(e) for e in node.elts)
    return False


def name_dispatch(tree):
    """(line, what) of every comparison with a cell's name and every dict keyed by one."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            _is_name(x) for x in [node.left, *node.comparators]
        ):
            found.append((node.lineno, "compares with a cell's name"))
        elif isinstance(node, ast.Dict) and any(k is not None and _is_name(k) for k in node.keys):
            found.append((node.lineno, "a table keyed by cell names"))
    return found


def test_no_code_dispatches_on_a_cell_name():
    bad = []
    for path in sources():
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        bad += [f"{path}:{line}: {what}" for line, what in name_dispatch(tree)]
    assert not bad, "ask the cell class instead:\n" + "\n".join(bad)


def test_the_checker_sees_each_form_of_dispatch():
    snippets = [
        'if cell == "lstm": pass',
        'x = 1 if "gru" != c else 2',
        'ok = cell in ("rnn", "lstm")',
        'GATES = {"rnn": 1, "lstm": 4}',
    ]
    for text in snippets:
        assert name_dispatch(ast.parse(text)), text
    assert not name_dispatch(ast.parse('build(cell="lstm"); CELLS = ["rnn", "lstm"]'))


def test_layers_is_the_one_mapping_and_says_what_each_cell_is():
    assert LAYERS == {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
    for name, Layer in LAYERS.items():
        Cell = Layer.Cell
        assert Layer.cell == Cell.cell == name
        assert Cell.state_names[0] == "h"
        assert Cell.has_cell_state == ("c" in Cell.state_names)
        assert len(Cell.gate_names) == (Cell.gates if Cell.gates > 1 else 0)
        layer = Layer(2, 3)
        assert layer.weight_ih_l0.shape == (Cell.gates * 3, 2)
    assert nn.LSTM.Cell is nn.LSTMCell and nn.GRU.Cell is nn.GRUCell
    assert nn.RNN.Cell.has_nonlinearity and not nn.LSTM.Cell.has_nonlinearity


def test_the_cli_offers_exactly_the_mapped_cells():
    from cli_types import CELLS

    assert CELLS == list(LAYERS)


@pytest.mark.parametrize("bad", ["cnn", "LSTM", "", None, 3])
def test_an_unknown_cell_name_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="unknown cell .*choose from rnn, lstm, gru"):
        layer_class(bad)


def test_names_in_titles_and_reports_come_from_the_class():
    from viz.bptt_text import with_article

    assert [L.title("relu") for L in LAYERS.values()] == ["RNN (relu)", "LSTM", "GRU"]
    assert [with_article(L.__name__) for L in LAYERS.values()] == ["an RNN", "an LSTM", "a GRU"]


def test_forget_bias_finds_the_forget_rows_from_the_gate_names():
    from tinygrad_rnn.lecture import set_forget_bias

    for module in (nn.LSTM(2, 3, num_layers=2), nn.LSTMCell(2, 3), nn.GRU(2, 3)):
        before = {n: p.data.copy() for n, p in module.named_parameters()}
        changed = set_forget_bias(module, 2.0)
        for name, p in module.named_parameters():
            if changed and name.startswith("bias_ih"):
                assert (p.data[3:6] == 2.0).all()
            elif changed and name.startswith("bias_hh"):
                assert (p.data[3:6] == 0.0).all()
            else:
                assert (p.data == before[name]).all()
        assert changed == {nn.LSTM: 2, nn.LSTMCell: 1, nn.GRU: 0}[type(module)]
