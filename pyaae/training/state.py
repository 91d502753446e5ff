"""The training checkpoint: model, optimizers, random state, epoch and history in one safetensors
file with a JSON description (written atomically; loading unpickles nothing)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import torch

from .._version import __version__
from ..models import AAE
from ..models.checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig

CHECKPOINT_NAME = "checkpoint.safetensors"


def checkpoint_path(config: TrainConfig) -> Path:
    """Where ``config``'s run keeps its checkpoint."""
    return Path(config.checkpoint_dir) / CHECKPOINT_NAME


def save_training_state(config: TrainConfig, model: AAE, optimizers: Dict[str, torch.optim.Optimizer], epoch: int,
                        history: List[dict]) -> Path:
    """Everything a resumed run needs after ``epoch`` completed epochs."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    scalars: Dict[str, Dict[str, float]] = {}
    for phase, optimizer in optimizers.items():
        for index, values in optimizer.state_dict()["state"].items():
            for key, value in values.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optimizer.{phase}.{index}.{key}"] = value
                else:
                    scalars.setdefault(phase, {})[f"{index}.{key}"] = value
    tensors["rng.cpu"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.device(config.device).type == "cuda":
        tensors["rng.cuda"] = torch.cuda.get_rng_state(torch.device(config.device))
    description = {"pyaae_version": __version__, "kind": "training_state", "epoch": epoch, "history": history,
                   "optimizer_scalars": scalars, "model": {"config": model.config},
                   "config": config.to_json()}
    return save_checkpoint(checkpoint_path(config), tensors, description)


def restore_training_state(config: TrainConfig, model: AAE,
                           optimizers: Dict[str, torch.optim.Optimizer]) -> Tuple[int, List[dict]]:
    """Load the checkpoint into ``model`` and ``optimizers``; returns (completed epochs, history), or
    (0, []) when there is no checkpoint yet. A checkpoint of another architecture is a ValueError."""
    path = checkpoint_path(config)
    if not path.exists():
        return 0, []
    tensors, description = load_checkpoint(path)
    if description.get("kind") != "training_state":
        raise ValueError(f"{path} is not a pyaae training checkpoint")
    saved, wanted = (_architecture(c) for c in (description["model"]["config"], model.config))
    if saved != wanted:
        raise ValueError(f"{path} was written for a model {saved}, not {wanted}: resume with the same settings "
                         "or another checkpoint_dir")
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    for phase, optimizer in optimizers.items():
        restored: Dict[int, dict] = {}
        prefix = f"optimizer.{phase}."
        for key, value in tensors.items():
            if key.startswith(prefix):
                index, name = key[len(prefix):].split(".", 1)
                restored.setdefault(int(index), {})[name] = value
        for key, value in description["optimizer_scalars"].get(phase, {}).items():
            index, name = key.split(".", 1)
            restored.setdefault(int(index), {})[name] = value
        state = optimizer.state_dict()
        state["state"] = restored
        optimizer.load_state_dict(state)
    torch.set_rng_state(tensors["rng.cpu"])
    if "rng.cuda" in tensors:
        torch.cuda.set_rng_state(tensors["rng.cuda"], torch.device(config.device))
    return int(description["epoch"]), list(description["history"])


def _architecture(model_config: dict) -> dict:
    """What must match to load the weights (the backend may change between runs)."""
    return {k: v for k, v in model_config.items() if k != "backend"}
