"""All of a run's plots in one folder (what ``python -m pyaae train`` writes)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Union

import torch

from ..models import AAE, CategoricalAAE
from ._figure import PathLike
from .codes import plot_codes
from .curves import plot_history
from .images import plot_manifold, plot_reconstructions, plot_samples


def save_plots(model: Union[AAE, CategoricalAAE], out_dir: PathLike, images: torch.Tensor,
               labels: Optional[torch.Tensor] = None,
               history: Optional[List[Dict[str, float]]] = None) -> Dict[str, Path]:
    """Write codes.png, samples.png, manifold.png, reconstructions.png and (with ``history``)
    losses.png to ``out_dir``, from held-out ``images``/``labels``; returns the paths by name. Images
    that are not square (no picture to draw) get the codes and curves only."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"codes": out / "codes.png"}
    plot_codes(model, images, labels, path=paths["codes"])
    side = int(model.config["input_dim"] ** 0.5)
    if side * side == model.config["input_dim"]:
        for name, draw in (("samples", lambda p: plot_samples(model, path=p)),
                           ("manifold", lambda p: plot_manifold(model, path=p)),
                           ("reconstructions", lambda p: plot_reconstructions(model, images, labels, path=p))):
            paths[name] = out / f"{name}.png"
            draw(paths[name])
    if history:
        paths["losses"] = out / "losses.png"
        plot_history(history, path=paths["losses"])
    return paths
