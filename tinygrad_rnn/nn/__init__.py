"""Layers with PyTorch's names and semantics: `from tinygrad_rnn import nn`."""

from . import functional, init
from .dropout import Dropout
from .init import manual_seed
from .linear import Embedding, Linear
from .module import Module, Parameter
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .seq2seq import Seq2Seq
from .shapes import SequenceClassifier, SequenceGenerator, SequenceTagger

__all__ = [
    "GRU",
    "Dropout",
    "LSTM",
    "RNN",
    "Embedding",
    "GRUCell",
    "LSTMCell",
    "Linear",
    "Module",
    "Parameter",
    "RNNCell",
    "Seq2Seq",
    "SequenceClassifier",
    "SequenceGenerator",
    "SequenceTagger",
    "functional",
    "init",
    "manual_seed",
]
