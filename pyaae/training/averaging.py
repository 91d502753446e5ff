"""Weight averaging (Polyak averaging as an exponential moving average; the improved-GAN recipe reads
its semi-supervised error from such weights): after every training step each averaged weight moves a
fraction 1 - decay of the way to the trained one, in one fused pass over the weights
(torch.optim.swa_utils.AveragedModel with PyTorch's EMA update)."""
from __future__ import annotations

from typing import Dict, Optional

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

CHECKPOINT_PREFIX = "average."


def weight_average(model: nn.Module, decay: Optional[float]) -> Optional[AveragedModel]:
    """An average of ``model``'s parameters (a copy of the model holds it), or None when decay is None.
    The first update copies the weights; later ones blend them in."""
    if decay is None:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=False)


def average_tensors(average: Optional[AveragedModel]) -> Dict[str, torch.Tensor]:
    """The average's state under checkpoint names (none without an average)."""
    if average is None:
        return {}
    return {CHECKPOINT_PREFIX + k: v for k, v in average.state_dict().items()}


def restore_average(average: Optional[AveragedModel], tensors: Dict[str, torch.Tensor], path: object) -> None:
    """Load the average from a checkpoint's tensors; a checkpoint without one (written before the run
    averaged) is an error that says so, since starting an average mid-run is not the same run."""
    if average is None:
        return
    saved = {k[len(CHECKPOINT_PREFIX):]: v for k, v in tensors.items() if k.startswith(CHECKPOINT_PREFIX)}
    if not saved:
        raise ValueError(f"{path} holds no weight average: the run was trained without ema_decay; resume it "
                         "without ema_decay, or start a new run with it")
    average.load_state_dict(saved)
