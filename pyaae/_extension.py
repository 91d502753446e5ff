"""Lazy access to the compiled kernels (pyaae._C).

Importing pyaae never fails because the extension is missing or broken; asking for the kernels
then raises with the reason, and ``build_info()`` reports it.
"""
from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Optional, Tuple


@functools.lru_cache(maxsize=None)
def _load() -> Tuple[Optional[ModuleType], str]:
    try:
        return importlib.import_module("pyaae._C"), ""
    except Exception as exc:  # ImportError, or a bad PYAAE_SIMD raising ValueError at import
        return None, f"pyaae._C could not be imported: {exc}"


def extension() -> Optional[ModuleType]:
    """The compiled module, or None when it is not available."""
    return _load()[0]


def extension_error() -> str:
    """Why the compiled module is not available ('' when it is)."""
    return _load()[1]


def require_extension() -> ModuleType:
    """The compiled module; raises RuntimeError with the reason when it is not available."""
    module, error = _load()
    if module is None:
        raise RuntimeError(error)
    return module
