"""Every command of `tinygrad-rnn`, found from the click group (for the CLI's input tests)."""

import click

import cli


def commands(group=cli.main):
    """[(path, command)] for every command under `group` (subgroups walked with a stack),
    sorted by path: ("exercise", "check") after ("demo",)."""
    found, stack = [], [((), group)]
    while stack:
        path, group = stack.pop()
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                stack.append(((*path, name), command))
            else:
                found.append(((*path, name), command))
    return sorted(found, key=lambda item: item[0])
