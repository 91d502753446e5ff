"""Turns TrainConfig.dataset into tensors: images float32 [n, d] and labels int64 [n] (or None)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from ..data import SYNTHETIC, blobs, load_mnist
from .config import TrainConfig

Data = Tuple[torch.Tensor, Optional[torch.Tensor]]
BLOBS_SIZE = 5000  # training examples of the synthetic set when train_size is not given
MAX_CLASSES = 10_000


def training_data(config: TrainConfig) -> Data:
    """The training images and labels ``config`` names, cut to ``train_size``."""
    dataset = config.dataset
    if isinstance(dataset, str):
        if dataset == "mnist":
            images, labels = load_mnist(config.data_dir, "train", download=config.download)
        elif dataset in SYNTHETIC:
            images, labels = blobs(config.train_size or BLOBS_SIZE, seed=config.seed)
        else:
            raise ValueError(f"dataset must be 'mnist', one of {SYNTHETIC}, a tensor, an (images, labels) pair or "
                             f"a torch Dataset; got {dataset!r}")
    elif isinstance(dataset, torch.Tensor):
        images, labels = dataset, None
    elif isinstance(dataset, (tuple, list)) and len(dataset) == 2:
        images, labels = dataset
    elif isinstance(dataset, torch.utils.data.Dataset):
        images, labels = _stack(dataset)
    else:
        raise TypeError(f"dataset must be 'mnist', one of {SYNTHETIC}, a tensor, an (images, labels) pair or a "
                        f"torch Dataset; got {type(dataset).__name__}")
    images, labels = _checked(images, labels)
    if config.reconstruction_loss == "bce":
        low, high = images.min().item(), images.max().item()
        if low < 0 or high > 1:
            raise ValueError(f"reconstruction_loss='bce' (the default: a Bernoulli decoder) needs data in [0, 1], "
                             f"but the images range over [{low:.4g}, {high:.4g}]: scale them into [0, 1] (8-bit "
                             f"pixels: divide by 255), or train with reconstruction_loss='mse'")
    if config.train_size is not None:
        if config.train_size > len(images):
            raise ValueError(f"train_size {config.train_size} exceeds the {len(images)} training examples")
        images = images[:config.train_size]
        labels = None if labels is None else labels[:config.train_size]
    return images, labels


def heldout_data(config: TrainConfig, n: int = 5000) -> Optional[Data]:
    """Up to ``n`` validation examples for ``config``'s named dataset (for plots and checks), or None
    for user data, which has no held-out split."""
    if config.dataset == "mnist":
        images, labels = load_mnist(config.data_dir, "validation", download=config.download)
    elif isinstance(config.dataset, str) and config.dataset in SYNTHETIC:
        images, labels = blobs(n, split="validation", seed=config.seed)
    else:
        return None
    return images[:n], labels[:n]


def _stack(dataset: torch.utils.data.Dataset) -> Data:
    """Materializes a map-style Dataset of images or (image, label) pairs."""
    items = [dataset[i] for i in range(len(dataset))]
    if not items:
        raise ValueError("dataset is empty")
    if isinstance(items[0], (tuple, list)):
        images = torch.stack([torch.as_tensor(item[0]).reshape(-1) for item in items])
        labels = torch.as_tensor([int(item[1]) for item in items])
        return images, labels
    return torch.stack([torch.as_tensor(item).reshape(-1) for item in items]), None


def _checked(images, labels) -> Data:
    if not isinstance(images, torch.Tensor) or images.dim() != 2 or not images.is_floating_point():
        raise ValueError(f"dataset images must be a floating-point tensor [n, features], got "
                         f"{getattr(images, 'dtype', type(images).__name__)} {tuple(getattr(images, 'shape', ()))}")
    if len(images) == 0:
        raise ValueError("dataset is empty")
    if not torch.isfinite(images).all():
        raise ValueError("dataset images contain NaN or infinity")
    if labels is not None:
        try:
            labels = torch.as_tensor(labels)
        except (RuntimeError, TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"dataset labels must be integers that fit in int64: {exc}") from None
        if labels.dtype.is_floating_point or labels.shape != (len(images),):
            raise ValueError(f"dataset labels must be integers of shape ({len(images)},), got "
                             f"{labels.dtype} {tuple(labels.shape)}")
        if labels.min() < 0:
            raise ValueError("dataset labels must be >= 0 (unlabeled examples are chosen by num_labeled)")
        if labels.max() >= MAX_CLASSES:
            # A supervised decoder takes one input per class: a label of 1e6 built a million-input layer.
            raise ValueError(f"dataset labels reach {int(labels.max())}: classes are numbered 0 to at most "
                             f"{MAX_CLASSES - 1}")
        labels = labels.long()
    return images.float().contiguous(), labels
