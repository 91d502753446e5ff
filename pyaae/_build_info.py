"""``pyaae.build_info()``: what was built, what runs here, and why something does not."""
from __future__ import annotations

from typing import Any, Dict

import torch

from ._dispatch import emu_unavailable_reason, kernel_unavailable_reason
from ._extension import extension, extension_error
from ._threads import get_num_threads
from ._version import __version__


def build_info() -> Dict[str, Any]:
    """A dict describing this installation.

    Keys: ``version``, ``extension_loaded``, ``extension_error``, ``compiler``, ``simd`` (the level
    chosen at run time, "avx2" or "generic"), ``simd_supported``, ``num_threads``, ``cuda_compiled``,
    ``cuda_archs`` (list), ``cuda_device_available``, ``cuda_reason`` (why no CUDA device is used, or
    ""), and ``ops``: for each op family, ``{"backends": {name: bool}, "reasons": {name: why not}}``
    over the backends "kernels-cpu", "kernels-cuda", "emu" (CUDA kernels under CPU emulation) and
    "reference".
    """
    ext = extension()
    cuda = ext.cuda_info() if ext is not None else {"compiled": False, "archs": "", "device_count": 0,
                                                    "reason": extension_error()}
    info: Dict[str, Any] = {
        "version": __version__,
        "extension_loaded": ext is not None,
        "extension_error": extension_error(),
        "compiler": ext.COMPILER if ext is not None else None,
        "simd": ext.simd_level() if ext is not None else None,
        "simd_supported": list(ext.supported_simd_levels()) if ext is not None else [],
        "num_threads": get_num_threads(),
        "torch_version": torch.__version__,
        "cuda_compiled": bool(cuda["compiled"]),
        "cuda_archs": [a for a in cuda["archs"].split(";") if a],
        "cuda_device_available": cuda["device_count"] > 0,
        "cuda_reason": cuda["reason"],
        "ops": {},
    }
    reasons = {
        "kernels-cpu": kernel_unavailable_reason(torch.device("cpu"), torch.float32),
        "kernels-cuda": kernel_unavailable_reason(torch.device("cuda"), torch.float32),
        "emu": emu_unavailable_reason(torch.device("cpu"), torch.float32),
    }
    backends = {name: why is None for name, why in reasons.items()}
    backends["reference"] = True
    for op in ("fused_linear", "fused_mlp", "prior_sampling", "parzen"):
        info["ops"][op] = {"backends": dict(backends), "reasons": {k: v for k, v in reasons.items() if v}}
    return info
