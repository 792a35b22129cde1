"""Stepping through a backward pass: breakpoints and the session behind `tinygrad-rnn step`.

A backward pass is a list of steps, one per node, in reverse topological order (the order
`backward_steps` yields them): step k gives its node the complete gradient (the sum over
all its consumers) and sends a gradient along each input edge. Stopping "at" a node means
its step has just run: its `.grad` and `edge_grads()` are readable, the nodes after it
are not reached yet.

Breakpoints (`b` in the session, `--break` in the CLI) take the specs of
`backward_steps(loss, stop=...)`: a label (`h_2`), `t=2`, `#7`; see `breakpoints.py`.
`break_at(node)` pauses in pdb inside an ordinary `backward()`.

`Session` is a small state machine over one backward pass that reads command lines
(`n`, `c`, `b`, `p`, `w`, `l`, `g`, `h`, `q`) and returns text; it imports nothing but
numpy and the engine, so the CLI stays a thin loop around it and tests drive it directly.
"""

import numpy as np

from ..autograd import backward_steps, topo_order
from ..display import format_tags, quoted
from ..tensor import Tensor
from .breakpoints import Breakpoint, label_matches, positive_int, resolve_label, unquote

__all__ = [
    "Breakpoint",
    "Session",
    "SessionError",
    "break_at",
    "command_lines",
    "interact",
    "execute_lines",
    "typed_lines",
]


def break_at(node):
    """Pause in pdb when `node`'s gradient is complete: a hook that calls `breakpoint()`.

    In the debugger `grad` is the gradient and `tensor` the node; `up` shows the walk.
    Returns the hook handle (`.remove()` it to stop pausing).
    """

    def pause(grad):
        tensor = node  # noqa: F841  (a local, so that pdb's `p tensor` shows it)
        breakpoint()

    return node.register_hook(pause)


# ----- the interactive session -------------------------------------------------------------

HELP = """commands:
  n [K]        run the next K steps (default 1) and print them
  c            continue to the next breakpoint or the end
  b LABEL      break at every node with this label (b h_2, b 'x_2 W_ih^T')
  b t=K        break where the pass enters time step K (also b t=2 layer=1, b #7)
  b            list the breakpoints
  p LABEL      print a node: value, grad, shape, tags, edge gradients (also p #K)
  w            where: step i of n, the nodes done, the nodes waiting for gradient
  l [K]        list the next K steps (default 5) without running them
  g FILE       render the graph: done nodes coloured by gradient, the current one marked
  h            this help
  q            quit
at a terminal, Enter repeats the last n or c"""


class SessionError(ValueError):
    """A bad command or argument: the session prints it with the help and goes on."""


