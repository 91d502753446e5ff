"""One minibatch of the categorical AAE (semi_supervised, clustering and dim_reduction variants,
paper sections 5-7): reconstruction phase; regularization phase (both discriminators, then the
encoder fools both); for labelled models, a classification phase on a labelled minibatch."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F

from ..models import CategoricalAAE
from .config import TrainConfig
from .step import noisy_input, reconstruction_loss, update

# The style prior's Philox stream is keyed apart from the category prior's.
STYLE_SEED_OFFSET = 1_000_003


def categorical_step(model: CategoricalAAE, optimizers: Dict[str, torch.optim.Optimizer], x: torch.Tensor,
                     labelled: Optional[Tuple[torch.Tensor, torch.Tensor]], config: TrainConfig,
                     offset: int) -> Dict[str, torch.Tensor]:
    """The phases on minibatch x (and the labelled minibatch, semi_supervised); losses and the mean
    accuracy of the two discriminators as 0-d tensors."""
    noisy = noisy_input(x, config.input_noise_std())
    # Reconstruction phase: the decoder sees q(y|x) and z (dim_reduction: W_C q(y|x) + z, and the
    # cluster heads are pushed apart in the same update).
    loss_rec = reconstruction_loss(model.decode(*model.encode(noisy)), x, config.reconstruction_loss)
    heads = model.head_distance_cost()
    update(optimizers["reconstruction"], loss_rec if heads is None else loss_rec + heads)
    # Regularization phase: prior samples against the updated encoder's outputs, one batch per
    # discriminator; the outputs serve the encoder's update too.
    n = len(x)
    probs, z = model.encode(noisy)
    real_y = model.category_prior.sample(n, seed=config.seed, offset=offset, device=x.device, backend=config.backend)
    real_z = model.prior.sample(n, seed=config.seed + STYLE_SEED_OFFSET, offset=offset, device=x.device,
                                backend=config.backend)
    targets = torch.cat([torch.ones(n, 1, device=x.device), torch.zeros(n, 1, device=x.device)])
    logits_y = model.category_discriminator(torch.cat([real_y.to(probs), probs.detach()]))
    logits_z = model.style_discriminator(torch.cat([real_z.to(z), z.detach()]))
    loss_d = 2.0 * (F.binary_cross_entropy_with_logits(logits_y, targets)
                    + F.binary_cross_entropy_with_logits(logits_z, targets))
    update(optimizers["discriminator"], loss_d)
    for disc in (model.category_discriminator, model.style_discriminator):
        disc.requires_grad_(False)
    try:
        fool_y, fool_z = model.category_discriminator(probs), model.style_discriminator(z)
        loss_g = (F.binary_cross_entropy_with_logits(fool_y, torch.ones_like(fool_y))
                  + F.binary_cross_entropy_with_logits(fool_z, torch.ones_like(fool_z)))
        update(optimizers["generator"], loss_g)
    finally:
        for disc in (model.category_discriminator, model.style_discriminator):
            disc.requires_grad_(True)
    metrics = {"reconstruction": loss_rec.detach(), "discriminator": loss_d.detach(), "generator": loss_g.detach()}
    if heads is not None:
        metrics["head_distance"] = heads.detach()
    with torch.no_grad():
        correct = [(logits[:n] > 0).float().mean() + (logits[n:] < 0).float().mean() for logits in (logits_y, logits_z)]
        metrics["discriminator_accuracy"] = 0.25 * (correct[0] + correct[1])
    # Semi-supervised classification phase.
    if labelled is not None:
        xl, yl = labelled
        loss_c = F.cross_entropy(model.encode_logits(noisy_input(xl, config.input_noise_std()))[0], yl)
        update(optimizers["classification"], loss_c)
        metrics["classification"] = loss_c.detach()
    return metrics
