"""A pyplot-free Figure (safe in threads and headless runs) and image-grid helpers."""
from __future__ import annotations

import math
import os
from typing import Optional, Sequence, Tuple, Union

import torch

PathLike = Union[str, os.PathLike]


def new_figure(width: float, height: float):
    """A matplotlib Figure with a non-interactive canvas; ImportError says how to install matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("pyaae.viz needs matplotlib (a dependency of pyaae): pip install matplotlib") from exc
    return Figure(figsize=(width, height), layout="constrained")


def finish(fig, path: Optional[PathLike]):
    """Write ``fig`` to ``path`` (PNG, 120 dpi) when given; return it."""
    if path is not None:
        fig.savefig(os.fspath(path), dpi=120)
    return fig


def image_shape(features: int, shape: Optional[Tuple[int, int]]) -> Tuple[int, int]:
    """(height, width) of one image: ``shape`` or, by default, the square with ``features`` pixels."""
    if shape is None:
        side = math.isqrt(features)
        if side * side != features:
            raise ValueError(f"images of {features} features are not square: pass image_shape=(height, width)")
        return side, side
    if shape[0] * shape[1] != features:
        raise ValueError(f"image_shape {tuple(shape)} does not hold {features} features")
    return int(shape[0]), int(shape[1])


def tile(images: torch.Tensor, rows: int, cols: int, shape: Tuple[int, int], gap: int = 1) -> torch.Tensor:
    """images [rows * cols, h * w] as one [rows * (h + gap), cols * (w + gap)] mosaic (gap pixels white)."""
    h, w = shape
    canvas = torch.ones(rows * (h + gap) - gap, cols * (w + gap) - gap)
    for i, image in enumerate(images[:rows * cols].detach().float().cpu()):
        r, c = divmod(i, cols)
        canvas[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = image.reshape(h, w)
    return canvas


def show_mosaic(ax, mosaic: torch.Tensor, title: str, row_labels: Sequence[str] = ()) -> None:
    """Draw a [0, 1] grey mosaic on ``ax`` (ink dark on white, like the paper's figures)."""
    ax.imshow(1.0 - mosaic.clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    if row_labels:
        step = mosaic.shape[0] / len(row_labels)
        ax.set_yticks([step * (i + 0.5) for i in range(len(row_labels))], list(row_labels))
