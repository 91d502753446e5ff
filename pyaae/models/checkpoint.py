"""Tensors and a JSON description in one safetensors file, written atomically and read without
unpickling anything."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple, Union

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .._atomic import write_atomically

METADATA_KEY = "pyaae"
# The safetensors library refuses headers past 100 MB; a longer length field is garbage, not a header
# to read into memory.
MAX_HEADER_BYTES = 100_000_000
# The safetensors names of the dtypes pyaae writes.
DTYPE_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
               torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
               torch.bool: "BOOL"}


def save_checkpoint(path: Union[str, os.PathLike], tensors: Dict[str, torch.Tensor], description: dict) -> Path:
    """Write ``tensors`` and ``description`` (JSON-serializable) to ``path``; an existing file is
    replaced only once the new one is completely on disk."""
    payload = {name: t.detach().cpu().contiguous() for name, t in tensors.items()}
    metadata = {METADATA_KEY: json.dumps(description)}
    return write_atomically(Path(path), lambda tmp: save_file(payload, tmp, metadata=metadata))


def read_checkpoint_header(path: Union[str, os.PathLike]) -> Tuple[Dict[str, dict], dict]:
    """(entries, description) of a file written by ``save_checkpoint``, from its header alone: entries
    maps each tensor's name to its safetensors entry (``dtype``, ``shape``, ``data_offsets``). The
    header's length is checked against the file before it is read. ValueError naming the file when it
    is not such a file, FileNotFoundError when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    try:
        with open(path, "rb") as f:
            length = int.from_bytes(f.read(8), "little")
            available = os.fstat(f.fileno()).st_size - 8
            if not 0 < length <= min(available, MAX_HEADER_BYTES):
                raise ValueError(f"its first 8 bytes give a header of {length} bytes, but the file holds "
                                 f"{max(available, 0)} after them")
            header = json.loads(f.read(length))
        if not isinstance(header, dict):
            raise ValueError("its header is not a JSON object")
        description = json.loads(header.pop("__metadata__")[METADATA_KEY])
        if not isinstance(description, dict):
            raise ValueError("its description is not a JSON object")
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise ValueError(f"{path} is not a pyaae checkpoint (safetensors with a pyaae description): {exc}") from exc
    return header, description


def check_tensors(path: Union[str, os.PathLike], entries: Mapping[str, dict],
                  expected: Mapping[str, torch.Tensor]) -> None:
    """ValueError naming the file and the tensor unless every tensor of ``expected`` (on any device,
    meta included) is in ``entries`` with its dtype and shape. A safetensors file states each
    tensor's dtype, and loading converts it to the parameter's: an I32 header over F32 bytes would
    load as weights near 1e9 without this check."""
    for name, tensor in expected.items():
        entry = entries.get(name)
        if not isinstance(entry, dict):
            raise ValueError(f"{path} holds no tensor {name!r}: it was written for another model")
        dtype, shape = DTYPE_NAMES.get(tensor.dtype, str(tensor.dtype)), list(tensor.shape)
        if entry.get("dtype") != dtype or entry.get("shape") != shape:
            raise ValueError(f"{path}: tensor {name!r} is {entry.get('dtype')} {entry.get('shape')} but the model "
                             f"needs {dtype} {shape}: the file is damaged or was written for another model")


def load_checkpoint(path: Union[str, os.PathLike], expected: Optional[Mapping[str, torch.Tensor]] = None
                    ) -> Tuple[Dict[str, torch.Tensor], dict]:
    """The tensors and the description saved by ``save_checkpoint``; ValueError naming the file when
    it is not such a file. ``expected``: tensors (any device, meta included) whose dtype and shape the
    file must match (see check_tensors), checked before any tensor is read."""
    entries, description = read_checkpoint_header(path)
    if expected is not None:
        check_tensors(path, entries, expected)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise ValueError(f"{path} is not a pyaae checkpoint (safetensors with a pyaae description): {exc}") from exc
    return tensors, description
