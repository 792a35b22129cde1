"""Word- and character-level tasks: intent (N-vs-1), tagging (N-vs-N), spelling a class
name (1-vs-N) and a character language model. The base class is in `base.py`, the registry
in `__init__.py`; these tasks are built from small vocabularies, so they live together here.
"""

import itertools
import math
from pathlib import Path

import numpy as np

from .base import Batch, Task, check_length, masked_accuracy, per_sequence

# ----- word-level tasks: intent (N-vs-1) and tagging (N-vs-N) -------------------------------

PAD = "<pad>"

_SLOTS = {
    "now": ["now", "please", "right now"],
    "day": ["today", "tomorrow", "on monday", "this weekend"],
    "city": ["paris", "london", "tokyo", "berlin"],
    "hour": ["six", "seven", "eight", "nine thirty"],
    "genre": ["jazz", "rock", "classical", "pop"],
    "artist": ["queen", "mozart", "the beatles"],
}
_INTENTS = {
    "ask_time": [
        "what time is it",
        "what time is it {now}",
        "what is the time",
        "tell me the time {now}",
        "do you know what time it is",
    ],
    "ask_weather": [
        "what is the weather {day}",
        "what is the weather like in {city}",
        "will it rain {day}",
        "is it cold in {city} {day}",
    ],
    "set_alarm": ["set an alarm for {hour}", "wake me up at {hour} {day}", "set an alarm {day}"],
    "play_music": ["play some {genre}", "play {genre} music {now}", "put on a song by {artist}"],
    "greet": ["hello", "hi there", "good morning", "hello how are you", "hi how is it going"],
}


def _expand(template):
    """Every sentence a template generates, as word lists (slots filled in every way)."""
    parts = template.split(" ")
    choices = [_SLOTS[p[1:-1]] if p.startswith("{") else [p] for p in parts]
    return [" ".join(words).split(" ") for words in itertools.product(*choices)]


class IntentTask(Task):
    """Classify a short request by its intent ("what time is it" -> ask_time).

    Sentences are enumerated from a small grammar; a batch picks an intent uniformly, then
    one of its sentences uniformly. Sentences are padded on the left, so that the last
    step of every sequence is its last word and the final state has read the whole request.
    """

    name, shape, input, output, per_step = "intent", "N-vs-1", "tokens", "classes", False
    metric = "accuracy"
    shapes = ("(T, B) int: word ids, left-padded with 0", "(B,) int: intent id")
    baseline_text = "always the most frequent intent"

    def __init__(self):
        self.intents = list(_INTENTS)
        sentences = [[_expand(t) for t in _INTENTS[name]] for name in self.intents]
        sentences = [list(itertools.chain(*per)) for per in sentences]
        words = sorted({w for per in sentences for s in per for w in s})
        self.vocab = [PAD, *words]
        index = {w: k for k, w in enumerate(self.vocab)}
        self.length = max(len(s) for per in sentences for s in per)
        self.counts = np.array([len(per) for per in sentences])
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        table = np.zeros((int(self.counts.sum()), self.length), dtype=np.int64)
        rows = itertools.chain(*sentences)
        for r, sentence in enumerate(rows):
            table[r, self.length - len(sentence) :] = [index[w] for w in sentence]
        self.table = table
        self.n_in, self.n_out = len(self.vocab), len(self.intents)

    def config(self):
        return {"name": self.name}

    def encode(self, sentence):
        """Word ids of a sentence, left-padded to the task's length."""
        index = {w: k for k, w in enumerate(self.vocab)}
        words = sentence.lower().split()
        unknown = [w for w in words if w not in index]
        if unknown:
            raise ValueError(f"intent: unknown words {unknown}; the vocabulary is {self.vocab[1:]}")
        ids = np.zeros(max(self.length, len(words)), dtype=np.int64)
        ids[len(ids) - len(words) :] = [index[w] for w in words]
        return ids

    def decode(self, ids):
        return " ".join(self.vocab[i] for i in ids if i != 0)

    def batch(self, batch_size, seed):
        rng = np.random.default_rng(seed)
        intent = rng.integers(0, len(self.intents), size=batch_size)
        pick = (rng.random(batch_size) * self.counts[intent]).astype(np.int64)
        return Batch(self.table[self.offsets[intent] + pick].T.copy(), intent)

    def _compute_baseline(self):
        return 1.0 / len(self.intents)  # intents are drawn uniformly