class Session:
    """One backward pass of `root`, advanced by commands; see the module docstring.

    `render(session, path)` draws the graph for `g` (the CLI passes one built on viz;
    the library cannot import viz). `write_path(name)` maps a `g` file name to the path
    to write (the CLI keeps files inside `--out`).
    """

    def __init__(self, root, grad=None, render=None, write_path=None):
        self.root = root
        self.order = list(reversed(topo_order([root])))  # the walk's order, step k = order[k-1]
        self.total = len(self.order)
        self.position = {node: k for k, node in enumerate(self.order, start=1)}
        self.consumers = {node: 0 for node in self.order}
        for node in self.order:
            # distinct consumers: `a * a` sends both of its edges in one step
            for inp in dict.fromkeys(node.inputs):
                if inp in self.consumers:
                    self.consumers[inp] += 1
        self.done_consumers = dict.fromkeys(self.order, 0)
        self.steps = []
        self.errors = 0  # commands that failed (unknown, or a bad argument)
        self.by_node = {}
        self.breakpoints = []
        self.finished = False
        self.quit = False
        self._render = render
        self._write_path = write_path
        self._walk = backward_steps(root, grad)

    # ----- state -------------------------------------------------------------------------
    @property
    def current(self):
        """The last step that ran (None before the first)."""
        return self.steps[-1] if self.steps else None

    @property
    def ran(self):
        """How many steps ran (a node that received no gradient is passed over)."""
        return self.steps[-1].index if self.steps else 0

    @property
    def prompt(self):
        return f"(step {self.ran}/{self.total}) "

    def banner(self):
        value = np.format_float_positional(float(np.sum(self.root.data)), precision=6, trim="-")
        return (
            f"backward pass of {quoted(self.root)} = {value}: {self.total} steps, one per node "
            "in reverse topological order; h for help"
        )

    def grads(self):
        """{node: gradient} of the nodes done so far (what `g` colours)."""
        return {s.node: s.grad for s in self.steps}

    def advance(self):
        """Run one step; return it, or None when the pass is finished."""
        if self.finished:
            return None
        step = next(self._walk, None)
        if step is None:
            self.finished = True
            return None
        self.steps.append(step)
        self.by_node[step.node] = step
        for inp in dict.fromkeys(step.node.inputs):
            if inp in self.done_consumers:
                self.done_consumers[inp] += 1
        if step.index == self.total:
            self.finished = True
        return step

    def hit(self, step):
        """The numbers (from 1) of the breakpoints this step matches."""
        return [k for k, b in enumerate(self.breakpoints, start=1) if b.matches(step)]

    # ----- commands ----------------------------------------------------------------------
    def execute(self, line):
        """Run one command line; return the text to print (bad commands give help)."""
        words = line.strip().split(None, 1)
        if not words:
            return ""
        command, arg = words[0], (words[1].strip() if len(words) > 1 else "")
        handler = self._COMMANDS.get(command)
        try:
            if handler is None:
                raise SessionError(f"unknown command {command!r}")
            return handler(self, arg)
        except SessionError as exc:
            self.errors += 1  # a script that went wrong must not end as a success
            if handler is None:
                return f"error: {exc}\n{HELP}"
            # a known command with a bad argument: its own help lines are enough
            usage = [ln for ln in HELP.splitlines() if ln.startswith(f"  {command[0]} ")]
            return f"error: {exc}\n" + "\n".join(usage) + "\n(h for all commands)"

    def cmd_next(self, arg):
        count = _count(arg, 1, "n")
        lines = []
        for _ in range(count):
            step = self.advance()
            if step is None:
                lines.append(self._finished_text())
                break
            lines.append(self._step_line(step, self.hit(step)))
        return "\n".join(lines)

    def cmd_continue(self, arg):
        if arg:
            raise SessionError("c takes no argument")
        skipped = 0
        while True:
            step = self.advance()
            if step is None:
                return self._finished_text(skipped)
            hits = self.hit(step)
            if hits:
                text = f"  ... {skipped} steps ...\n" if skipped else ""
                text += self._step_line(step, hits)
                return text + ("\n" + self._finished_text() if self.finished else "")
            if self.finished:
                text = f"  ... {skipped} steps ...\n" if skipped else ""
                return text + self._step_line(step, []) + "\n" + self._finished_text()
            skipped += 1

    def cmd_break(self, arg):
        if not arg:
            if not self.breakpoints:
                return "no breakpoints"
            return "\n".join(f"{k}: {b}" for k, b in enumerate(self.breakpoints, start=1))
        try:
            return self.add_breakpoint(arg)
        except ValueError as exc:
            raise SessionError(str(exc)) from None

    def add_breakpoint(self, spec):
        """Add a breakpoint (see the module docstring); ValueError if it can never match."""
        point = Breakpoint(spec, self.order)
        if point.label is not None:
            count = sum(1 for n in self.order if label_matches(n.label, point.label))
            if not count:
                raise ValueError(f"no node labelled {point.label!r}; {self._labels_hint()}")
            where = f"{count} node{'s' if count != 1 else ''}"
        elif point.tags is not None:
            first = next((n for n in self.order if point.tags_match(n)), None)
            if first is None:
                raise ValueError(f"no node is tagged {spec}")
            k = self.position[first]
            where = f"step {k}, {node_name(first)}"
            if k <= self.ran:
                where += " (already done)"
        elif point.index is not None:
            if point.index > self.total:
                raise ValueError(f"there are only {self.total} steps")
            where = node_name(self.order[point.index - 1])
        else:
            where = "a predicate"
        self.breakpoints.append(point)
        return f"breakpoint {len(self.breakpoints)}: {point} ({where})"

    def cmd_print(self, arg):
        if not arg:
            raise SessionError("p needs a label (p h_2) or a step number (p #7)")
        return "\n\n".join(self._node_text(node) for node in self._lookup(arg))

    def cmd_where(self, arg):
        done = [s.node for s in self.steps]
        if self.current is None:
            head = f"step 0/{self.total}: nothing has run yet; next is {node_name(self.order[0])}"
        else:
            head = f"step {self.ran}/{self.total}: {node_name(self.current.node)}"
            if self.finished:
                head += " (finished)"
        waiting = [n for n in self.order[self.ran :] if self.done_consumers[n]]
        lines = [head, f"done ({len(done)}): {_names(done, last=True)}"]
        parts = [f"{quoted(n)} {self.done_consumers[n]}/{self.consumers[n]}" for n in waiting[:8]]
        if len(waiting) > 8:
            parts.append(f"... {len(waiting) - 8} more")
        lines.append(
            f"waiting ({len(waiting)}; gradient from k/n of their consumers so far): "
            + ", ".join(parts)
        )
        lines.append(f"not reached ({self.total - self.ran - len(waiting)})")
        return "\n".join(lines)

    def cmd_list(self, arg):
        count = _count(arg, 5, "l")
        start = self.ran
        upcoming = self.order[start : start + count]
        if not upcoming:
            return "no steps left"
        lines = []
        for k, node in enumerate(upcoming, start=start + 1):
            line = f"step {k}/{self.total}  {node_name(node)}"
            pending = self.consumers[node] - self.done_consumers[node]
            if pending:
                line += f"  (waits for {pending} more consumer{'s' if pending > 1 else ''})"
            lines.append(line)
        return "\n".join(lines)

    def cmd_graph(self, arg):
        if not arg:
            raise SessionError("g needs a file name (g frame.svg)")
        if self._render is None:
            raise SessionError("g: no renderer here (the CLI provides one)")
        try:
            path = self._write_path(unquote(arg)) if self._write_path else unquote(arg)
            self._render(self, path)
        except (ValueError, OSError, RuntimeError) as exc:
            # no layout engine, an unwritable path: say so and keep the session going
            raise SessionError(f"g: {exc}") from None
        current = node_name(self.current.node) if self.current else "none yet"
        return f"wrote {path} ({self.ran} of {self.total} steps done; current: {current})"

    def cmd_help(self, arg):
        return HELP

    def cmd_quit(self, arg):
        self.quit = True
        return ""

    # the short names, and pdb's long ones
    _COMMANDS = {
        name: handler
        for names, handler in (
            ("n next", cmd_next),
            ("c continue", cmd_continue),
            ("b break", cmd_break),
            ("p print", cmd_print),
            ("w where", cmd_where),
            ("l list", cmd_list),
            ("g graph", cmd_graph),
            ("h help ?", cmd_help),
            ("q quit", cmd_quit),
        )
        for name in names.split()
    }

    # ----- text --------------------------------------------------------------------------
    def _step_line(self, step, hits):
        text = str(step)
        if hits:
            text += "\n" + ", ".join(f"breakpoint {k} ({self.breakpoints[k - 1]})" for k in hits)
        return text

    def _finished_text(self, skipped=0):
        text = f"  ... {skipped} steps ...\n" if skipped else ""
        return text + (
            f"finished: all {self.total} steps ran; every node on a path to "
            f"{quoted(self.root)} holds the gradient backward() gives it"
        )

    def _lookup(self, arg):
        arg = unquote(arg)
        if arg.startswith("#"):
            try:
                k = positive_int(arg[1:], "p #K needs a step number")
            except ValueError as exc:
                raise SessionError(str(exc)) from None
            if k > self.total:
                raise SessionError(f"there are only {self.total} steps")
            return [self.order[k - 1]]
        label = resolve_label(arg, self.order)
        nodes = [n for n in self.order if n.label == label]
        if not nodes:  # h_2 in every layer and direction (h_2^(0), h'_2, ...)
            nodes = [n for n in self.order if label_matches(n.label, label)]
        if not nodes:
            raise SessionError(f"no node labelled {arg!r}; {self._labels_hint()}")
        return nodes

    def _labels_hint(self):
        labels = []
        for node in self.order:
            if node.label is not None and node.label not in labels:
                labels.append(node.label)
        shown = ", ".join(labels[:12]) + (", ..." if len(labels) > 12 else "")
        return f"labels: {shown}"

    def _node_text(self, node):
        k = self.position[node]
        op = node.op.name if node.op is not None else "leaf"
        tags = format_tags(node.tags)
        lines = [
            f"{quoted(node)}  {op}  shape {tuple(node.shape)}"
            + (f"  ({tags})" if tags else "")
            + f"  step {k}/{self.total}",
            "  value  " + _array(node.data, "  value  "),
        ]
        step = self.by_node.get(node)
        if step is not None:
            lines.append(
                "  grad   " + _array(step.grad, "  grad   ") + f"  |grad|={_norm(step.grad)}"
            )
            edges = step.input_grads
            for inp, g in zip(node.inputs, edges):
                if g is not None and inp.requires_grad:
                    head = f"  -> {quoted(inp)}  "
                    lines.append(head + _array(g, head) + f"  |g|={_norm(g)}")
        elif k <= self.ran:
            lines.append("  grad   none: no gradient reached this node")
        else:
            lines.append(
                f"  grad   not yet: {self.done_consumers[node]} of {self.consumers[node]} "
                f"consumers done (its step is {k})"
            )
        return "\n".join(lines)


