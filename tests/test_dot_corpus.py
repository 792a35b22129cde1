"""Every picture the tool draws stays byte for byte what it was (tests/dot_corpus.py).

A hash per configuration (render's options, --load, demo, step frames, the gif's frames,
the stepper page's picture) is kept in tests/golden/dot_corpus.txt. After a deliberate
change to the pictures, see what changed and regenerate:

    python tests/dot_corpus.py /tmp/before    # on the old checkout; /tmp/after on the new
    diff -r /tmp/before /tmp/after
    TINYGRAD_RNN_REGEN_GOLDEN=1 pytest tests/test_dot_corpus.py
"""

import os
from pathlib import Path

from dot_corpus import corpus, digest

HASHES = Path(__file__).parent / "golden" / "dot_corpus.txt"
REGEN = os.environ.get("TINYGRAD_RNN_REGEN_GOLDEN") == "1"


def test_every_configuration_draws_the_same_dot_text_byte_for_byte():
    got = {name: digest(text) for name, text in corpus().items()}
    if REGEN:
        HASHES.write_text("".join(f"{n} {h}\n" for n, h in sorted(got.items())), "utf-8")
    want = dict(line.split() for line in HASHES.read_text("utf-8").splitlines())
    assert sorted(got) == sorted(want), "the corpus's configurations changed: regenerate"
    changed = [name for name in sorted(got) if got[name] != want[name]]
    assert not changed, f"DOT text changed for {', '.join(changed)} (see the module docstring)"
