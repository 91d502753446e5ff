"""One minibatch of AAE training, in the paper's order: the reconstruction phase updates the encoder
and decoder; the regularization phase updates the discriminator (prior samples vs codes), then the
encoder to fool it."""
from __future__ import annotations

import contextlib
from typing import Dict, Iterator, Optional, Tuple, Union

import torch
import torch.nn.functional as F

from ..models import AAE, CategoricalAAE
from ..nn.dropout import dropout_off
from .config import TrainConfig
from .distributed import Shard, no_sync


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
            optimizers[phase] = torch.optim.Adam(params, lr=lr, betas=tuple(config.adam_betas))
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


def reconstruction_loss(reconstruction: torch.Tensor, x: torch.Tensor, kind: str, shard: Shard) -> torch.Tensor:
    """Per-image sum over pixels, mean over the minibatch (this rank's share of it): the negative
    log-likelihood of a Bernoulli ("bce") or, up to constants, a unit Gaussian ("mse") decoder. (A
    per-pixel mean would shrink the gradients 784-fold and stall the paper's SGD rates.)"""
    if kind == "bce":
        return shard.per_row(_BernoulliNLL.apply(reconstruction, x))
    return shard.per_row(F.mse_loss(reconstruction, x, reduction="sum"))


class _BernoulliNLL(torch.autograd.Function):
    """F.binary_cross_entropy(p, x, reduction="sum") without its range check of p, which on a GPU is
    a device-side assert: a diverged (NaN) reconstruction aborted the whole CUDA context instead of
    reaching the trainer's divergence check (seen on an H100); NaN stays NaN here. The value
    -sum[x log p + (1 - x) log(1 - p)], each log floored at -100, and the gradient
    (p - x) / max(p (1 - p), 1e-12) are PyTorch's. Not plain autograd ops: where a pixel saturates
    (p exactly 0 or 1) the floor's zero gradient meets log's infinite one, and 0 * inf is NaN
    (semi-supervised runs diverged in their 10th to 15th epoch that way)."""

    @staticmethod
    def forward(ctx, p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(p, x)
        return -(x * torch.log(p).clamp(min=-100.0) + (1.0 - x) * torch.log1p(-p).clamp(min=-100.0)).sum()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        p, x = ctx.saved_tensors
        return grad * (p - x) / (p * (1.0 - p)).clamp(min=1e-12), None


def adversarial_losses(logits: torch.Tensor, n: int, shard: Shard) -> Tuple[torch.Tensor, torch.Tensor]:
    """For discriminator logits of n prior samples followed by n codes: the discriminator's loss
    -[log D(prior) + log(1 - D(code))] (the sum of the two halves' means, as in Goodfellow et al.)
    and its accuracy, both as this rank's share of the minibatch."""
    targets = torch.cat([torch.ones(n, 1, device=logits.device), torch.zeros(n, 1, device=logits.device)])
    loss = shard.mean(F.binary_cross_entropy_with_logits, logits, targets, scale=2.0)
    with torch.no_grad():
        correct = torch.cat([logits[:n] > 0, logits[n:] < 0]).float()
    return loss, shard.mean(_mean, correct)


def fooling_loss(logits: torch.Tensor, shard: Shard) -> torch.Tensor:
    """-log D(code): the encoder's loss as the discriminator's adversary."""
    return shard.mean(F.binary_cross_entropy_with_logits, logits, torch.ones_like(logits))


def _mean(values: torch.Tensor, reduction: str) -> torch.Tensor:
    return values.mean() if reduction == "mean" else values.sum()


def train_step(model: AAE, optimizers: Dict[str, torch.optim.Optimizer], x: torch.Tensor,
               labels: Optional[torch.Tensor], config: TrainConfig, offset: int,
               shard: Optional[Shard] = None) -> Dict[str, torch.Tensor]:
    """Both phases on the minibatch x (labels: -1 for unlabeled examples). Returns the phase losses
    and the discriminator's accuracy as 0-d tensors (no device synchronization).

    ``offset`` numbers the step so that the prior samples (Philox, keyed by config.seed) differ from
    step to step and are the same on a resumed run. Under torch.distributed, x and labels are the
    whole minibatch and ``shard`` (default: this process's) says which rows this rank trains on;
    the metrics are then this rank's share times the world size (their sum over ranks divided by
    the world size is the minibatch's)."""
    shard = shard or Shard.of(len(x))
    disc_labels = labels if model.labels_to == "discriminator" else None
    # Prior samples for the whole minibatch from the step's stream; each rank keeps its rows.
    prior_labels = disc_labels if model.prior.num_classes is not None else None
    real = shard.take(model.prior.sample(len(x), labels=prior_labels, seed=config.seed, offset=offset,
                                         device=x.device, backend=config.backend))
    x, labels, disc_labels = shard.take(x), shard.take(labels), shard.take(disc_labels)
    noisy = noisy_input(x, config.input_noise_std())
    # Reconstruction phase.
    decoder_labels = labels if model.labels_to == "decoder" else None
    loss_rec = reconstruction_loss(model.decode(model.encode(noisy), decoder_labels), x, config.reconstruction_loss,
                                   shard)
    update(optimizers["reconstruction"], loss_rec, config.max_grad_norm)
    # Regularization phase. The codes are computed once and serve both updates (their graph through the
    # updated encoder is kept for the generator step), except under encoder dropout: the discriminator
    # then learns from codes of the encoder with its dropout off, and the encoder's update computes its
    # own. Prior samples and codes go through the discriminator as one batch.
    fake = model.encode(noisy)
    if config.encoder_dropout > 0:
        with torch.no_grad(), dropout_off(model.encoder):
            codes = model.encode(noisy)
    else:
        codes = fake.detach()
    both_labels = None if disc_labels is None else torch.cat([disc_labels, disc_labels])
    std = config.discriminator_noise_std()
    logits = model.discriminate(noisy_input(torch.cat([real.to(codes.dtype), codes]), std), both_labels)
    loss_d, accuracy = adversarial_losses(logits, len(x), shard)
    update(optimizers["discriminator"], loss_d, config.max_grad_norm)
    # The encoder fools the updated discriminator; the discriminator's weights need no gradient here.
    with frozen(model.discriminator):
        loss_g = fooling_loss(model.discriminate(noisy_input(fake, std), disc_labels), shard)
        update(optimizers["generator"], loss_g, config.max_grad_norm)
    return {"reconstruction": loss_rec.detach(), "discriminator": loss_d.detach(), "generator": loss_g.detach(),
            "discriminator_accuracy": accuracy}


@contextlib.contextmanager
def frozen(*networks: torch.nn.Module) -> Iterator[None]:
    """The networks' parameters take no gradient inside (and, under DDP, no gradient is awaited)."""
    with contextlib.ExitStack() as stack:
        for network in networks:
            stack.enter_context(no_sync(network))
            network.requires_grad_(False)
        try:
            yield
        finally:
            for network in networks:
                network.requires_grad_(True)


def noisy_input(x: torch.Tensor, std: float) -> torch.Tensor:
    """x plus Gaussian noise of ``std`` (x itself when std is 0): the encoder's input (whose
    reconstruction target stays the clean x) and the discriminators' inputs."""
    return x + std * torch.randn_like(x) if std > 0 else x


def update(optimizer: torch.optim.Optimizer, loss: torch.Tensor, max_norm: Optional[float] = None) -> None:
    """One optimizer step on ``loss`` (gradients of the optimizer's parameters only), the gradient
    first scaled down to L2 norm ``max_norm`` where it is longer (None: as it is)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if max_norm is not None:
        _clip(optimizer, max_norm)
    optimizer.step()


def _clip(optimizer: torch.optim.Optimizer, max_norm: float) -> None:
    """Scale the optimizer's gradients down to L2 norm ``max_norm`` where longer; make them NaN where
    their norm overflows float32 (a diverged run), which scaling alone would turn into zeros: the run
    would then stall without a word instead of reaching the divergence check."""
    params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if not params:
        return
    if params[0].grad.device.type == "cpu":
        # One BLAS dot per gradient: half the time of get_total_norm's per-tensor norms here (0.7 against
        # 1.4 ms for the paper's encoder and decoder at 2 threads). The norm is read for free on the CPU,
        # so the passes over every gradient run only when needed (mostly neither: the default clip binds
        # on a handful of updates in a thousand).
        norm = torch.stack([torch.dot(p.grad.reshape(-1), p.grad.reshape(-1)) for p in params]).sum().sqrt()
        if not norm.isfinite():
            for p in params:
                p.grad.fill_(float("nan"))
        elif norm > max_norm:
            torch.nn.utils.clip_grads_with_norm_(params, max_norm, norm)
        return
    # On a GPU reading the norm would wait for the device: both passes stay queued.
    norm = torch.nn.utils.get_total_norm([p.grad for p in params])
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, norm)
    overflow = ~norm.isfinite()
    for p in params:
        p.grad.masked_fill_(overflow, float("nan"))
