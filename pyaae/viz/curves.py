"""Per-epoch loss curves and the discriminator's accuracy."""
from __future__ import annotations

from typing import Dict, List, Optional

from ._figure import PathLike, finish, new_figure


def plot_history(history: List[Dict[str, float]], *, path: Optional[PathLike] = None):
    """The reconstruction loss, the adversarial losses and the discriminator's accuracy (which tends to
    0.5 as codes match the prior) per epoch, from ``TrainResult.history``."""
    if not history:
        raise ValueError("history is empty: train at least one epoch")
    epochs = [h["epoch"] for h in history]
    fig = new_figure(11, 3.4)
    rec, adv, acc = fig.subplots(1, 3)
    rec.plot(epochs, [h["reconstruction"] for h in history], marker="o")
    rec.set_title("reconstruction loss (per image)")
    for name in ("discriminator", "generator", "classification"):
        if name in history[0]:
            adv.plot(epochs, [h[name] for h in history], marker="o", label=name)
    adv.set_title("adversarial (and classification) losses")
    adv.legend()
    acc.plot(epochs, [h["discriminator_accuracy"] for h in history], marker="o")
    acc.axhline(0.5, color="0.6", linestyle="--", label="chance")
    acc.set_ylim(0, 1)
    acc.set_title("discriminator accuracy")
    acc.legend()
    for ax in (rec, adv, acc):
        ax.set_xlabel("epoch")
    return finish(fig, path)
