"""Every file, dotted name and CLI option that README.md and docs/*.md mention exists.

A newcomer reads the docs with the code beside them: a path that moved, a function
that was renamed or an option that was dropped sends them looking for nothing.
The checks read the Markdown as it is, so a stale reference fails here by name."""

import importlib
import pathlib
import re
import shlex

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FOLDERS = ("tinygrad_rnn/", "viz/", "docs/", "examples/", "benchmarks/", "tests/", ".ci/")
SOURCE = (".py", ".md", ".js", ".css", ".html", ".ipynb", ".toml", ".txt")
# files a reader writes: a path to an output names no file of the project
WRITTEN = (".svg", ".dot", ".jsonl", ".npz", ".gif", ".csv", ".pdf")

# a bare name counts as the project's file when it is source; `walk.html` is the reader's
BARE = (".py", ".md", ".js", ".css", ".ipynb", ".toml")

BACKTICKS = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PATHLIKE = re.compile(
    r"^[\w./-]*[\w-]+\.[a-z]+$|^(?:" + "|".join(map(re.escape, FOLDERS)) + r")[\w./-]*$"
)
DOTTED = re.compile(r"(?<![\w/])tinygrad_rnn(?:\.\w+)+")
FROM_IMPORT = re.compile(
    r"^\s*from\s+(tinygrad_rnn(?:\.\w+)*)\s+import\s+\(?([\w\s,]+)\)?", re.MULTILINE
)


def _spans(text):
    """Backticked spans outside fenced blocks, and each line of the fenced blocks."""
    fenced = FENCE.findall(text)
    prose = FENCE.sub("", text)
    return BACKTICKS.findall(prose), [line for block in fenced for line in block.splitlines()]


def _by_file(collect):
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        found += [(doc.relative_to(ROOT).as_posix(), ref) for ref in collect(text)]
    return found


def _path_refs(text):
    spans, _ = _spans(text)
    for span in spans:
        for word in span.split():
            word = word.strip("(),:;'\"").split("::")[0].split(":")[0]
            if not PATHLIKE.match(word) or word.endswith(WRITTEN) or "*" in word:
                continue
            stem = word.rstrip("/").rsplit("/", 1)[-1].split(".")[0]
            if stem.isupper():
                continue  # a placeholder: `FILE.py`
            if (
                word.startswith(FOLDERS)
                or ("/" in word and word.endswith(SOURCE))
                or word.endswith(BARE)
            ):
                yield word


def _exists(ref):
    if ref.startswith("/"):
        return True  # an absolute path is the reader's machine, not the project
    if (ROOT / ref).exists():
        return True
    if "/" in ref.rstrip("/"):
        # a path written from inside its package (`nn/cells.py`, `analysis/bptt.py`)
        return (ROOT / "tinygrad_rnn" / ref).exists()
    name = ref.rstrip("/")
    return any(p.name == name for p in ROOT.rglob(name) if ".git" not in p.parts)


def test_docs_paths_every_mentioned_file_exists():
    missing = [f"{doc}: `{ref}`" for doc, ref in _by_file(_path_refs) if not _exists(ref)]
    assert missing == [], "files the docs mention that do not exist:\n" + "\n".join(missing)


def _dotted_refs(text):
    for name in DOTTED.findall(text):
        yield name
    for module, names in FROM_IMPORT.findall(text):
        for name in names.replace("\n", " ").split(","):
            if name.split() and name.split()[0] != "*":
                yield f"{module}.{name.split()[0]}"


