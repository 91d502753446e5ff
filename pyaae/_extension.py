"""Lazy access to the compiled modules: pyaae._C (the kernels) and pyaae.emu (the CUDA kernels
under CPU emulation, built only with PYAAE_BUILD_EMU=1).

Importing pyaae never fails because a module is missing or broken; asking for it then raises with
the reason, and ``build_info()`` reports it.
"""
from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Optional, Tuple

_HINTS = {"emu": " (build it with PYAAE_BUILD_EMU=1 pip install .)"}


@functools.lru_cache(maxsize=None)
def _load(name: str) -> Tuple[Optional[ModuleType], str]:
    try:
        return importlib.import_module(f"pyaae.{name}"), ""
    except Exception as exc:  # ImportError, or a bad PYAAE_SIMD raising ValueError at import
        return None, f"pyaae.{name} could not be imported: {exc}{_HINTS.get(name, '')}"


def extension(name: str = "_C") -> Optional[ModuleType]:
    """The compiled module ``pyaae.<name>``, or None when it is not available."""
    return _load(name)[0]


def extension_error(name: str = "_C") -> str:
    """Why ``pyaae.<name>`` is not available ('' when it is)."""
    return _load(name)[1]


def require_extension(name: str = "_C") -> ModuleType:
    """The compiled module ``pyaae.<name>``; raises RuntimeError with the reason when it is missing."""
    module, error = _load(name)
    if module is None:
        raise RuntimeError(error)
    return module
