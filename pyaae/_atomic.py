"""Atomic file writes: nothing a user saved is lost to an interrupted write."""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Callable, List


def write_atomically(path: Path, write: Callable[[str], None]) -> Path:
    """``write(tmp)`` fills a temporary file beside ``path``, which is then synced to disk and renamed
    over ``path``, and the folder synced so that the rename survives a power cut: readers see the old
    file or the whole new one, never a part. On failure the temporary file is removed and ``path`` is
    untouched. The file gets the mode the umask gives a new file (mkstemp's 0600 hid a shared data
    cache from its group)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_part(path)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        sync_folder(path.parent)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _create_part(path: Path) -> str:
    """A new, empty ``<name>.<16 hex digits>.part`` beside ``path``, created with mode 0666 less the
    umask, as open() creates any file."""
    while True:
        tmp = path.parent / f"{path.name}.{secrets.token_hex(8)}.part"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return str(tmp)
        except FileExistsError:
            continue


def sync_folder(folder: Path) -> None:
    """fsync a folder, so that a rename or a new file in it is on disk (where the system allows:
    Windows cannot open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_parts(path: Path) -> List[Path]:
    """Remove the temporary files that writes of ``path`` left when their process was killed (kill -9
    runs no cleanup), and return them. Call it where no other process writes ``path``, e.g. when the
    run that owns a checkpoint starts: it would remove a concurrent writer's file too. Matches this
    module's names and those of the mkstemp-based writer before it (8 characters of [a-z0-9_])."""
    pattern = re.compile(re.escape(path.name) + r"(\.[0-9a-f]{16}|[a-z0-9_]{8})\.part")
    removed = []
    if not path.parent.is_dir():
        return removed
    for candidate in path.parent.iterdir():
        if pattern.fullmatch(candidate.name) and candidate.is_file():
            try:
                candidate.unlink()
            except FileNotFoundError:
                continue
            removed.append(candidate)
    return removed
