"""Backend choice for every op: ``"auto" | "kernels" | "reference"``.

``auto`` takes the kernels when they are built for the tensors' device and dtype and the
reference otherwise; ``kernels`` where they cannot run is an error that says why.
"""
from __future__ import annotations

from typing import Optional

import torch

from ._extension import extension, extension_error

BACKENDS = ("auto", "kernels", "reference")


def check_backend(backend: str) -> None:
    """Raise ValueError unless ``backend`` is one of BACKENDS."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")


def kernel_unavailable_reason(device: torch.device, dtype: torch.dtype) -> Optional[str]:
    """Why the kernels cannot run on tensors of this device and dtype, or None when they can."""
    if extension() is None:
        return extension_error()
    if device.type != "cpu":
        return f"no {device.type} kernels are built in this version (CPU kernels only)"
    if dtype != torch.float32:
        return f"the kernels support float32 only, got {dtype}"
    return None


def use_kernels(backend: str, device: torch.device, dtype: torch.dtype) -> bool:
    """Resolve ``backend`` for tensors on ``device`` with ``dtype``: True for the kernels."""
    check_backend(backend)
    if backend == "reference":
        return False
    reason = kernel_unavailable_reason(device, dtype)
    if reason is None:
        return True
    if backend == "kernels":
        raise RuntimeError(f"backend='kernels' cannot run here: {reason}")
    return False