def execute_lines(session, lines, write, echo=False, before=()):
    """Feed command lines to `session` until `q` or the lines run out; `write(text)`.

    `echo` prints each command after the prompt, so a scripted run reads like a typed one;
    `before` is text to show after the banner (breakpoints set from the command line).
    """
    write(session.banner())
    for text in before:
        write(text)
    for line in lines:
        if echo:
            write(session.prompt + line.strip())
        text = session.execute(line)
        if text:
            write(text)
        if session.quit:
            return


def interact(session, write, commands=None, stdin=None, breaks=()):
    """`tinygrad-rnn step`'s session: set the breakpoints `breaks` (specs like "h_1", "t=2"),
    then `execute_lines` of `command_lines(session, commands, stdin)`, writing with
    `write(text)`. Raises ValueError when scripted commands failed (each said 'error:')."""
    added = [session.add_breakpoint(spec) for spec in breaks]
    lines, echo = command_lines(session, commands, stdin)
    execute_lines(session, lines, write, echo=echo, before=added)
    if not echo and not session.quit:
        write("")  # end of input (Ctrl-D) left the cursor after a prompt
    if echo and session.errors:
        raise ValueError(f"{session.errors} of the scripted commands failed (see 'error:' above)")


def command_lines(session, commands=None, stdin=None):
    """(lines, echo): where a session's commands come from, and whether `execute_lines`
    echoes them.

    `commands`: a script, commands separated by ';' (echoed); else `stdin` when it is not a
    terminal (echoed); else `typed_lines` at a prompt (with readline's line editing and
    history where Python has it). ValueError when there is nothing to read from.
    """
    if commands is not None:
        return commands.split(";"), True
    if stdin is None or stdin.closed:
        raise ValueError("no commands to run: stdin is closed (give --commands 'n 5; q')")
    if not stdin.isatty():
        return stdin, True
    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:
        pass
    return typed_lines(session), False


