"""Whether a Graphviz layout engine is at hand (a `dot` on PATH or the pip graphviz-pure):
the tests that lay a picture out skip with a message where there is none."""

import pytest

from viz.render import RenderError, find_engine


def has_engine():
    try:
        find_engine()
    except RenderError:
        return False
    return True


needs_engine = pytest.mark.skipif(not has_engine(), reason="no Graphviz layout engine")
