"""Run a script under pdb with commands given in advance, echoing them like a terminal.

    python examples/scripted_pdb.py examples/step_in_pdb.py "p str(step)" "c" "c"

Every `breakpoint()` in the script opens a real pdb whose input lines come from the
command line (one argument per line, shared across breakpoints); each line is printed
after the prompt as it is read, so the output reads like a typed session. Paths under
the current directory are shown relative to it. This is how the transcripts in
docs/debugging.md were made (tests/test_debugger.py checks they still come out the same).
"""

import os
import pdb
import runpy
import sys


class _Relative:
    """An output stream that shows paths under the current directory relative to it."""

    def __init__(self, out):
        self.out = out
        self.here = os.getcwd() + os.sep

    def write(self, text):
        return self.out.write(text.replace(self.here, ""))

    def flush(self):
        self.out.flush()


class _EchoedLines:
    """A stdin for pdb: hands out the scripted lines and prints each one as it goes."""

    def __init__(self, lines, out):
        self.lines = list(lines)
        self.out = out

    def readline(self):
        if not self.lines:
            self.out.write("q\n")  # out of commands: leave the debugger cleanly
            return "q\n"
        line = self.lines.pop(0) + "\n"
        self.out.write(line)
        return line


def run(script, commands, out=None):
    out = _Relative(out or sys.stdout)
    stdin = _EchoedLines(commands, out)

    def hook(*args, **kwargs):
        debugger = pdb.Pdb(stdin=stdin, stdout=out)
        debugger.use_rawinput = False
        debugger.set_trace(sys._getframe(1))

    previous = sys.breakpointhook
    sys.breakpointhook = hook
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        sys.breakpointhook = previous
        sys.settrace(None)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2:])
