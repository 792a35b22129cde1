"""Linear and Embedding layers, with PyTorch's constructor signatures."""

import math

import numpy as np

from ..ops import Linear as _LinearOp
from ..tensor import Tensor, where
from . import init
from .module import Module, Parameter, factory_dtype


class Linear(Module):
    """y = x W^T + b with W (out_features, in_features); init U(-1/sqrt(in), 1/sqrt(in)).

    `Linear(in_features, out_features, bias=True, device=None, dtype=None)`. As in PyTorch,
    in_features may be 0: then y = b (initialised to zeros, as there is no fan-in).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        dtype = factory_dtype("Linear", device, dtype)
        _check_flags("Linear", bias=bias)
        _check_sizes("Linear", 0, in_features=in_features)
        _check_sizes("Linear", 0, out_features=out_features)
        self.in_features = in_features
        self.out_features = out_features
        bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
        self.weight = init.uniform_(Parameter(np.empty((out_features, in_features))), -bound, bound)
        if bias:
            self.bias = init.uniform_(Parameter(np.empty(out_features)), -bound, bound)
        else:
            self.register_parameter("bias", None)
        if dtype is not None:
            self.to(dtype)

    def forward(self, input):
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={bias}"


def linear(input, weight, bias=None):
    """x W^T + b as one node (torch.nn.functional.linear).

    x (..., in), W (out, in) (or x and W both (in,): a scalar), b broadcastable to y's
    last axis: (out,), (1,) or () (its gradient keeps the bias's own shape).
    """
    x, weight = _operand("input", input), _operand("weight", weight)
    bias = None if bias is None else _operand("bias", bias)
    if weight.ndim == 1:  # torch: x (in,) and w (in,) give the scalar x . w (+ b)
        if x.ndim != 1:
            raise ValueError(
                f"linear: a 1-D weight {weight.shape} needs a 1-D input, got {x.shape}; "
                "give the weight as (out_features, in_features)"
            )
        out = linear(x, weight.reshape(1, weight.shape[0]), None)
        out = out.reshape(out.shape[:-1])
        return out if bias is None else out + bias
    if bias is None:
        return _LinearOp.apply(x, weight)
    if bias.shape != (weight.shape[0],):
        if bias.ndim > 1 or (bias.ndim == 1 and bias.shape[0] != 1):
            raise ValueError(
                f"linear: bias of shape {bias.shape} does not broadcast to the output's "
                f"{weight.shape[0]} features (give shape ({weight.shape[0]},), (1,) or ())"
            )
        # a broadcast bias: its gradient is summed back to its own shape by `add`
        return _LinearOp.apply(x, weight) + bias
    return _LinearOp.apply(x, weight, bias)


def _operand(name, value):
    """`value` as a Tensor, or the conversion's TypeError naming linear's argument."""
    if isinstance(value, Tensor):
        return value
    try:
        return Tensor(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"linear: {name}: {error}") from None


class Embedding(Module):
    """Row lookup: `emb(idx)` = weight[idx], weight (num_embeddings, embedding_dim) ~ N(0, 1).

    `Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
    scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None,
    dtype=None)` as PyTorch. padding_idx: that row starts at zero and never gets a gradient
    (the lookup passes through a `where` that sends the padding positions' gradient nowhere).
    max_norm: rows looked up are first renormalised in place to norm <= max_norm (not
    differentiated, as in PyTorch). scale_grad_by_freq and sparse are refused.
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
        _weight=None,
        _freeze=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        dtype = factory_dtype("Embedding", device, dtype)
        _check_sizes("Embedding", 1, num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        if padding_idx is not None:
            if not isinstance(padding_idx, (int, np.integer)) or not (
                -num_embeddings <= padding_idx < num_embeddings
            ):
                raise ValueError(
                    f"Embedding: padding_idx must be within num_embeddings "
                    f"(-{num_embeddings} .. {num_embeddings - 1}), got {padding_idx!r}"
                )
            padding_idx = int(padding_idx) % num_embeddings
        _check_flags("Embedding", scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
        _check_flags("Embedding", _freeze=_freeze)
        if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, np.number)):
            raise TypeError(f"Embedding: norm_type must be a number, got {norm_type!r:.40}")
        if norm_type != norm_type:
            raise ValueError("Embedding: norm_type must be a number, got nan")
        if scale_grad_by_freq:
            raise ValueError("Embedding: scale_grad_by_freq=True is not supported")
        if sparse:
            raise ValueError(
                "Embedding: sparse=True is not supported (gradients are dense arrays; "
                "the values are the same)"
            )
        if max_norm is not None and (
            isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or not max_norm > 0
        ):
            raise ValueError(f"Embedding: max_norm must be positive, got {max_norm!r}")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = float(norm_type)
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        # labelled by its role, as the recurrent layers' weight_ih_l0: a bare "weight" in a
        # picture next to the head's V and the layers' weights says nothing
        if _weight is None:
            self.weight = init.normal_(
                Parameter(np.empty((num_embeddings, embedding_dim)), label="embedding.weight")
            )
            if padding_idx is not None:
                self.weight.data[padding_idx] = 0.0
        else:
            array = np.array(_weight.data if isinstance(_weight, Tensor) else _weight)
            if array.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"Embedding: _weight has shape {array.shape}, expected "
                    f"({num_embeddings}, {embedding_dim}) (num_embeddings, embedding_dim)"
                )
            self.weight = Parameter(
                array.astype(np.float64 if dtype is None else dtype), label="embedding.weight"
            )
        self.weight.requires_grad = not _freeze
        if dtype is not None:
            self.to(dtype)

    @classmethod
    def from_pretrained(
        cls,
        embeddings,
        freeze=True,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
    ):
        """An Embedding whose weight is a copy of `embeddings` (rows, dim); frozen by default."""
        array = np.asarray(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if array.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got {array.shape}"
            )
        return cls(
            array.shape[0],
            array.shape[1],
            padding_idx,
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
            _weight=array,
            _freeze=freeze,
        )

    def forward(self, input):
        idx = np.asarray(input.data if isinstance(input, Tensor) else input)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"Embedding: indices must be integers, got dtype {idx.dtype}")
        bad = idx[(idx < 0) | (idx >= self.num_embeddings)]
        if bad.size:
            raise IndexError(
                f"Embedding: index {int(bad[0])} is out of range for "
                f"{self.num_embeddings} embeddings"
            )
        if self.max_norm is not None:
            self._renorm(np.unique(idx))
        rows = self.weight[idx]
        if self.padding_idx is None:
            return rows
        padding = np.broadcast_to((idx == self.padding_idx)[..., None], rows.shape)
        if not padding.any():
            return rows
        fixed = Tensor(rows.data, label=f"{self.weight.label}[{self.padding_idx}] (no grad)")
        return where(padding, fixed, rows).named("padding_idx")

    def _renorm(self, rows):
        """Scale the looked-up rows whose norm exceeds max_norm down to it (in place)."""
        w = self.weight.data
        norms = np.linalg.norm(w[rows], ord=self.norm_type, axis=1)
        over = norms > self.max_norm
        if over.any():
            scale = self.max_norm / (norms[over] + 1e-7)
            w[rows[over]] *= scale[:, None].astype(w.dtype)
            self.weight.data = w  # an in-place change: graphs that saved the weight are stale

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        return text


def _check_flags(layer, **flags):
    for name, value in flags.items():
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{layer}: {name} must be True or False, got {value!r:.40}")


def _check_sizes(layer, minimum, **sizes):
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
            what = "a positive integer" if minimum else "a non-negative integer"
            raise ValueError(f"{layer}: {name} must be {what}, got {value!r}")