def resolve(dotted):
    """The object a dotted name names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)  # AttributeError names what is missing
        return obj
    raise ImportError(dotted)


LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_docs_paths_every_link_and_picture_exists():
    """`[text](path)` and `![alt](img/x.png)`, relative to the page, name files that exist."""
    missing = []
    for doc in DOCS:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            target = target.split("#")[0]
            if target and "://" not in target and not target.startswith("mailto:"):
                if not (doc.parent / target).exists():
                    missing.append(f"{doc.relative_to(ROOT).as_posix()}: ({target})")
    assert missing == [], "links to files that do not exist:\n" + "\n".join(missing)


def _moved(ref):
    """The module at ref only re-exports a module that moved (its docstring says where)."""
    path = ROOT / ref
    if not ref.endswith(".py") or not path.is_file():
        return False
    return path.read_text(encoding="utf-8").lstrip('"\n').startswith("Moved to")


def test_docs_paths_prose_names_the_new_place_of_a_moved_module():
    """Old import paths keep working, but the docs teach where the code lives now."""
    old = [f"{doc}: `{ref}`" for doc, ref in _by_file(_path_refs) if _moved(ref)]
    assert old == [], "the docs point at a re-export module, not its new place:\n" + "\n".join(old)


def test_docs_paths_every_dotted_name_resolves():
    missing = []
    for doc, ref in sorted(set(_by_file(_dotted_refs))):
        try:
            resolve(ref)
        except (ImportError, AttributeError) as error:
            missing.append(f"{doc}: {ref} ({error})")
    assert missing == [], "names the docs mention that do not exist:\n" + "\n".join(missing)


QUALIFIED = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)(?:\(.*\))?$")


def project_index():
    """Every project module by its short name, every class by its name."""
    import inspect
    import pkgutil

    modules, classes = {}, {}
    names = ["cli", "cli_types"]
    for package in ("tinygrad_rnn", "viz"):
        names.append(package)
        root = importlib.import_module(package)
        names += [m.name for m in pkgutil.walk_packages(root.__path__, package + ".")]
    for name in names:
        module = importlib.import_module(name)
        for short in {name, name.split(".", 1)[-1], name.rsplit(".", 1)[-1]}:
            modules.setdefault(short, []).append(module)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name:
                classes.setdefault(cls.__name__, []).append(cls)
    return modules, classes


def _has(obj, attr):
    """obj.attr exists, or obj is a class whose code sets self.attr."""
    import inspect

    if hasattr(obj, attr):
        return True
    if inspect.isclass(obj):
        try:
            return (
                re.search(r"self\." + re.escape(attr) + r"\b", inspect.getsource(obj)) is not None
            )
        except (OSError, TypeError):
            return False
    return False


def _qualified_refs(text):
    spans, _ = _spans(text)
    for span in spans:
        match = QUALIFIED.match(span.strip())
        suffix = "." + match.group(1).rsplit(".", 1)[-1] if match else ""
        if (
            match
            and suffix not in SOURCE + WRITTEN + (".png", ".html")
            and not match.group(1).startswith("tinygrad_rnn.")
        ):
            yield match.group(1)


def qualified_problem(ref, index):
    """Why `module.name` or `Class.attr` (as the docs write them) names nothing, or None."""
    modules, classes = index
    head, *rest = ref.split(".")
    if head in modules:
        for start in modules[head]:
            obj = start
            for attr in rest:
                if not _has(obj, attr):
                    sub = f"{getattr(obj, '__name__', '')}.{attr}"
                    try:
                        obj = importlib.import_module(sub)
                        continue
                    except ImportError:
                        break
                obj = getattr(obj, attr, None)
            else:
                return None
        return f"no {ref} in " + ", ".join(m.__name__ for m in modules[head])
    if head in classes and len(rest) == 1:
        if any(_has(cls, rest[0]) for cls in classes[head]):
            return None
        return f"class {head} has no {rest[0]}"
    return None  # not a project name (np.add.at, torch..., a reader's variable)


def test_docs_paths_every_module_and_class_attribute_exists():
    index = project_index()
    problems = []
    for doc, ref in sorted(set(_by_file(_qualified_refs))):
        problem = qualified_problem(ref, index)
        if problem:
            problems.append(f"{doc}: `{ref}`: {problem}")
    assert problems == [], "names the docs mention that do not exist:\n" + "\n".join(problems)


def _commands(text):
    spans, lines = _spans(text)
    for line in [*spans, *lines]:
        line = line.strip().lstrip("$ ").strip()
        start = line.find("tinygrad-rnn ")
        if start < 0:
            continue
        line = line[start:].split("#")[0].split("|")[0].split("&&")[0].split(";")[0]
        try:
            yield tuple(shlex.split(line)[1:])
        except ValueError:  # an unbalanced quote in prose: read the plain words
            yield tuple(line.split()[1:])


def _options(command):
    names = set()
    for param in command.params:
        names.update(getattr(param, "opts", ()))
        names.update(getattr(param, "secondary_opts", ()))
    return names | {"--help", "-h"}


def cli_problems(words):
    """What is wrong with `tinygrad-rnn WORDS...`: unknown command, unknown option."""
    import click

    import cli

    command, path = cli.main, ["tinygrad-rnn"]
    problems = []
    for word in words:
        if word.startswith("-"):
            option = word.split("=")[0]
            if option.startswith("--") or len(option) == 2:
                if option not in _options(command):
                    problems.append(f"{' '.join(path)} has no option {option}")
            continue
        if isinstance(command, click.Group):
            if word in command.commands:
                command = command.commands[word]
                path.append(word)
            elif word.isidentifier() and word.islower() and len(path) == 1:
                problems.append(f"tinygrad-rnn has no command {word!r}")
                break
    return problems


# what a mention in prose cannot satisfy: the reader's files, a command quoted in part
NOT_A_PROBLEM_IN_PROSE = ("does not exist", "requires an argument", "unexpected extra argument")


def value_problems(words):
    """What click says about `tinygrad-rnn WORDS...` as a command line: a choice that is not
    one (`--cell xyz`), a number that is not one. Nothing runs: only the options are parsed."""
    import click

    import cli

    command, rest, path = cli.main, list(words), ["tinygrad-rnn"]
    while rest and isinstance(command, click.Group) and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    if isinstance(command, click.Group) or any(w == "..." or w.isupper() for w in rest):
        return []  # a group alone, or a placeholder (N, CKPT, ...) in place of a value
    try:
        command.make_context(" ".join(path), rest)
    except click.exceptions.Exit:
        return []
    except click.UsageError as error:
        message = error.format_message()
        if not any(reason in message for reason in NOT_A_PROBLEM_IN_PROSE):
            return [f"{' '.join(path)} {' '.join(rest)}: {message}"]
    return []


def test_docs_paths_every_cli_command_and_option_exists():
    pytest.importorskip("click")
    problems = []
    for doc, words in sorted(set(_by_file(_commands))):
        if words and words[0] in ("CMD", "COMMAND", "..."):
            continue
        problems += [f"{doc}: {p}" for p in cli_problems(words) or value_problems(words)]
    assert problems == [], "commands the docs mention that do not exist:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("the sum lives in `tinygrad_rnn/gone_module.py`", "path"),
        ("colours come from `viz/colors.py`", "path"),
        ("the sum over k is `tinygrad_rnn/bptt.py`", "moved"),
        ("call `tinygrad_rnn.analysis.bptt.no_such_function`", "dotted"),
        ("from tinygrad_rnn.tasks import NoSuchTask\n", "dotted"),
        ("the walk is `autograd.no_such_walk`", "qualified"),
        ("each cell owns `LSTMCell.no_such_method`", "qualified"),
        ("run `tinygrad-rnn render --no-such-option 3`", "cli"),
        ("run `tinygrad-rnn frobnicate --steps 3`", "cli"),
    ],
)
def test_docs_paths_a_stale_reference_is_caught(text, kind):
    """The checks above would catch each kind of stale reference."""
    if kind == "path":
        assert [ref for ref in _path_refs(text) if not _exists(ref)]
    elif kind == "dotted":
        refs = list(_dotted_refs(text))
        assert refs
        with pytest.raises((ImportError, AttributeError)):
            for ref in refs:
                resolve(ref)
    elif kind == "moved":
        assert [ref for ref in _path_refs(text) if _moved(ref)]
    elif kind == "qualified":
        assert [qualified_problem(ref, project_index()) for ref in _qualified_refs(text)] != [None]
    else:
        pytest.importorskip("click")
        assert cli_problems(next(_commands(text)))


def _every_command():
    """(`tinygrad-rnn exercise check`, click command) for every command and subcommand."""
    import click

    import cli

    todo, found = [("tinygrad-rnn", cli.main)], []
    while todo:
        path, command = todo.pop()
        found.append((path, command))
        if isinstance(command, click.Group):
            todo += [(f"{path} {name}", sub) for name, sub in command.commands.items()]
    return found


def help_texts():
    """Each command's --help: its docstring and every option's help, as click prints them."""
    for path, command in _every_command():
        texts = [command.help or "", command.short_help or ""]
        texts += [getattr(p, "help", None) or "" for p in command.params]
        yield path, "\n".join(texts)


def _help_paths(text):
    for word in re.findall(r"[\w./-]+", text):
        word = word.rstrip(".")
        if "/" in word and (word.startswith(FOLDERS) or word.endswith(SOURCE)):
            yield word


def test_docs_paths_every_file_a_help_text_names_exists():
    pytest.importorskip("click")
    missing = [
        f"{path} --help: {ref}"
        for path, text in help_texts()
        for ref in _help_paths(text)
        if not _exists(ref) or _moved(ref)
    ]
    assert missing == [], "files --help names that do not exist or moved:\n" + "\n".join(missing)


def test_docs_paths_every_example_in_a_help_text_names_real_options():
    """The `tinygrad-rnn ...` example lines of every --help use commands and options that exist."""
    pytest.importorskip("click")
    problems = []
    for path, text in help_texts():
        examples = [line for line in text.splitlines() if line.strip().startswith("tinygrad-rnn ")]
        for words in _commands("```\n" + "\n".join(examples) + "\n```\n"):
            if words and words[0] not in ("CMD", "COMMAND"):
                problems += [
                    f"{path} --help: {p}" for p in cli_problems(words) or value_problems(words)
                ]
    assert problems == [], "\n".join(problems)


def test_docs_paths_help_checks_catch_a_stale_path_and_option():
    assert list(_help_paths("the table (tinygrad_rnn/gone.py).")) == ["tinygrad_rnn/gone.py"]
    assert not _exists("tinygrad_rnn/gone.py")
    assert _moved("tinygrad_rnn/bptt.py")
    pytest.importorskip("click")
    assert cli_problems(next(_commands("```\n  tinygrad-rnn bptt --no-such 3\n```\n")))


@pytest.mark.parametrize(
    "line",
    [
        "tinygrad-rnn render --cell xyz",
        "tinygrad-rnn bptt --steps many",
        "tinygrad-rnn train --task nope",
    ],
)
def test_docs_paths_a_value_click_refuses_is_caught(line):
    pytest.importorskip("click")
    assert value_problems(next(_commands(f"`{line}`")))


def test_docs_paths_a_readers_file_is_not_a_problem():
    pytest.importorskip("click")
    assert value_problems(next(_commands("`tinygrad-rnn bptt --load echo.npz --sample 0`"))) == []


SCRIPT = re.compile(r"python ((?:benchmarks|docs|examples|tests)/[\w/]+\.py)([^`|)\n]*)")


def script_problems(text):
    """`python benchmarks/x.py --opt ...`: the script exists and its source names each --opt."""
    for script, args in SCRIPT.findall(text):
        path = ROOT / script
        if not path.is_file():
            yield f"{script} does not exist"
            continue
        source = path.read_text(encoding="utf-8")
        for word in args.split():
            option = word.split("=")[0]
            if (
                option.startswith("--")
                and f'"{option}"' not in source
                and f"'{option}'" not in source
            ):
                yield f"{script} has no option {option}"


def test_docs_paths_every_script_command_names_real_options():
    problems = [f"{doc}: {p}" for doc, p in _by_file(script_problems)]
    assert problems == [], "\n".join(problems)


def test_docs_paths_a_stale_script_option_is_caught():
    assert list(script_problems("`python benchmarks/classic.py adding --no-such-flag`"))
    assert list(script_problems("`python benchmarks/gone.py`"))
    assert not list(script_problems("`python benchmarks/classic.py adding --seeds 5`"))
