"""Saving and loading of the models: weights, constructor arguments and prior in one safetensors
file with a JSON description, written atomically and read without running code."""
from __future__ import annotations

import os
from typing import Optional, Union

import torch

from .._version import __version__
from ..priors import Prior, prior_from_config
from .checkpoint import load_checkpoint, read_checkpoint_header, save_checkpoint

# The largest size (a layer's width, a dimension, a count of labels or categories) a model file may
# give: far past any model pyaae trains, and small enough that building the model cannot exhaust memory.
MAX_SIZE = 1 << 24


class SavedModel:
    """Mixin of the model classes: ``save`` and the classmethod ``load``. A model keeps its
    constructor arguments (less the prior) in ``self.config``; ``saved_config`` returns those the
    constructor takes."""

    config: dict
    prior: Prior

    def saved_config(self) -> dict:
        """The constructor's keyword arguments that rebuild this model (the prior apart)."""
        return dict(self.config)

    def save(self, path: Union[str, os.PathLike]) -> None:
        """The weights, the configuration and the prior in one safetensors file, written atomically.
        A user-defined prior cannot be saved: pass it again to ``load``."""
        description = {"pyaae_version": __version__, "model": type(self).__name__, "config": self.saved_config(),
                       "prior": self.prior.to_config()}
        save_checkpoint(path, self.state_dict(), description)

    @classmethod
    def load(cls: type, path: Union[str, os.PathLike], prior: Optional[Prior] = None,
             map_location: Union[str, torch.device] = "cpu"):
        """A model written by ``save`` (safetensors and JSON only: reading runs no code from the file).

        Before anything is allocated, the header's sizes are bounded and the model is built on the meta
        device (no memory) to check every tensor's dtype and shape in the file against the model's: a
        damaged or forged header is a ValueError naming the file, never wrong weights."""
        entries, description = read_checkpoint_header(path)
        model_name = check_model_description(path, description)
        if model_name != cls.__name__:
            raise ValueError(f"{path} holds a {model_name!r}, not a {cls.__name__}")
        config = description["config"]
        _check_sizes(path, config, len(entries))
        if prior is None:
            _check_sizes(path, description["prior"], len(entries))
            prior = prior_from_config(description["prior"])
        with torch.device("meta"):
            skeleton = cls(prior, **config)
        tensors, _ = load_checkpoint(path, expected=skeleton.state_dict())
        model = cls(prior, **config)
        model.load_state_dict(tensors)
        return model.to(map_location)


def check_model_description(path: Union[str, os.PathLike], description: dict) -> str:
    """The model class named by a model file's description; ValueError naming the file when the
    description is not a model's (a training checkpoint, or a part missing)."""
    if description.get("kind") == "training_state":
        raise ValueError(f"{path} is a training checkpoint (what --resume continues), not a model: load the "
                         "model.safetensors that training wrote beside it")
    model, config, prior = description.get("model"), description.get("config"), description.get("prior")
    if not isinstance(model, str) or not isinstance(config, dict) or not isinstance(prior, dict):
        raise ValueError(f"{path} is not a pyaae model file: its description lacks the model's name, config or "
                         "prior")
    return model


def _check_sizes(path: Union[str, os.PathLike], config: dict, num_tensors: int) -> None:
    """ValueError unless every size in a model's or prior's configuration is at most MAX_SIZE and the
    hidden layers are fewer than the file's tensors: a forged header must not make the model's
    constructor allocate (hidden=[3000000] took 351 MiB before any shape was compared)."""
    for key, value in config.items():
        sizes = value if isinstance(value, list) else [value]
        ints = [v for v in sizes if isinstance(v, int) and not isinstance(v, bool)]
        if any(not 0 <= v <= MAX_SIZE for v in ints):
            raise ValueError(f"{path}: {key} = {value} in the header is outside [0, {MAX_SIZE}]: the file is damaged")
        if key == "hidden" and len(sizes) > num_tensors:
            raise ValueError(f"{path}: {len(sizes)} hidden layers in the header, but the file holds {num_tensors} "
                             "tensors: the file is damaged")
