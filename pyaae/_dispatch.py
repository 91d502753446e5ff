"""Backend choice for every op: ``"auto" | "kernels" | "reference" | "emu"``.

``auto`` takes the kernels when they are built for the tensors' device and dtype and the
reference otherwise; ``kernels`` where they cannot run is an error that says why; ``emu`` runs the
CUDA kernels on CPU tensors under the SIMT emulator (pyaae.emu, a test build).
"""
from __future__ import annotations

import functools
from types import ModuleType
from typing import Optional

import torch

from ._extension import extension, extension_error

BACKENDS = ("auto", "kernels", "reference", "emu")


def check_backend(backend: str) -> None:
    """Raise ValueError unless ``backend`` is one of BACKENDS."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")


@functools.lru_cache(maxsize=None)
def cuda_kernels_unavailable_reason() -> Optional[str]:
    """Why the CUDA kernels cannot run in this process (asked once: it launches a test kernel)."""
    info = extension().cuda_info()
    if not info["compiled"]:
        return info["reason"]
    if info["device_count"] == 0:
        return f"the CUDA kernels are compiled but cannot run: {info['reason']}"
    return None


def kernel_unavailable_reason(device: torch.device, dtype: torch.dtype) -> Optional[str]:
    """Why the kernels cannot run on tensors of this device and dtype, or None when they can."""
    if extension() is None:
        return extension_error()
    if device.type == "cuda":
        reason = cuda_kernels_unavailable_reason()
        if reason is not None:
            return reason
    elif device.type != "cpu":
        return f"no {device.type} kernels exist (CPU and CUDA only)"
    if dtype != torch.float32:
        return f"the kernels support float32 only, got {dtype}"
    return None


def emu_unavailable_reason(device: torch.device, dtype: torch.dtype) -> Optional[str]:
    """Why the emulated CUDA kernels cannot run on such tensors, or None when they can."""
    if extension("emu") is None:
        return extension_error("emu")
    if device.type != "cpu":
        return f"the emulated CUDA kernels run on CPU tensors, got a {device.type} tensor"
    if dtype != torch.float32:
        return f"the kernels support float32 only, got {dtype}"
    return None


def kernel_module(backend: str, device: torch.device, dtype: torch.dtype) -> Optional[ModuleType]:
    """Resolve ``backend`` for tensors on ``device`` with ``dtype``: the compiled module whose
    kernels to run, or None for the pure-PyTorch reference."""
    check_backend(backend)  # before the cache, which cannot even hash some bad values
    return _resolved_kernel_module(backend, device, dtype)


# Asked on every op call; the answer for a (backend, device, dtype) never changes within a process,
# so it is remembered (an error is raised again each time, not cached).
@functools.lru_cache(maxsize=None)
def _resolved_kernel_module(backend: str, device: torch.device, dtype: torch.dtype) -> Optional[ModuleType]:
    if backend == "reference":
        return None
    if backend == "emu":
        reason = emu_unavailable_reason(device, dtype)
        if reason is not None:
            raise RuntimeError(f"backend='emu' cannot run here: {reason}")
        return extension("emu")
    reason = kernel_unavailable_reason(device, dtype)
    if reason is None:
        return extension()
    if backend == "kernels":
        raise RuntimeError(f"backend='kernels' cannot run here: {reason}")
    return None
