"""Saving and loading of the models: weights, constructor arguments and prior in one safetensors
file with a JSON description, written atomically and read without running code."""
from __future__ import annotations

import os
from typing import Optional, Union

import torch

from .._version import __version__
from ..priors import Prior, prior_from_config
from .checkpoint import load_checkpoint, save_checkpoint


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
        """A model written by ``save`` (safetensors and JSON only: reading runs no code from the file)."""
        tensors, description = load_checkpoint(path)
        if description.get("model") != cls.__name__:
            raise ValueError(f"{path} holds a {description.get('model')!r}, not a {cls.__name__}")
        model = cls(prior if prior is not None else prior_from_config(description["prior"]), **description["config"])
        model.load_state_dict(tensors)
        return model.to(map_location)
