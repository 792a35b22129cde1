"""cli.py stays a thin click layer: short functions, no numerics (DESIGN §7, §8).

A command's logic lives in the library (tinygrad_rnn/, numpy only) or in viz/, where it has
a docstring and a test of its own; cli.py parses options, calls one or two functions and
prints or writes what they return.
"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 40


def cli_tree():
    with open(os.path.join(ROOT, "cli.py"), encoding="utf-8") as f:
        return ast.parse(f.read())


def function_lengths(tree):
    """{name: lines} for every function in the tree, nested ones included. A function's
    lines run from its `def` line to its last line: the signature, the docstring (a
    command's --help) and the body count; the decorators above `def` (a command's click
    options) do not."""
    return {
        node.name: node.end_lineno - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def test_every_function_in_cli_is_at_most_40_lines():
    lengths = function_lengths(cli_tree())
    assert "bptt_command" in lengths and "train_command" in lengths
    long = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert not long, f"cli.py functions over {MAX_LINES} lines (def to end): {long}"


def test_function_lengths_count_the_signature_and_docstring_not_the_decorators():
    tree = ast.parse(
        "@click.option('--a')\n@click.option('--b')\ndef f(\n    a,\n    b,\n):\n"
        '    """Doc.\n\n    More."""\n    return a\n'
    )
    assert function_lengths(tree) == {"f": 8}


def numeric_uses(tree):
    """What in the tree computes with numbers: imports of numpy or math, and arithmetic
    (+ - * / // % ** @) between operands that are not string literals or f-strings (text is
    built with + and %)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in ("numpy", "math")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            "numpy",
            "math",
        ):
            found.append(node.module)
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and not isinstance(
            node.op, (ast.BitOr, ast.BitAnd, ast.BitXor, ast.LShift, ast.RShift)
        ):
            operands = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.value]
            if not any(_is_text(x) for x in operands):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def _is_text(node):
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def test_cli_does_no_arithmetic_and_imports_no_numpy():
    found = numeric_uses(cli_tree())
    assert not found, f"numerics in cli.py belong in the library: {found}"


def test_numeric_uses_finds_numpy_and_arithmetic_but_not_text():
    tree = ast.parse(
        "import numpy as np\nfrom math import isfinite\nx = a * 2\ny = 'a' + b\n"
        "z = f'{a}' + b\nw = b % 'x'\nv = a | b\n"
    )
    assert numeric_uses(tree) == ["numpy", "math", "line 3: a * 2"]
