"""Load any pyaae model file, whichever class wrote it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

import torch

from ..priors import Prior
from .aae import AAE
from .categorical_aae import CategoricalAAE
from .checkpoint import read_checkpoint_header
from .persistence import check_model_description

MODEL_CLASSES = {cls.__name__: cls for cls in (AAE, CategoricalAAE)}


def load_model(path: Union[str, os.PathLike], prior: Optional[Prior] = None,
               map_location: Union[str, torch.device] = "cpu") -> Union[AAE, CategoricalAAE]:
    """The model saved at ``path`` by ``AAE.save`` or ``CategoricalAAE.save`` (reads the JSON header
    to pick the class; no code runs)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"model file {path} not found")
    name = check_model_description(path, read_checkpoint_header(path)[1])
    if name not in MODEL_CLASSES:
        raise ValueError(f"{path} holds a {name!r}, not one of {', '.join(MODEL_CLASSES)}")
    return MODEL_CLASSES[name].load(path, prior=prior, map_location=map_location)
