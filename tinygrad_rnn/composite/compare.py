"""Comparisons: bool tensors outside the graph (no gradient flows through `x < y`)."""

from .checks import leaf, raw


def lt(x, other):
    return leaf(x._data < raw(other))


def le(x, other):
    return leaf(x._data <= raw(other))


def gt(x, other):
    return leaf(x._data > raw(other))


def ge(x, other):
    return leaf(x._data >= raw(other))


def eq(x, other):
    """Elementwise `==` as a bool tensor (the `==` operator compares identity)."""
    return leaf(x._data == raw(other))


def ne(x, other):
    return leaf(x._data != raw(other))
