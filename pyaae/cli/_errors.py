"""What the command line says when a command fails: one line that names the argument or file and
what to do, and the exit status (USAGE: the arguments or the files they name are wrong; FAILED: the
run itself failed). The traceback is for --debug."""
from __future__ import annotations

import argparse
import errno
from pathlib import Path
from typing import Optional, Tuple

import torch
from safetensors import SafetensorError

from ..data.mnist import MnistError, MnistMissing, holds_mnist

USAGE, FAILED = 2, 1
DEBUG_HINT = "pass --debug (or set PYAAE_DEBUG=1) for the traceback"

# errno: (what to do, status). The rest (an I/O error, a full disk) fail the run.
_OS_ERRORS = {
    errno.ENOENT: ("check the path", USAGE),
    errno.EEXIST: ("a file stands where a folder must be: choose another path or move the file", USAGE),
    errno.ENOTDIR: ("a file stands where a folder must be: choose another path or move the file", USAGE),
    errno.EISDIR: ("it is a folder: name a file", USAGE),
    errno.EACCES: ("choose a path you may write to, or change its permissions", USAGE),
    errno.EPERM: ("choose a path you may write to, or change its permissions", USAGE),
    errno.EROFS: ("the file system is read-only: choose a path on another", USAGE),
    errno.ENOSPC: ("the disk is full: free space, or choose a path on another disk", FAILED),
    errno.EDQUOT: ("the disk quota is used up: free space, or choose a path on another disk", FAILED),
}


def check_device(args: argparse.Namespace) -> None:
    """ValueError naming --device unless it is a device this PyTorch can run on (checked before any
    work: 'cuda' without CUDA was an AssertionError deep in the run, 'meta' a RuntimeError)."""
    text = getattr(args, "device", None)
    if text is None:
        return
    try:
        device = torch.device(text)
    except (RuntimeError, TypeError):
        raise ValueError(f"--device {text!r} is not a device: use cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"--device {text!r}: pyaae runs on cpu, cuda or cuda:N")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            built = "has no CUDA device" if torch.backends.cuda.is_built() else "was built without CUDA"
            raise ValueError(f"--device {text!r}: this PyTorch {built}; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"--device {text!r}: there are {torch.cuda.device_count()} CUDA devices "
                             f"(cuda:0 to cuda:{torch.cuda.device_count() - 1})")


def describe(exc: BaseException, args: argparse.Namespace) -> Tuple[str, int]:
    """(one line for the user, exit status) for a failed command."""
    if isinstance(exc, MnistMissing):
        return _mnist_missing(exc, args), USAGE
    if isinstance(exc, MnistError):
        given = getattr(args, "data_dir", None)
        if given and not holds_mnist(given):  # a mistyped path, most likely
            return f"--data-dir {given} holds no MNIST files, and {_one_line(exc)}: check the path", USAGE
        return f"{_one_line(exc)}{f' (--data-dir {given})' if given else ''}", USAGE
    if isinstance(exc, (ValueError, TypeError)):
        return _one_line(exc), USAGE
    if isinstance(exc, OSError) and exc.errno is None:
        return _one_line(exc), USAGE if isinstance(exc, FileNotFoundError) else FAILED
    if isinstance(exc, OSError):
        hint, status = _OS_ERRORS.get(exc.errno, (DEBUG_HINT, FAILED))
        return f"{_path_of(exc, args)}: {exc.strerror or exc}; {hint}", status
    if isinstance(exc, SafetensorError):
        full = "StorageFull" in str(exc) or "os error 28" in str(exc)
        hint = _OS_ERRORS[errno.ENOSPC][0] if full else DEBUG_HINT
        return f"writing or reading a safetensors file failed: {_one_line(exc)}; {hint}", FAILED
    if isinstance(exc, MemoryError):
        return ("out of memory; ask for less at a time (--batch-size, --n, --num-samples, --hidden) or use a "
                "machine with more memory"), FAILED
    return f"{type(exc).__name__}: {_one_line(exc)}; {DEBUG_HINT}", FAILED


def _mnist_missing(exc: MnistMissing, args: argparse.Namespace) -> str:
    """The data layer's MnistMissing in command-line words."""
    given = getattr(args, "data_dir", None)
    if not given:
        return (f"the default MNIST folder {exc.folder} holds no MNIST files: pass --data-dir with the folder that "
                "holds them, or leave out --no-download to fetch MNIST")
    if exc.empty:
        return (f"--data-dir {given} holds no MNIST files: check the path, or leave out --no-download to fetch MNIST "
                "into it")
    return f"--data-dir {given} lacks {exc.name}: copy it there, or leave out --no-download to fetch it"


def _path_of(exc: OSError, args: argparse.Namespace) -> str:
    """The failed path, with the option that named it or a folder above it (e.g. '--out runs/x')."""
    if exc.filename is None:
        return "a file"
    failed = Path(exc.filename)
    option = _option_for(failed, args)
    return f"{option} {failed}" if option else str(failed)


def _option_for(path: Path, args: argparse.Namespace) -> Optional[str]:
    for dest, value in vars(args).items():
        if isinstance(value, (str, Path)) and str(value) and dest not in ("command", "evaluation", "device"):
            given = Path(value)
            if path == given or given in path.parents or path in given.parents:
                return "--" + dest.replace("_", "-")
    return None


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line (some span several: PyTorch's load_state_dict errors)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if isinstance(exc, KeyError) and len(lines) == 1:
        return f"missing entry {lines[0]}"
    text = "; ".join(lines) or type(exc).__name__
    return text if len(text) <= 600 else text[:597] + "..."
