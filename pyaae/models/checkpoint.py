"""Tensors and a JSON description in one safetensors file, written atomically and read without
unpickling anything."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, Tuple, Union

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .._atomic import write_atomically

METADATA_KEY = "pyaae"


def save_checkpoint(path: Union[str, os.PathLike], tensors: Dict[str, torch.Tensor], description: dict) -> Path:
    """Write ``tensors`` and ``description`` (JSON-serializable) to ``path``; an existing file is
    replaced only once the new one is completely on disk."""
    payload = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    metadata = {METADATA_KEY: json.dumps(description)}
    return write_atomically(Path(path), lambda tmp: save_file(payload, tmp, metadata=metadata))


def load_checkpoint(path: Union[str, os.PathLike]) -> Tuple[Dict[str, torch.Tensor], dict]:
    """The tensors and the description saved by ``save_checkpoint``; ValueError naming the file when
    it is not such a file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    try:
        tensors = load_file(str(path))
        with open(path, "rb") as f:
            header_size = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(header_size))
        description = json.loads(header["__metadata__"][METADATA_KEY])
    except (SafetensorError, ValueError, KeyError, OSError) as exc:
        raise ValueError(f"{path} is not a pyaae checkpoint (safetensors with a pyaae description): {exc}") from exc
    return tensors, description