def typed_lines(session, read=input):
    """Command lines typed at a terminal, each read after the session's prompt.

    As in pdb, an empty line repeats the last `n` or `c`, so Enter keeps stepping.
    """
    last = None
    while True:
        try:
            line = read(session.prompt)
        except EOFError:
            return
        if not line.strip():
            line = last or line
        elif line.split()[0] in ("n", "next", "c", "continue"):
            last = line
        yield line


def _count(arg, default, command):
    if not arg:
        return default
    try:
        return positive_int(arg, f"{command} takes a positive number of steps")
    except ValueError as exc:
        raise SessionError(str(exc)) from None


def node_name(node):
    """`tanh 'h_2' (t=2, layer 0)`: a node as the step lines name it."""
    op = node.op.name if node.op is not None else "leaf"
    tags = format_tags(node.tags)
    text = op if (node.label is None and node.op is not None) else f"{op} {quoted(node)}"
    return f"{text} ({tags})" if tags else text


def _names(nodes, last=False, limit=10):
    if len(nodes) <= limit:
        return ", ".join(quoted(n) for n in nodes) or "-"
    shown = nodes[-limit:] if last else nodes[:limit]
    text = ", ".join(quoted(n) for n in shown)
    return f"... {len(nodes) - limit} earlier, {text}" if last else f"{text}, ..."


def _norm(g):
    return f"{float(np.sqrt(np.sum(np.square(g)))):.3g}"


def _array(a, prefix=""):
    if isinstance(a, Tensor):
        a = a.data
    a = np.asarray(a)
    # `prefix`: what precedes the array on its first line, so rows 2.. line up under row 1
    return np.array2string(
        a, precision=4, threshold=12, edgeitems=2, max_line_width=10**6, prefix=prefix
    )