_LEXICON = {
    "DET": ["the", "a", "every", "this"],
    "ADJ": ["big", "small", "red", "old", "quick"],
    "NOUN": ["dog", "cat", "man", "park", "book", "watch", "run", "fly"],
    "VERB": ["sees", "likes", "reads", "book", "watch", "run", "fly"],
    "PREP": ["in", "near", "with"],
    "PRON": ["she", "he", "they"],
}
_PATTERNS = [
    "DET NOUN VERB DET NOUN",
    "DET ADJ NOUN VERB DET NOUN",
    "PRON VERB DET ADJ NOUN",
    "DET NOUN VERB DET NOUN PREP DET NOUN",
    "PRON VERB PREP DET NOUN",
    "DET ADJ ADJ NOUN VERB",
]


class TaggingTask(Task):
    """Tag every word with its class (DET, ADJ, NOUN, VERB, PREP, PRON).

    "book", "watch", "run" and "fly" are nouns or verbs depending on context, so looking at
    the word alone (the baseline: each word's most frequent tag) cannot reach 100%.
    Sentences follow one of a few patterns and are padded on the right; `mask` marks words.
    """

    name, shape, input, output, per_step = "tagging", "N-vs-N", "tokens", "classes", True
    metric = "accuracy"
    shapes = ("(T, B) int: word ids, right-padded with 0", "(T, B) int: tag ids (mask: words)")
    baseline_text = "each word's most frequent tag"

    def __init__(self):
        self.tags = list(_LEXICON)
        self.vocab = [PAD, *sorted({w for words in _LEXICON.values() for w in words})]
        index = {w: k for k, w in enumerate(self.vocab)}
        # per tag: the ids of its words, to sample a slot of that tag in one call
        self._word_ids = [np.array([index[w] for w in _LEXICON[t]]) for t in self.tags]
        self.patterns = [[self.tags.index(t) for t in p.split()] for p in _PATTERNS]
        self.length = max(len(p) for p in self.patterns)
        self.n_in, self.n_out = len(self.vocab), len(self.tags)

    def config(self):
        return {"name": self.name}

    def batch(self, batch_size, seed):
        rng = np.random.default_rng(seed)
        pattern = rng.integers(0, len(self.patterns), size=batch_size)
        x = np.zeros((self.length, batch_size), dtype=np.int64)
        y = np.zeros((self.length, batch_size), dtype=np.int64)
        mask = np.zeros((self.length, batch_size), dtype=bool)
        for p, tags in enumerate(self.patterns):
            cols = np.flatnonzero(pattern == p)
            for t, tag in enumerate(tags):
                words = self._word_ids[tag]
                x[t, cols] = words[rng.integers(0, len(words), size=cols.size)]
                y[t, cols] = tag
                mask[t, cols] = True
        return Batch(x, y, mask)

    def _compute_baseline(self):
        # count (word, tag) pairs on one large sample, score the per-word majority on another
        fit, test = self.batch(20000, [7, 0]), self.batch(20000, [7, 1])
        counts = np.zeros((len(self.vocab), len(self.tags)))
        np.add.at(counts, (fit.x[fit.mask], fit.y[fit.mask]), 1)
        guess = counts.argmax(axis=1)
        return masked_accuracy(guess[test.x], test.y, test.mask)


# ----- 1-vs-N generation --------------------------------------------------------------------

EOS = 0  # end of a generated word (and the padding after it)


class GenerateTask(Task):
    """From a class id, spell its name: 3 -> "t h r e e <eos>" (one vector, many outputs).

    y holds the letters then the end token; `mask` covers the letters and that one end
    token. `y_in` (start token 0, then y shifted) is there for autoregressive decoders.
    The baseline guesses, at each position, the letter most names have there.
    """

    name, shape, input, output, per_step = "generate", "1-vs-N", "class", "classes", True
    metric = "token accuracy"
    shapes = ("(B,) int: class id", "(T, B) int: letters then end token 0 (mask)")
    baseline_text = "the most common letter at each position"
    WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

    def __init__(self, words=WORDS):
        self.words = [str(w) for w in words]
        self.vocab = ["<eos>", *sorted({c for w in self.words for c in w})]
        index = {c: k for k, c in enumerate(self.vocab)}
        self.length = max(len(w) for w in self.words) + 1
        self.table = np.zeros((len(self.words), self.length), dtype=np.int64)
        self.table_mask = np.zeros((len(self.words), self.length), dtype=bool)
        for k, w in enumerate(self.words):
            self.table[k, : len(w)] = [index[c] for c in w]
            self.table_mask[k, : len(w) + 1] = True
        self.n_in, self.n_out = len(self.words), len(self.vocab)

    def config(self):
        return {"name": self.name, "words": list(self.words)}

    def decode(self, ids):
        out = []
        for i in ids:
            if i == EOS:
                break
            out.append(self.vocab[i])
        return "".join(out)

    def batch(self, batch_size, seed):
        rng = np.random.default_rng(seed)
        cls = rng.integers(0, len(self.words), size=batch_size)
        y = self.table[cls].T.copy()
        y_in = np.concatenate([np.full((1, batch_size), EOS), y[:-1]], axis=0)
        return Batch(cls, y, self.table_mask[cls].T.copy(), y_in)

    def _compute_baseline(self):
        # classes are uniform, so the exact expectation is an average over the table
        hits, total = 0, 0
        for t in range(self.length):
            tokens = self.table[self.table_mask[:, t], t]
            if tokens.size:
                hits += np.bincount(tokens).max()
                total += tokens.size
        return hits / total


