"""``pyaae.train``: builds the model and optimizers from a TrainConfig, runs the epochs (both phases
per minibatch, see step.py), keeps per-epoch history, and checkpoints every epoch for resuming."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

import torch

from .._atomic import remove_stale_parts
from .._process_group import all_ranks_agree, any_rank, rank_and_world, sum_over_ranks
from ..models import AAE, CategoricalAAE
from ..models.variants import get_variant
from ..nn.dropout import key_dropout
from ..priors import Prior, named_prior
from ..priors.registry import check_dimension
from .categorical_step import categorical_step
from .config import TrainConfig
from .data import training_data
from .distributed import Shard, collective_failure, collective_failures_reported, data_parallel, seed_rank_generator
from .labelled import labelled_first
from .averaging import weight_average
from .state import checkpoint_path, restore_training_state, save_training_state
from .step import make_optimizers, set_learning_rates, train_step

CHECK_EVERY = 10  # steps between reads of the losses from the device (progress bar, divergence check)


class TrainingDiverged(RuntimeError):
    """A loss or a weight became NaN or infinite."""


@dataclass
class TrainResult:
    """The trained model, per-epoch ``history`` (mean phase losses, discriminator accuracy, seconds,
    steps per second), the ``config`` that produced them, and with ``config.ema_decay`` the model
    holding the weight average (``averaged_model``; None otherwise)."""

    model: Union[AAE, CategoricalAAE]
    history: List[Dict[str, float]] = field(default_factory=list)
    config: Optional[TrainConfig] = None
    averaged_model: Optional[Union[AAE, CategoricalAAE]] = None


def train(config: Optional[TrainConfig] = None, **overrides: Any) -> TrainResult:
    """Train an adversarial autoencoder.

    ``overrides`` replace fields of ``config`` (default ``TrainConfig()``: the paper's MNIST settings),
    e.g. ``pyaae.train(epochs=5, train_size=10000)``. The configuration is checked before any data is
    read. The same seed, backend and device give the same result; with ``checkpoint_dir`` every
    epoch ends with an atomic checkpoint, and ``resume=True`` continues from it step for step.

    Inside a torch.distributed process group (torchrun), every rank calls this with the same
    arguments: the networks are wrapped in DistributedDataParallel, each minibatch is split over the
    ranks, rank 0 alone writes the checkpoint, and every rank returns the same model and history.
    A rank that dies or stops answering makes the others raise DistributedTrainingError.
    """
    config = (config or TrainConfig()).replace(**overrides)
    config.validate()
    with collective_failures_reported():
        return _train(config)


def _train(config: TrainConfig) -> TrainResult:
    if config.checkpoint_dir is not None and rank_and_world()[0] == 0:
        remove_stale_parts(checkpoint_path(config))  # left by a run killed while writing (kill -9)
    prior = build_prior(config)
    images, labels = training_data(config)
    if config.num_labeled is not None and config.num_labeled > len(images) and _keeps_labels(config):
        raise ValueError(f"num_labeled {config.num_labeled} exceeds the {len(images)} training examples")
    if labels is not None and config.num_labeled is not None and _keeps_labels(config):
        images, labels = labelled_first(images, labels, config.num_labeled, config.labeled_selection, config.seed)
    num_labels = _num_labels(config, labels, prior)
    torch.manual_seed(config.seed)
    if get_variant(config.variant).categorical:
        model = CategoricalAAE(prior, config.categories(), input_dim=images.shape[1], variant=config.variant,
                               hidden=list(config.hidden), init_std=config.init_std, backend=config.backend,
                               labelled=config.labelled(), head_margin=config.head_margin,
                               dropout=config.dropouts(), hidden_noise=config.hidden_noise)
    else:
        model = AAE(prior, input_dim=images.shape[1], latent_dim=prior.dim, variant=config.variant,
                    encoder=config.encoder, hidden=list(config.hidden), num_labels=num_labels,
                    init_std=config.init_std, backend=config.backend, dropout=config.dropouts(),
                    encoder_noise_scale=config.noise_scale(), hidden_noise=config.hidden_noise)
    model = model.to(config.device)
    seed_rank_generator(config.seed)
    optimizers = make_optimizers(model, config)
    average = weight_average(model, config.ema_decay)
    start_epoch, history = (restore_training_state(config, model, optimizers, average) if config.resume else (0, []))
    known = _known_labels(config, labels)
    images = images.to(config.device)
    steps = math.ceil(len(images) / config.batch_size)
    deadline = None if config.max_minutes is None else time.monotonic() + 60.0 * config.max_minutes
    with data_parallel(model, torch.device(config.device)):
        for epoch in range(start_epoch, config.epochs):
            set_learning_rates(optimizers, config, epoch)
            model.train()
            history.append(_epoch(model, optimizers, images, known, config, epoch, steps, average))
            if config.checkpoint_dir is not None:
                save_training_state(config, model, optimizers, epoch + 1, history, average)
            # Every rank stops after the same epoch.
            if deadline is not None and any_rank(time.monotonic() >= deadline):
                break
    model.eval()
    averaged = None if average is None else average.module.eval()
    return TrainResult(model=model, history=history, config=config, averaged_model=averaged)


def build_prior(config: TrainConfig) -> Prior:
    """The prior ``config.prior`` names (or is), checked against ``config.latent_dim``."""
    if isinstance(config.prior, Prior):
        check_dimension(config.prior, config.latent_dim)
        return config.prior
    return named_prior(config.prior, config.latent_dim, config.prior_std, get_variant(config.variant).latent_dim)


def _num_labels(config: TrainConfig, labels: Optional[torch.Tensor], prior: Prior) -> Optional[int]:
    spec = get_variant(config.variant)
    if not spec.uses_labels(config.num_labeled):
        return None
    if labels is None:
        raise ValueError(f"variant {config.variant!r} needs labels: use dataset='mnist', 'blobs' or an "
                         "(images, labels) pair")
    if spec.labelled(config.num_labeled):
        if int(labels.max()) >= config.categories():
            raise ValueError(f"labels reach {int(labels.max())} but num_categories is {config.categories()}")
        return config.categories()
    if spec.labels == "discriminator" and prior.num_classes is not None:
        if int(labels.max()) >= prior.num_classes:
            raise ValueError(f"labels reach {int(labels.max())} but the prior {prior!r} has only "
                             f"{prior.num_classes} components/segments")
        return prior.num_classes
    return int(labels.max()) + 1


def _keeps_labels(config: TrainConfig) -> bool:
    """Whether the variant trains on labels (all, or num_labeled of them)."""
    return get_variant(config.variant).uses_labels(config.num_labeled)


def _known_labels(config: TrainConfig, labels: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """Labels with the unlabeled examples (all after the first num_labeled, which labelled_first put
    there) set to -1, on the device."""
    if labels is None or not _keeps_labels(config):
        return None
    known = labels.clone()
    if config.num_labeled is not None:
        known[config.num_labeled:] = -1
    if get_variant(config.variant).labels == "decoder" and (known < 0).any():
        raise ValueError("the supervised variant needs every label: leave num_labeled unset")
    return known.to(config.device)


def _epoch(model: Union[AAE, CategoricalAAE], optimizers, images: torch.Tensor, labels: Optional[torch.Tensor],
           config: TrainConfig, epoch: int, steps: int, average) -> Dict[str, float]:
    # The shuffle has its own generator so that a resumed run sees the same order.
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(config.seed * 1_000_003 + epoch))
    order = order.to(images.device)
    labelled = _labelled_batches(labels, config, epoch) if config.labelled() else None
    totals: Optional[torch.Tensor] = None
    rank, world = rank_and_world()
    bar = _progress_bar(config, epoch, steps) if rank == 0 else None
    started = time.perf_counter()
    for step in range(steps):
        index = order[step * config.batch_size:(step + 1) * config.batch_size]
        offset = (epoch * steps + step) % 2**32
        shard = Shard(rank, world, len(index))
        key_dropout(model, config.seed, offset, rank)
        try:
            if isinstance(model, CategoricalAAE):
                batch = None if labelled is None or step % config.classification_every else \
                    labelled(step // config.classification_every)
                metrics = categorical_step(model, optimizers, images[index],
                                           None if batch is None else (images[batch], labels[batch]), config, offset,
                                           shard)
            else:
                metrics = train_step(model, optimizers, images[index], None if labels is None else labels[index],
                                     config, offset, shard)
        except RuntimeError as exc:
            failure = collective_failure(exc)
            if failure is not None:
                raise failure from exc
            # Overflowing weights or activations can surface as errors inside torch ops (a loss's input check).
            if _finite(model, images[index], None if labels is None else labels[index]):
                raise
            raise _diverged(epoch, step, config) from exc
        if average is not None:
            average.update_parameters(model)
        if isinstance(model, CategoricalAAE) and labelled is not None and "classification" not in metrics:
            # A step without the classification phase (classification_every): it counts 0 here, and the
            # epoch's mean below is taken over the steps that ran the phase.
            metrics["classification"] = torch.zeros((), device=images.device)
        values = torch.stack(list(metrics.values())).double()
        totals = values if totals is None else totals + values
        if step % CHECK_EVERY == 0 or step == steps - 1:
            # All ranks must agree, or one would stop while the others wait for it.
            if not all_ranks_agree(bool(torch.isfinite(totals).all())):
                raise _diverged(epoch, step, config)
            if bar is not None:
                bar.set_postfix({"rec": f"{metrics['reconstruction']:.1f}", "D": f"{metrics['discriminator']:.3f}",
                                 "G": f"{metrics['generator']:.3f}",
                                 "acc": f"{metrics['discriminator_accuracy']:.2f}"}, refresh=False)
        if bar is not None:
            bar.update()
    if torch.device(config.device).type == "cuda":
        torch.cuda.synchronize(config.device)
    seconds = time.perf_counter() - started
    if bar is not None:
        bar.close()
    # Each rank's metrics are its share of the minibatch times the world size.
    means = sum_over_ranks(totals) / (world * steps)
    record = dict(zip(metrics, means.tolist()))
    if "classification" in record:
        record["classification"] *= steps / math.ceil(steps / config.classification_every)
    record.update(epoch=epoch + 1, seconds=seconds, steps_per_second=steps / seconds)
    return record


@torch.no_grad()
def _finite(model: Union[AAE, CategoricalAAE], x: torch.Tensor, labels: Optional[torch.Tensor]) -> bool:
    """Whether every weight and the reconstruction of x are finite (finite but huge weights overflow
    into NaN activations: a paper-settings SGD run on MNIST did so in its 182nd step)."""
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        return False
    if isinstance(model, CategoricalAAE):
        reconstruction = model.reconstruct(x)
    else:
        reconstruction = model.reconstruct(x, labels if model.labels_to == "decoder" else None)
    return bool(torch.isfinite(reconstruction).all())


def _labelled_batches(labels: torch.Tensor, config: TrainConfig, epoch: int):
    """step -> indices of a labelled minibatch: the labelled examples (the first num_labeled) in an
    order shuffled per epoch, cycled, so that a few labels are revisited many times per epoch."""
    count = len(labels) if config.num_labeled is None else min(config.num_labeled, len(labels))
    if count == 0:
        raise ValueError(f"the {config.variant} variant needs num_labeled >= 1 labelled examples")
    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch + 7919)
    order = torch.randperm(count, generator=generator).to(labels.device)
    size = min(config.batch_size, count)

    def batch(step: int) -> torch.Tensor:
        start = (step * size) % count
        return order[(torch.arange(size, device=labels.device) + start) % count]

    return batch


def _diverged(epoch: int, step: int, config: TrainConfig) -> TrainingDiverged:
    # Clipping is suggested only where it is off: under the paper's SGD rates it is what kept MNIST runs
    # from blowing up (bench/reproduce/parzen_mnist.py).
    clip = ", set max_grad_norm (100 kept the paper's MNIST settings stable)" if config.max_grad_norm is None else ""
    return TrainingDiverged(
        f"training diverged by epoch {epoch + 1}, step {step + 1}: a loss or weight is NaN or infinite "
        f"(optimizer {config.optimizer!r}, learning rates {config.learning_rates()}, max_grad_norm "
        f"{config.max_grad_norm}); lower the learning rates{clip} or try optimizer='adam'")


def _progress_bar(config: TrainConfig, epoch: int, steps: int):
    if not config.progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=steps, desc=f"epoch {epoch + 1}/{config.epochs}", unit="step", leave=False)
