"""Codes of held-out images coloured by label, over samples of the prior (the paper's Fig. 2 and 4)."""
from __future__ import annotations

from typing import Optional, Union

import torch

from ..models import AAE, CategoricalAAE
from ._figure import PathLike, finish, new_figure


@torch.no_grad()
def plot_codes(model: Union[AAE, CategoricalAAE], images: torch.Tensor, labels: Optional[torch.Tensor] = None, *,
               num_prior: int = 5000, seed: int = 0, path: Optional[PathLike] = None, batch_size: int = 1000):
    """Scatter of ``model``'s codes of ``images`` (eval mode: the Gaussian encoder's means; the style
    code of categorical models, the representation W_C y + z of dim_reduction ones), coloured by
    ``labels``, over ``num_prior`` prior samples in grey.
    Codes of more than two dimensions are shown on their first two principal axes (the prior samples
    on the same axes)."""
    model.eval()
    device = next(model.parameters()).device
    codes = torch.cat([_codes(model, images[i:i + batch_size].to(device)) for i in range(0, len(images), batch_size)])
    codes = codes.double().cpu()
    prior = _prior_samples(model, num_prior, seed).double().cpu() if num_prior else torch.empty(0, codes.shape[1])
    if codes.shape[1] > 2:
        center = codes.mean(0)
        axes = torch.linalg.svd(codes - center, full_matrices=False).Vh[:2].T
        codes, prior = (codes - center) @ axes, (prior - center) @ axes
        xlabel, ylabel = "principal axis 1", "principal axis 2"
    else:
        xlabel, ylabel = "z1", "z2"
    fig = new_figure(6.5, 6)
    ax = fig.add_subplot()
    if len(prior):
        ax.scatter(prior[:, 0], prior[:, 1] if prior.shape[1] > 1 else torch.zeros(len(prior)), s=2, c="0.8",
                   label="prior samples", rasterized=True)
    y = codes[:, 1] if codes.shape[1] > 1 else torch.zeros(len(codes))
    if labels is None:
        ax.scatter(codes[:, 0], y, s=3, c="tab:blue", label="codes", rasterized=True)
    else:
        points = ax.scatter(codes[:, 0], y, s=3, c=labels.cpu().numpy(), cmap="tab10", vmin=-0.5, vmax=9.5,
                            rasterized=True)
        fig.colorbar(points, ax=ax, ticks=range(10), label="label")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"codes of {len(images)} held-out images over the {type(model.prior).__name__} prior")
    ax.set_aspect("equal", adjustable="datalim")
    if len(prior):
        ax.legend(loc="upper right", markerscale=4)
    return finish(fig, path)


def _codes(model: Union[AAE, CategoricalAAE], x: torch.Tensor) -> torch.Tensor:
    """What a model's codes are: the representation W_C y + z (dim_reduction), the style z (other
    categorical models) or the code."""
    if isinstance(model, CategoricalAAE):
        return model.represent(x) if model.cluster_heads is not None else model.encode(x)[1]
    return model.encode(x)


def _prior_samples(model: Union[AAE, CategoricalAAE], n: int, seed: int) -> torch.Tensor:
    """Samples of the codes' prior (for dim_reduction: W_C y + z with y and z from their priors)."""
    z = model.prior.sample(n, seed=seed)
    if isinstance(model, CategoricalAAE) and model.cluster_heads is not None:
        y = model.category_prior.sample(n, seed=seed + 1)
        return y @ model.cluster_heads.detach().cpu() + z
    return z
