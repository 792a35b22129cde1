"""Breakpoint specs: where `backward_steps(loss, stop=...)` and the debugger stop.

    "h_2"            every node labelled h_2 (one per layer and direction); `s_2` is
                     accepted for `h_2` when no node is labelled `s_2`, as in the lecture
    "t=2"            the first step of a node tagged t=2: where the backward pass enters
                     time step 2 (once per pass; every node of the step carries the tag)
    "t=2 layer=1"    the same with several tags, all of which must match
    "#7"             step 7
    fn(step)         any predicate on a `Step`

A step matches after it ran: its node's gradient is complete and has been sent on.
"""

import re


class Breakpoint:
    """A parsed stop spec; `matches(step)` is called on every step of one pass, in order."""

    def __init__(self, spec, nodes=None):
        self.spec = spec
        self.label = None
        self.tags = None
        self.index = None
        self.predicate = None
        self.fired = False
        if callable(spec):
            self.predicate = spec
            return
        if not isinstance(spec, str) or not spec.strip():
            raise ValueError(
                f"breakpoint: expected a label, 't=K', '#K' or a function, got {spec!r}"
            )
        text = spec.strip()
        if text.startswith("#"):
            self.index = positive_int(text[1:], "breakpoint: #K needs a step number")
        elif "=" in text:
            self.tags = _parse_tags(text)
        else:
            self.label = unquote(text)
            if nodes is not None:
                self.label = resolve_label(self.label, nodes)

    def matches(self, step):
        if self.predicate is not None:
            return bool(self.predicate(step))
        if self.index is not None:
            return step.index == self.index
        if self.label is not None:
            return label_matches(step.node.label, self.label)
        if self.fired or not self.tags_match(step.node):
            return False
        self.fired = True
        return True

    def tags_match(self, node):
        return all(node.tags.get(k) == v for k, v in self.tags.items())

    def __str__(self):
        if self.predicate is not None:
            return f"predicate {getattr(self.predicate, '__name__', 'fn')}"
        if self.index is not None:
            return f"step #{self.index}"
        if self.label is not None:
            return f"label '{self.label}'"
        return "first step at " + " ".join(f"{k}={v}" for k, v in self.tags.items())


def stop_rule(stop, nodes=None):
    """A predicate `fn(step)` from a spec or a list of specs (fresh state for one pass).

    `nodes` are the graph's nodes (to check that a label names one of them).
    """
    specs = stop if isinstance(stop, (list, tuple)) else [stop]
    points = [Breakpoint(s, nodes) for s in specs]
    if nodes is not None:
        for p in points:
            if p.label is not None and not any(label_matches(n.label, p.label) for n in nodes):
                raise ValueError(f"stop: no node labelled {p.label!r}; {labels_hint(nodes)}")
    # every breakpoint sees every step (a `t=K` spec must notice its first match even when
    # an earlier spec in the list matches the same step)
    return lambda step: any([p.matches(step) for p in points])


def base_label(label):
    """A label without the marks that tell layers and directions apart (h'_2^(1) -> h_2):
    the name a learner types for "h_2 in every layer and direction"."""
    return re.sub(r"\^\([^)]*\)", "", re.sub(r"'(?=_)", "", label))


def label_matches(label, wanted):
    """Whether a node labelled `label` answers to `wanted`: the same label, or the same
    up to the layer and direction marks (h_2 finds h_2, h'_2 and h_2^(1))."""
    return label is not None and (label == wanted or base_label(label) == wanted)


def labels_hint(nodes, limit=12):
    """'labels: E_3, h_3, ...': the graph's distinct labels, in order, the first `limit`."""
    labels = list(dict.fromkeys(n.label for n in nodes if n.label is not None))
    shown = ", ".join(labels[:limit]) + (", ..." if len(labels) > limit else "")
    return f"labels: {shown}" if labels else "no node has a label"


def resolve_label(label, nodes):
    """`label`, or `h_K` for `s_K` (the lecture's name) when only the latter exists."""
    labels = {n.label for n in nodes}
    if label not in labels and label.startswith("s_") and "h_" + label[2:] in labels:
        return "h_" + label[2:]
    return label


def _parse_tags(text):
    tags = {}
    for part in text.replace(",", " ").split():
        key, sep, value = part.partition("=")
        if not sep or not key or not value:
            raise ValueError(
                f"breakpoint: expected key=value tags like 't=2 layer=0', got {text!r}"
            )
        tags[key] = int(value) if value.lstrip("-").isdigit() else value
    return tags


def unquote(text):
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def positive_int(text, message):
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{message}, got {text!r}") from None
    if value < 1:
        raise ValueError(f"{message}, got {text!r}")
    return value
