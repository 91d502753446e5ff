"""One minibatch of the categorical AAE (semi_supervised, clustering and dim_reduction variants,
paper sections 5-7): reconstruction phase; regularization phase (both discriminators, then the
encoder fools both); for labelled models, a classification phase on a labelled minibatch."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F

from .._process_group import sum_over_ranks
from ..models import CategoricalAAE
from ..nn.dropout import dropout_off
from .config import TrainConfig
from .distributed import Shard
from .step import adversarial_losses, fooling_loss, frozen, noisy_input, reconstruction_loss, update

# The style prior's Philox stream is keyed apart from the category prior's.
STYLE_SEED_OFFSET = 1_000_003


def categorical_step(model: CategoricalAAE, optimizers: Dict[str, torch.optim.Optimizer], x: torch.Tensor,
                     labelled: Optional[Tuple[torch.Tensor, torch.Tensor]], config: TrainConfig,
                     offset: int, shard: Optional[Shard] = None) -> Dict[str, torch.Tensor]:
    """The phases on minibatch x (and the labelled minibatch, semi_supervised); losses and the mean
    accuracy of the two discriminators as 0-d tensors. Under torch.distributed, x and the labelled
    minibatch are whole and each rank trains on its shard of both (see ``train_step``)."""
    shard = shard or Shard.of(len(x))
    n_all = len(x)
    x = shard.take(x)
    noisy = noisy_input(x, config.input_noise_std())
    # Reconstruction phase: the decoder sees q(y|x) and z (dim_reduction: W_C q(y|x) + z, and the
    # cluster heads are pushed apart in the same update).
    loss_rec = reconstruction_loss(model.decode(*model.encode(noisy)), x, config.reconstruction_loss, shard)
    heads = model.head_distance_cost()
    # Every rank computes the same head cost; DDP's average keeps it whole.
    update(optimizers["reconstruction"], loss_rec if heads is None else loss_rec + heads, config.max_grad_norm)
    # Regularization phase: prior samples (drawn for the whole minibatch, this rank's rows kept)
    # against the updated encoder's outputs, one batch per discriminator; the outputs serve the
    # encoder's update too.
    n = len(x)
    probs, z = model.encode(noisy)
    if config.encoder_dropout > 0:
        # As in train_step: the discriminators learn from codes of the encoder with its dropout off.
        with torch.no_grad(), dropout_off(model.trunk):
            codes_y, codes_z = model.encode(noisy)
    else:
        codes_y, codes_z = probs.detach(), z.detach()
    real_y = shard.take(model.category_prior.sample(n_all, seed=config.seed, offset=offset, device=x.device,
                                                    backend=config.backend))
    real_z = shard.take(model.prior.sample(n_all, seed=config.seed + STYLE_SEED_OFFSET, offset=offset,
                                           device=x.device, backend=config.backend))
    std = config.discriminator_noise_std()
    loss_dy, accuracy_y = adversarial_losses(
        model.category_discriminator(noisy_input(torch.cat([real_y.to(codes_y), codes_y]), std)), n, shard)
    loss_dz, accuracy_z = adversarial_losses(
        model.style_discriminator(noisy_input(torch.cat([real_z.to(codes_z), codes_z]), std)), n, shard)
    loss_d = loss_dy + loss_dz
    update(optimizers["discriminator"], loss_d, config.max_grad_norm)
    with frozen(model.category_discriminator, model.style_discriminator):
        loss_g = fooling_loss(model.category_discriminator(noisy_input(probs, std)), shard) + \
            config.style_regularization_weight * fooling_loss(model.style_discriminator(noisy_input(z, std)), shard)
        loss_balance = None
        loss_encoder = loss_g
        if config.category_balance > 0:
            loss_balance = category_balance_loss(probs, model.category_prior.probs, shard)
            loss_encoder = loss_g + config.category_balance * loss_balance
        # "generator" reports the fooling losses alone; the balance term is reported on its own.
        update(optimizers["generator"], loss_encoder, config.max_grad_norm)
    metrics = {"reconstruction": loss_rec.detach(), "discriminator": loss_d.detach(), "generator": loss_g.detach()}
    if loss_balance is not None:
        metrics["category_balance"] = loss_balance.detach()
    if heads is not None:
        metrics["head_distance"] = heads.detach()
    metrics["discriminator_accuracy"] = 0.5 * (accuracy_y + accuracy_z)
    # Semi-supervised classification phase.
    if labelled is not None:
        labelled_shard = Shard(shard.rank, shard.world, len(labelled[1]))
        xl, yl = (labelled_shard.take(t) for t in labelled)
        logits = model.category_logits(noisy_input(xl, config.input_noise_std()))
        loss_c = labelled_shard.mean(F.cross_entropy, logits, yl)
        update(optimizers["classification"], loss_c, config.max_grad_norm)
        metrics["classification"] = loss_c.detach()
    return metrics


def category_balance_loss(probs: torch.Tensor, prior: torch.Tensor, shard: Shard) -> torch.Tensor:
    """KL(mean of q(y|x) over the whole minibatch || prior) for rows ``probs`` of q(y|x) (each
    summing to one): zero when the minibatch uses the categories as often as the prior does. Its
    value is the same on every rank; its gradient is that of the sum over this rank's rows of
    q(y|x) . log(mean / prior), the exact gradient through the mean, scaled by ``Shard.per_row`` so
    that DistributedDataParallel's average is the whole minibatch's."""
    # float64: near balance the KL is a small difference of terms of size 1/K.
    mean = sum_over_ranks(probs.detach().sum(0)).double() / shard.total
    prior = prior.to(mean)
    kl = torch.special.xlogy(mean, mean / prior).sum()  # 0 log 0 = 0
    # dKL/dmean is 1 + log(mean / prior); the 1 drops out of the gradient because every row sums to
    # one, and leaving it out keeps float32 rounding from swamping a near-balanced minibatch's gradient.
    slope = torch.log(mean.clamp_min(torch.finfo(torch.float64).tiny) / prior).to(probs.dtype)
    surrogate = shard.per_row((probs * slope).sum())
    return kl.to(probs.dtype) + (surrogate - surrogate.detach())
