"""Atomic file writes: nothing a user saved is lost to an interrupted write."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def write_atomically(path: Path, write: Callable[[str], None]) -> Path:
    """``write(tmp)`` fills a temporary file beside ``path``, which is then synced to disk and renamed
    over ``path``: readers see the old file or the whole new one, never a part. On failure the
    temporary file is removed and ``path`` is untouched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path
