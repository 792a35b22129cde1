"""How nodes, tags and arrays are described in messages, steps and reprs.

One place for the words the library prints: `quoted(node)` is how a node is named in a
sentence (`'h_2'`, `<mul>`, `<leaf (3,)>`), `format_tags` how its scope reads (`t=2, layer 1,
reverse`), `norm_text` how a gradient's size is shown, and `describe` the Tensor repr.
"""

import numpy as np

TAG_ORDER = ("t", "layer", "direction", "cell", "role")


def ordered_tags(tags):
    """(key, value) pairs with the time step first, whatever order the scopes nested in."""
    known = [(k, tags[k]) for k in TAG_ORDER if k in tags]
    return known + [(k, v) for k, v in tags.items() if k not in TAG_ORDER]


def format_tags(tags):
    """`t=2, layer 0, reverse, output` text for a node's tags (empty when untagged).

    The forward direction and the cell type are left out: they are the usual case and the
    op names already say which cell it is.
    """
    parts = []
    for key, value in ordered_tags(tags):
        if key == "cell" or (key == "direction" and value == "forward"):
            continue
        if key == "t":
            parts.append(f"t={value}")
        elif key == "layer":
            parts.append(f"layer {value}")
        elif key in ("direction", "role"):
            parts.append(str(value))
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def quoted(node):
    """A node's name in a sentence: its label in quotes, else `<op>`, else `<leaf shape>`."""
    if node.label is not None:
        return f"'{node.label}'"
    if node.op is not None:
        return f"<{node.op.name}>"
    return f"<leaf {tuple(node.shape)}>"


def param_name(p, k):
    """How a parameter is named in a message: its label in quotes, or its index k and shape."""
    return f"'{p.label}'" if p.label else f"#{k} {tuple(p.shape)}"


def where(node):
    """`'h_2' (t=2, layer 1)`: the node and the scope it was built in."""
    tags = format_tags(node.tags)
    return f"{quoted(node)} ({tags})" if tags else quoted(node)


def norm_text(g):
    """|g| (the Frobenius norm) to three digits; `-` for no gradient."""
    if g is None:
        return "-"
    # a getitem's gradient travels as a SliceGrad: its norm is the norm of the part it carries
    g = getattr(g, "value", g)
    return f"{float(np.sqrt(np.sum(np.square(g)))):.3g}"


def describe(node):
    """The repr: label, op, shape, tags, |grad| and a few values, on one line."""
    parts = []
    if node.label is not None:
        parts.append(repr(node.label))
    data = node.data
    if data.ndim == 0:
        parts.append(
            np.format_float_positional(data.item(), precision=6, trim="-")
            if data.dtype.kind == "f"
            else str(data.item())
        )
    if node.op is not None:
        parts.append(f"op={node.op.name}")
    if data.ndim:
        parts.append(f"shape={tuple(data.shape)}")
    if data.dtype != np.float64:
        parts.append(f"dtype={data.dtype}")
    tags = ", ".join(f"{k}={v}" for k, v in ordered_tags(node.tags))
    if tags:
        parts.append(tags)
    if node.requires_grad and node.op is None:
        parts.append("requires_grad=True")
    if node.grad is not None:
        parts.append(f"|grad|={norm_text(node.grad)}")
    if data.ndim:
        flat = data.ravel()
        shown = ", ".join(_value_text(v) for v in flat[:4])
        parts.append(f"data=[{shown}{', ...' if flat.size > 4 else ''}]")
    return f"Tensor({', '.join(parts)})"


def _value_text(v):
    """One element as torch prints it: True/False, integers in full, floats to 4 digits."""
    if isinstance(v, np.bool_):
        return str(bool(v))
    if isinstance(v, np.integer):
        return str(int(v))
    return f"{v:.4g}"


def step_text(step):
    """One line per backward step: `step 3/9  tanh 'h_1' (t=1)  |grad|=0.5  -> 'a_1' 0.4`."""
    node = step.node
    text = f"step {step.index}/{step.total}  "
    if node.op is None:
        text += f"leaf {quoted(node)}"
    else:
        # an unlabelled node shows as its op alone: `mul`, not `mul <mul>`
        text += node.op.name if node.label is None else f"{node.op.name} '{node.label}'"
    tags = format_tags(node.tags)
    if tags:
        text += f" ({tags})"
    text += f"  |grad|={norm_text(step.grad)}"
    parts = []
    for inp, g in zip(node.inputs, step.input_grads):
        if g is not None and inp.requires_grad:
            parts.append(f"{quoted(inp)} {norm_text(g)}")
    if parts:
        text += "  -> " + ", ".join(parts)
    return text
