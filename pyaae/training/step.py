"""One minibatch of AAE training, in the paper's order: the reconstruction phase updates the encoder
and decoder; the regularization phase updates the discriminator (prior samples vs codes), then the
encoder to fool it."""
from __future__ import annotations

from typing import Dict, Optional, Union

import torch
import torch.nn.functional as F

from ..models import AAE, CategoricalAAE
from .config import TrainConfig


def make_optimizers(model: Union[AAE, CategoricalAAE], config: TrainConfig) -> Dict[str, torch.optim.Optimizer]:
    """One optimizer per phase: encoder+decoder, discriminator(s), encoder (as generator), and for
    the semi-supervised variant the encoder as classifier."""
    if isinstance(model, CategoricalAAE):
        encoder, decoder = model.encoder_parameters(), model.decoder_parameters()
        discriminators = model.discriminator_parameters()
    else:
        encoder, decoder = list(model.encoder.parameters()), list(model.decoder.parameters())
        discriminators = list(model.discriminator.parameters())
    groups = {"reconstruction": encoder + decoder, "discriminator": discriminators, "generator": encoder}
    if isinstance(model, CategoricalAAE) and model.config["labelled"]:
        groups["classification"] = encoder
    optimizers = {}
    for phase, params in groups.items():
        lr, momentum = phase_rate(config, phase)
        if config.optimizer == "sgd":
            optimizers[phase] = torch.optim.SGD(params, lr=lr, momentum=momentum)
        else:
            # GAN practice (Radford et al., 2015): beta1 = 0.5 keeps the adversarial updates responsive.
            optimizers[phase] = torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999))
    return optimizers


def phase_rate(config: TrainConfig, phase: str, epoch: int = 0) -> tuple:
    """(learning rate, momentum) of ``phase`` at ``epoch`` under the step schedule."""
    factor = config.lr_decay_factor ** sum(epoch >= e for e in config.lr_decay_epochs)
    rec, reg, cls = config.learning_rates()
    if phase == "reconstruction":
        return rec * factor, config.momentum_reconstruction
    if phase == "classification":
        return cls * factor, config.momentum_reconstruction
    return reg * factor, config.momentum_regularization


def set_learning_rates(optimizers: Dict[str, torch.optim.Optimizer], config: TrainConfig, epoch: int) -> None:
    """Apply the schedule for ``epoch`` (0-based) to every optimizer."""
    for phase, optimizer in optimizers.items():
        for group in optimizer.param_groups:
            group["lr"] = phase_rate(config, phase, epoch)[0]


def reconstruction_loss(reconstruction: torch.Tensor, x: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-image sum over pixels, mean over the batch: the negative log-likelihood of a Bernoulli
    ("bce") or, up to constants, a unit Gaussian ("mse") decoder. (A per-pixel mean would shrink the
    gradients 784-fold and stall the paper's SGD rates.)"""
    if kind == "bce":
        return F.binary_cross_entropy(reconstruction, x, reduction="sum") / len(x)
    return F.mse_loss(reconstruction, x, reduction="sum") / len(x)


def train_step(model: AAE, optimizers: Dict[str, torch.optim.Optimizer], x: torch.Tensor,
               labels: Optional[torch.Tensor], config: TrainConfig, offset: int) -> Dict[str, torch.Tensor]:
    """Both phases on the minibatch x (labels: -1 for unlabeled examples). Returns the phase losses
    and the discriminator's accuracy as 0-d tensors (no device synchronization).

    ``offset`` numbers the step so that the prior samples (Philox, keyed by config.seed) differ from
    step to step and are the same on a resumed run."""
    variant = model.config["variant"]
    noisy = noisy_input(x, config.input_noise_std())
    # Reconstruction phase.
    decoder_labels = labels if variant == "supervised" else None
    loss_rec = reconstruction_loss(model.decode(model.encode(noisy), decoder_labels), x, config.reconstruction_loss)
    update(optimizers["reconstruction"], loss_rec)
    # Regularization phase. The codes are computed once and serve both updates (their graph through the
    # updated encoder is kept for the generator step); prior samples and codes go through the
    # discriminator as one batch.
    disc_labels = labels if variant == "label_regularized" else None
    prior_labels = disc_labels if model.prior.num_classes is not None else None
    real = model.prior.sample(len(x), labels=prior_labels, seed=config.seed, offset=offset, device=x.device,
                              backend=config.backend)
    fake = model.encode(noisy)
    both_labels = None if disc_labels is None else torch.cat([disc_labels, disc_labels])
    logits = model.discriminate(torch.cat([real.to(fake.dtype), fake.detach()]), both_labels)
    targets = torch.cat([torch.ones(len(x), 1, device=x.device), torch.zeros(len(x), 1, device=x.device)])
    # Sum of the two halves' mean losses: log D(prior) + log(1 - D(code)), as in Goodfellow et al.
    loss_d = 2.0 * F.binary_cross_entropy_with_logits(logits, targets)
    update(optimizers["discriminator"], loss_d)
    # The encoder fools the updated discriminator; the discriminator's weights need no gradient here.
    model.discriminator.requires_grad_(False)
    try:
        logits_gen = model.discriminate(fake, disc_labels)
        loss_g = F.binary_cross_entropy_with_logits(logits_gen, torch.ones_like(logits_gen))
        update(optimizers["generator"], loss_g)
    finally:
        model.discriminator.requires_grad_(True)
    with torch.no_grad():
        accuracy = 0.5 * ((logits[:len(x)] > 0).float().mean() + (logits[len(x):] < 0).float().mean())
    return {"reconstruction": loss_rec.detach(), "discriminator": loss_d.detach(), "generator": loss_g.detach(),
            "discriminator_accuracy": accuracy}


def noisy_input(x: torch.Tensor, std: float) -> torch.Tensor:
    """x plus Gaussian noise of ``std`` (a regularizer of the encoder; the reconstruction target
    stays the clean x)."""
    return x + std * torch.randn_like(x) if std > 0 else x


def update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One optimizer step on ``loss`` (gradients of the optimizer's parameters only)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
