"""Writing files so that nothing is lost: a reader, or a crash halfway, never sees half a file.

Every file the tool writes (checkpoints, exercise files, pictures, pages, logs of figures) goes
through `write_atomic`: the bytes go to a temporary file beside the destination, which is then
renamed over it. A rename inside one folder is atomic, so the destination holds either the old
file or the new one.
"""

import os
import tempfile

__all__ = ["write_atomic"]


def write_atomic(path, data, fsync=False):
    """Write `data` (bytes, or str written as UTF-8) to `path` through a temporary file and a
    rename; missing folders are created. The file gets the mode a plain `open()` would give.
    `fsync=True` also forces the bytes to disk before the rename (checkpoints: after a power
    cut the old file or the new one is there, never an empty one). Returns `path`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".")
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
