"""The training checkpoint: model, optimizers, random state (every rank's), epoch and history in one
safetensors file with a JSON description (written atomically by rank 0; loading unpickles nothing)."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch

from .._process_group import barrier, gather_to_all, rank_and_world, sum_over_ranks
from .._version import __version__
from ..models import AAE
from ..models.checkpoint import load_checkpoint, read_checkpoint_header, save_checkpoint
from .averaging import average_tensors, restore_average
from .config import TrainConfig

CHECKPOINT_NAME = "checkpoint.safetensors"
# Settings that say how long, where and on what a run trains, not what it computes: a resumed run
# may change them freely (a new time budget or epoch count, another device or backend).
RUN_CONTROL = frozenset({"epochs", "max_minutes", "device", "backend", "checkpoint_dir", "resume", "progress",
                         "data_dir", "download"})


def checkpoint_path(config: TrainConfig) -> Path:
    """Where ``config``'s run keeps its checkpoint."""
    return Path(config.checkpoint_dir) / CHECKPOINT_NAME


def save_training_state(config: TrainConfig, model: AAE, optimizers: Dict[str, torch.optim.Optimizer], epoch: int,
                        history: List[dict], average: Optional[torch.nn.Module] = None) -> Path:
    """Everything a resumed run needs after ``epoch`` completed epochs (with the weight average, when
    the run keeps one). Under torch.distributed every rank calls this: rank 0 writes the file with each
    rank's random state, and every rank returns once it is on disk."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors.update(average_tensors(average))
    scalars: Dict[str, Dict[str, float]] = {}
    for phase, optimizer in optimizers.items():
        for index, values in optimizer.state_dict()["state"].items():
            for key, value in values.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optimizer.{phase}.{index}.{key}"] = value
                else:
                    scalars.setdefault(phase, {})[f"{index}.{key}"] = value
    tensors.update(_random_states(config))
    rank, world = rank_and_world()
    description = {"pyaae_version": __version__, "kind": "training_state", "epoch": epoch, "history": history,
                   "optimizer_scalars": scalars, "model": {"config": model.config},
                   "config": config.to_json(), "world_size": world}
    path = checkpoint_path(config)
    if rank == 0:
        save_checkpoint(path, tensors, description)
    barrier()
    return path


def _random_states(config: TrainConfig) -> Dict[str, torch.Tensor]:
    """PyTorch's generator states of every rank (rank 0's under the one-process names)."""
    states = {"rng.cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.device(config.device).type == "cuda":
        states["rng.cuda"] = torch.cuda.get_rng_state(torch.device(config.device))
    out = {}
    for name, state in states.items():
        for rank, part in enumerate(gather_to_all(state)):
            out[name if rank == 0 else f"{name}.{rank}"] = part
    return out


def restore_training_state(config: TrainConfig, model: AAE, optimizers: Dict[str, torch.optim.Optimizer],
                           average: Optional[torch.nn.Module] = None) -> Tuple[int, List[dict]]:
    """Load the checkpoint into ``model``, ``optimizers`` and the weight average; returns (completed
    epochs, history), or (0, []) when there is no checkpoint yet. A checkpoint of another architecture
    is a ValueError."""
    path = checkpoint_path(config)
    rank, world = rank_and_world()
    seen_by = int(sum_over_ranks(torch.tensor([float(path.exists())])).item())
    if 0 < seen_by < world:
        raise ValueError(f"{path} exists for {seen_by} of the {world} ranks only: put checkpoint_dir on storage "
                         "that every rank sees")
    if not seen_by:
        return 0, []
    _, description = read_checkpoint_header(path)
    if description.get("kind") != "training_state":
        raise ValueError(f"{path} is not a pyaae training checkpoint")
    if description.get("world_size", 1) != world:
        raise ValueError(f"{path} was written by a run of {description.get('world_size', 1)} processes; resume it "
                         f"with as many, not {world} (each rank's random state is in the checkpoint)")
    saved, wanted = (_architecture(c) for c in (description["model"]["config"], model.config))
    if saved != wanted:
        raise ValueError(f"{path} was written for a model {saved}, not {wanted}: resume with the same settings "
                         "or another checkpoint_dir")
    _warn_of_changed_settings(path, description.get("config", {}), config.to_json())
    # The weights' dtypes and shapes checked against the model before any tensor is read.
    tensors, _ = load_checkpoint(path, expected={f"model.{k}": v for k, v in model.state_dict().items()})
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    restore_average(average, tensors, path)
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
    suffix = f".{rank}" if rank else ""
    torch.set_rng_state(tensors["rng.cpu" + suffix])
    if "rng.cuda" + suffix in tensors:
        torch.cuda.set_rng_state(tensors["rng.cuda" + suffix], torch.device(config.device))
    return int(description["epoch"]), list(description["history"])


def _warn_of_changed_settings(path: Path, saved: dict, wanted: dict) -> None:
    """A resumed run continues step for step only under its own settings; another seed, rate or noise
    is allowed (say, a lower rate to fine-tune) but named, so that it is never a silent accident."""
    changed = [f"{k} {saved[k]!r} -> {wanted[k]!r}" for k in sorted(wanted)
               if k in saved and k not in RUN_CONTROL and saved[k] != wanted[k] and not _described(saved[k])]
    if changed:
        warnings.warn(f"resuming {path} under settings its run did not use: {'; '.join(changed)}", stacklevel=4)


def _described(value: object) -> bool:
    """A setting to_json could only describe ("<...>": a tensor dataset, a prior object's default repr,
    whose address changes from process to process), so not one to compare."""
    return isinstance(value, str) and value.startswith("<") and value.endswith(">")


# Model settings that change how it trains or runs, not its weights: checkpoints from before these
# settings existed lack them, and TrainConfig's own check names a change of them.
NOT_ARCHITECTURE = frozenset({"backend", "dropout", "encoder_noise_scale", "hidden_noise"})


def _architecture(model_config: dict) -> dict:
    """What must match to load the weights (the backend may change between runs)."""
    return {k: v for k, v in model_config.items() if k not in NOT_ARCHITECTURE}
