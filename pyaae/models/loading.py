"""Load any pyaae model file, whichever class wrote it."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional, Union

import torch

from ..priors import Prior
from .aae import AAE
from .categorical_aae import CategoricalAAE
from .checkpoint import METADATA_KEY

MODEL_CLASSES = {cls.__name__: cls for cls in (AAE, CategoricalAAE)}


def load_model(path: Union[str, os.PathLike], prior: Optional[Prior] = None,
               map_location: Union[str, torch.device] = "cpu") -> Union[AAE, CategoricalAAE]:
    """The model saved at ``path`` by ``AAE.save`` or ``CategoricalAAE.save`` (reads the JSON header
    to pick the class; no code runs)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} not found")
    try:
        with open(path, "rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        name = json.loads(header["__metadata__"][METADATA_KEY])["model"]
    except (ValueError, KeyError, OSError) as exc:
        raise ValueError(f"{path} is not a pyaae model file: {exc}") from exc
    if name not in MODEL_CLASSES:
        raise ValueError(f"{path} holds a {name!r}, not one of {', '.join(MODEL_CLASSES)}")
    return MODEL_CLASSES[name].load(path, prior=prior, map_location=map_location)
