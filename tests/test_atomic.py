"""Atomic writes: the file appears whole or not at all, with the umask's mode, its rename synced to
the folder; the temporary files a killed process leaves are removed when the run starts again."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyaae import _atomic
from pyaae._atomic import remove_stale_parts, write_atomically


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_files_respect_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    """mkstemp's 0600 made a shared data cache unreadable by its group, whatever the umask."""
    before = os.umask(umask)
    try:
        write_atomically(tmp_path / "f.txt", lambda tmp: Path(tmp).write_text("x"))
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == mode


def test_the_rename_is_synced_to_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced = []
    fsync = os.fsync

    def recording(fd: int) -> None:
        synced.append((stat.S_ISDIR(os.fstat(fd).st_mode), (tmp_path / "f.txt").exists()))
        fsync(fd)

    monkeypatch.setattr(_atomic.os, "fsync", recording)
    write_atomically(tmp_path / "f.txt", lambda tmp: Path(tmp).write_text("x"))
    assert synced == [(False, False), (True, True)]  # the file before the rename, the folder after it


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("old")

    def failing(tmp: str) -> None:
        Path(tmp).write_text("partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(tmp_path / "f.txt", failing)
    assert os.listdir(tmp_path) == ["f.txt"] and (tmp_path / "f.txt").read_text() == "old"


def test_parts_left_by_kill_9_are_removed(tmp_path: Path) -> None:
    """kill -9 during a checkpoint write left a 15 MB checkpoint.safetensors*.part per kill."""
    target = tmp_path / "checkpoint.safetensors"
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from pyaae._atomic import write_atomically

        def killed(tmp):
            Path(tmp).write_bytes(b"half a checkpoint")
            os.kill(os.getpid(), signal.SIGKILL)

        write_atomically(Path({str(target)!r}), killed)
    """)
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", script], capture_output=True)
        assert result.returncode == -signal.SIGKILL
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(name.startswith("checkpoint.safetensors.") for name in left)
    # What the mkstemp-based writer before this one left, and files that are not parts of the checkpoint.
    old_style = tmp_path / "checkpoint.safetensorsk3_x9ab2.part"
    others = ["checkpoint.safetensors", "checkpoint.safetensors.notes.part", "model.safetensors.0123456789abcdef.part",
              "history.json"]
    old_style.write_bytes(b"x")
    for name in others:
        (tmp_path / name).write_bytes(b"x")
    removed = remove_stale_parts(target)
    assert sorted(p.name for p in removed) == sorted(left + [old_style.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(others)
    assert remove_stale_parts(tmp_path / "missing" / "checkpoint.safetensors") == []