# ----- character language model -------------------------------------------------------------


def default_text_path():
    """The default text: a snapshot of the project's README shipped inside the package
    (package data), so `--task text` works from any folder and from an installed wheel,
    and a checkpoint's vocabulary does not change when the README is edited."""
    return Path(__file__).resolve().parent.parent / "data" / "text.txt"


class TextTask(Task):
    """Character language model: read T characters, predict each next one.

    The vocabulary is the sorted set of the text's characters. The metric is the mean
    cross-entropy in bits per character; the baseline is the unigram entropy of the text
    (the best a model that ignores context can do), log2(V) being plain guessing.
    """

    name, shape, input, output, per_step = "text", "N-vs-N", "tokens", "classes", True
    metric, higher_is_better = "bits/char", False
    shapes = ("(T, B) int: character ids", "(T, B) int: the next characters")
    baseline_text = "unigram character frequencies"

    def __init__(self, length=32, path=None):
        self.length = check_length("text", length, 1)
        self.path = str(path) if path is not None else str(default_text_path())
        try:
            text = Path(self.path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileNotFoundError(f"text: no such file {self.path}; pass a text file") from None
        except UnicodeDecodeError as exc:
            raise ValueError(f"text: {self.path} is not UTF-8 text ({exc.reason})") from None
        if len(text) < self.length + 2:
            raise ValueError(
                f"text: {self.path} has {len(text)} characters, fewer than length + 2 = "
                f"{self.length + 2}"
            )
        self.vocab = sorted(set(text))
        self._index = {c: k for k, c in enumerate(self.vocab)}
        self.data = self.encode(text)
        self.n_in = self.n_out = len(self.vocab)

    @classmethod
    def from_vocab(cls, vocab, prime, length=32, path=None):
        """The task as a checkpoint remembers it (its vocabulary and the text's first line),
        without the text file: enough to encode a prime and decode samples, not to train
        (`data` is the prime only)."""
        task = cls.__new__(cls)
        task.length = check_length("text", length, 1)
        task.path = str(path) if path is not None else str(default_text_path())
        task.vocab = [str(c) for c in vocab]
        if not task.vocab or any(len(c) != 1 for c in task.vocab):
            raise ValueError("text: a vocabulary is a non-empty list of single characters")
        task._index = {c: k for k, c in enumerate(task.vocab)}
        task.data = task.encode(prime)
        task.n_in = task.n_out = len(task.vocab)
        return task

    def config(self):
        return {"name": self.name, "length": self.length, "path": self.path}

    def encode(self, text):
        unknown = sorted({c for c in text if c not in self._index})
        if unknown:
            raise ValueError(f"text: characters {unknown!r} are not in the vocabulary")
        return np.array([self._index[c] for c in text], dtype=np.int64)

    def decode(self, ids):
        return "".join(self.vocab[i] for i in np.asarray(ids).ravel())

    def batch(self, batch_size, seed):
        rng = np.random.default_rng(seed)
        start = rng.integers(0, len(self.data) - self.length, size=batch_size)
        window = self.data[start[None, :] + np.arange(self.length + 1)[:, None]]
        return Batch(window[:-1], window[1:])

    def score(self, prediction, batch):
        return float(self._bits(prediction, batch).mean())

    def score_parts(self, prediction, batch):
        bits = self._bits(prediction, batch)
        return per_sequence(bits, np.ones(bits.shape), self.per_step)

    def _bits(self, prediction, batch):
        """-log2 p(next character) at every (t, b)."""
        logits = np.asarray(prediction, dtype=np.float64)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(log_p, batch.y[..., None], axis=-1)[..., 0]
        return -picked / math.log(2)

    def _compute_baseline(self):
        p = np.bincount(self.data, minlength=len(self.vocab)) / len(self.data)
        p = p[p > 0]
        return float(-(p * np.log2(p)).sum())
