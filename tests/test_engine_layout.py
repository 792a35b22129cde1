"""The core stays readable: sizes from DESIGN §1 and no module-level import cycle."""

import ast
import functools
import importlib
import os
from pathlib import Path

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_NAME = "tinygrad_rnn"
PACKAGE = os.path.join(ROOT, PACKAGE_NAME)


def module_imports(path, name):
    """The tinygrad_rnn modules `name` imports at module level (not inside functions)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    package = name.rsplit(".", 1)[0] if not path.endswith("__init__.py") else name
    found = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom):
            if stmt.level:
                base = package.split(".")
                base = base[: len(base) - (stmt.level - 1)]
                target = ".".join(base + ([stmt.module] if stmt.module else []))
            else:
                target = stmt.module or ""
            if stmt.module is None or stmt.level and not stmt.module:
                found.update(f"{target}.{a.name}" for a in stmt.names)
            else:
                found.add(target)
        elif isinstance(stmt, ast.Import):
            found.update(a.name for a in stmt.names)
    return {m for m in found if m.startswith("tinygrad_rnn")}


def library_graph():
    graph = {}
    for folder, _, files in os.walk(PACKAGE):
        for file in files:
            if not file.endswith(".py"):
                continue
            path = os.path.join(folder, file)
            rel = os.path.relpath(path, ROOT)[: -len(".py")].replace(os.sep, ".")
            name = rel[: -len(".__init__")] if rel.endswith(".__init__") else rel
            graph[name] = module_imports(path, name)
    # `from . import x` names a module when x is one; otherwise it is a name in the package
    for name, deps in graph.items():
        graph[name] = {d if d in graph else d.rsplit(".", 1)[0] for d in deps} - {name}
    return graph


def find_cycle(graph):
    """A list of modules forming an import cycle, or None (iterative depth-first search)."""
    state = {}
    for start in sorted(graph):
        if start in state:
            continue
        state[start] = "open"
        stack, path = [(start, iter(sorted(graph[start])))], [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = "done"
                stack.pop()
                path.pop()
            elif state.get(child) == "open":
                return path[path.index(child) :] + [child]
            elif child not in state:
                state[child] = "open"
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)
    return None


def test_engine_library_has_no_module_level_import_cycle():
    graph = library_graph()
    assert {"tinygrad_rnn.ops", "tinygrad_rnn.tensor", "tinygrad_rnn.autograd"} <= set(graph)
    # packages' __init__ files re-export their modules by design; the modules must not
    # need each other in a circle (then import order would matter)
    packages = {"tinygrad_rnn", "tinygrad_rnn.nn", "tinygrad_rnn.analysis", "tinygrad_rnn.tasks"}
    modules = {n: deps - packages for n, deps in graph.items() if n not in packages}
    assert find_cycle(modules) is None, " -> ".join(find_cycle(modules))


def test_engine_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_engine_ops_needs_no_tensor():
    deps = library_graph()["tinygrad_rnn.ops"]
    assert "tinygrad_rnn.tensor" not in deps and "tinygrad_rnn.autograd" not in deps


def lines(name):
    with open(os.path.join(PACKAGE, name), encoding="utf-8") as f:
        return sum(1 for _ in f)


def test_engine_core_files_stay_within_their_size():
    assert lines("autograd.py") <= 350
    assert lines("tensor.py") <= 450


def test_engine_walk_reads_like_the_textbook_loop():
    with open(os.path.join(PACKAGE, "autograd.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    walk = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_walk")
    body = walk.end_lineno - walk.body[1].lineno + 1  # without the docstring
    assert body <= 30, body  # about 25 lines: set-up, checked rules and hooks are helpers


# Modules that moved, as (old path, new path): the old path stays a re-export module.
MOVED = [
    ("tinygrad_rnn.bptt", "tinygrad_rnn.analysis.bptt"),
    ("tinygrad_rnn.jacobians", "tinygrad_rnn.analysis.jacobians"),
    ("tinygrad_rnn.debugger", "tinygrad_rnn.analysis.debugger"),
    ("tinygrad_rnn.breakpoints", "tinygrad_rnn.analysis.breakpoints"),
    ("tinygrad_rnn.language_tasks", "tinygrad_rnn.tasks.language"),
    ("tinygrad_rnn.task_models", "tinygrad_rnn.tasks.models"),
]


def defined_public_names(module):
    """Public names a module defines itself (functions, classes, constants), not imports."""
    with open(module.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    return {n for n in names | set(getattr(module, "__all__", ())) if not n.startswith("_")}


@pytest.mark.parametrize("old, new", MOVED, ids=[old for old, _ in MOVED])
def test_engine_layout_old_import_path_gives_the_same_objects(old, new):
    old_module, new_module = importlib.import_module(old), importlib.import_module(new)
    assert old_module is not new_module and old_module.__doc__.startswith("Moved to")
    names = defined_public_names(new_module)
    assert names, new
    missing = sorted(n for n in names if not hasattr(old_module, n))
    assert not missing, f"{old} lost {missing}"
    for name in names | set(old_module.__all__):
        assert getattr(old_module, name) is getattr(new_module, name), f"{old}.{name}"
    # `from tinygrad_rnn import bptt` and `tinygrad_rnn.bptt.X` keep working
    parent, _, leaf = old.rpartition(".")
    exec(f"from {parent} import {leaf} as via_from", namespace := {})
    assert namespace["via_from"] is old_module


def test_engine_layout_package_reexports_bptt():
    import tinygrad_rnn
    from tinygrad_rnn.analysis import bptt

    assert tinygrad_rnn.bptt.analyze is bptt.analyze and "bptt" in tinygrad_rnn.__all__


def test_engine_layout_project_imports_moved_modules_from_their_new_place():
    """Only users go through the old paths: nothing in the project imports them."""
    old_paths = {old for old, _ in MOVED}
    found = []
    for path, package in project_files():
        for stmt in ast.walk(parsed(path)):
            if path.name == "__init__.py" and package == "tinygrad_rnn":
                continue  # the package re-exports `bptt` under its public name on purpose
            found += [(str(path), t) for t in imported_names(stmt, package) if t in old_paths]
    assert not found


@functools.cache
def parsed(path):
    return ast.parse(path.read_text(encoding="utf-8"))


def project_files():
    """(path, the package its relative imports start from) of every Python file in the project."""
    yield Path(ROOT, "cli.py"), ""
    for folder in ("tinygrad_rnn", "viz"):
        for path in sorted(Path(ROOT, folder).rglob("*.py")):
            yield path, ".".join(path.relative_to(ROOT).parent.parts)


def imported_names(stmt, package):
    """Dotted names an import statement reaches: `from .. import bptt` in tinygrad_rnn.analysis
    gives tinygrad_rnn and tinygrad_rnn.bptt (a module or a name in the package)."""
    if isinstance(stmt, ast.Import):
        return [a.name for a in stmt.names]
    if not isinstance(stmt, ast.ImportFrom):
        return []
    base = stmt.module or ""
    if stmt.level:
        parts = package.split(".")
        parts = parts[: len(parts) - (stmt.level - 1)]
        base = ".".join(parts + ([stmt.module] if stmt.module else []))
    return [base] + [f"{base}.{a.name}" for a in stmt.names]


# What `tinygrad_rnn.tasks` offered when it was one file, before it became a package
TASKS_NAMES = {
    "GO",
    "TASKS",
    "AddingProblem",
    "Batch",
    "CopyTask",
    "EarlyAddingProblem",
    "EchoTask",
    "GenerateTask",
    "IntentTask",
    "ReverseTask",
    "SineTask",
    "TaggingTask",
    "Task",
    "TextTask",
    "make_task",
}


def test_engine_layout_tasks_package_exports_what_the_module_did():
    import inspect

    from tinygrad_rnn import tasks
    from tinygrad_rnn.tasks import base, language, models, synthetic

    public = {n for n in dir(tasks) if not n.startswith("_")}
    assert {n for n in public if not inspect.ismodule(getattr(tasks, n))} == TASKS_NAMES
    assert set(tasks.__all__) == TASKS_NAMES
    assert tasks.AddingProblem is synthetic.AddingProblem and tasks.TextTask is language.TextTask
    assert tasks.Batch is base.Batch and models.build_model  # models is a module of the package
    assert tasks.make_task("echo", length=8).length == 8


def test_engine_layout_default_text_ships_inside_the_package():
    from tinygrad_rnn.tasks.language import default_text_path

    path = default_text_path()
    assert path.is_file() and path.parent.name == "data" and path.parent.parent.name == PACKAGE_NAME


def private_imports(stmt, package):
    """What an import statement takes that is private to another module: `from .clip import
    _name`, `from .. import _context`, `import viz._x` (dunder names such as __version__ are
    public)."""
    private = lambda name: name.startswith("_") and not name.endswith("__")
    reached = imported_names(stmt, package)
    if isinstance(stmt, ast.ImportFrom):
        reached = reached[:1] + [a.name for a in stmt.names]
    return [n for n in reached if any(private(part) for part in n.split("."))]


def test_engine_layout_no_private_name_is_imported_across_modules():
    found = []
    for path, package in project_files():
        tree = parsed(path)
        for stmt in ast.walk(tree):
            found += [
                f"{path.relative_to(ROOT)}:{stmt.lineno} {name}"
                for name in private_imports(stmt, package)
            ]
        found += [f"{path.relative_to(ROOT)}:{n} {name}" for n, name in private_reads(tree)]
    # shared helpers are public in the module that owns them (display.param_name,
    # tasks.base.check_length, files.write_atomic, viz.plots.pyplot, ops.normalise_axis...)
    assert not found, "private names used across modules:\n" + "\n".join(found)


def private_reads(tree):
    """(line, `name._private`) where a name imported from the project (a module such as
    `from . import ops`, or a class) has a private name read off it."""
    modules = set()
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.ImportFrom) and (stmt.level or is_project(stmt.module)):
            modules.update(a.asname or a.name for a in stmt.names)
        elif isinstance(stmt, ast.Import):
            modules.update(a.asname or a.name for a in stmt.names if is_project(a.name))
    return [
        (node.lineno, f"{node.value.id}.{node.attr}")
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in modules
        and node.attr.startswith("_")
        and not node.attr.endswith("__")
    ]


def is_project(module):
    return (module or "").split(".")[0] in ("tinygrad_rnn", "viz", "cli", "cli_types")


def test_engine_layout_private_import_finder_sees_each_form():
    forms = {
        "from .clip import _name": ["_name"],
        "from .. import _context": ["_context"],
        "from ._context import state": ["tinygrad_rnn._context"],
        "import viz._x": ["viz._x"],
        "from . import __version__": [],
        "from .modes import state as _state": [],
    }
    for code, expected in forms.items():
        assert private_imports(ast.parse(code).body[0], "tinygrad_rnn") == expected, code
    read = "from . import composite as _c\nimport sys\n_c._dims(1); _c.check_dim(); sys._getframe()"
    assert private_reads(ast.parse(read)) == [(3, "_c._dims")]


def test_engine_layout_no_function_is_called_just_run():
    """Four different things were once called `run`; each now says what it does
    (debugger.execute_lines, Group.bptt_pass, exercises' call_engine, models' `unrolled`)."""
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, _ in project_files()
        for node in ast.walk(parsed(path))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "run"
    ]
    assert not found, found


def architecture_map():
    """The files listed in docs/architecture.md's map: (path, what the line says)."""
    text = Path(ROOT, "docs", "architecture.md").read_text(encoding="utf-8")
    block = text.split("## Map", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    listed, folders = {}, []  # folders: (indent, "analysis/") of the lines above
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip())
        name, _, concept = line.strip().partition(" ")
        folders = [(i, f) for i, f in folders if i < indent]
        if name.endswith("/"):
            folders.append((indent, name))
        else:
            listed["".join(f for _, f in folders) + name] = concept.strip()
    return listed


def test_engine_layout_architecture_map_lists_every_module_once():
    listed = architecture_map()
    modules = {"cli.py", "cli_types.py"} | {
        str(p.relative_to(ROOT)).replace(os.sep, "/")
        for folder in ("tinygrad_rnn", "viz")
        for p in Path(ROOT, folder).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert sorted(modules - set(listed)) == [], "modules missing from the map"
    gone = [p for p in listed if not Path(ROOT, p).exists()]
    assert gone == [], "the map lists files that do not exist"
    assert all(listed.values()), [p for p, concept in listed.items() if not concept]
