"""Training configuration. Defaults are the paper's MNIST likelihood settings (Makhzani et al., 2015,
and the reimplementations that follow it): 2 x 1000 ReLU layers in every network, an 8-D Gaussian
prior with std 5, sigmoid output, batch 100, SGD with momentum 0.9 at lr 0.01 for reconstruction and
momentum 0.1 at lr 0.1 for regularization, learning rates divided by 10 at epochs 50 and 1000,
weights drawn from N(0, 0.01^2)."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch

from .._dropout import check_probability
from ..models.variants import TABLE as VARIANT_TABLE
from ..models.variants import get_variant
from ..models.encoders import ENCODERS
from ..priors import PRIOR_NAMES, Prior
from .labelled import LABELLED_SELECTIONS

OPTIMIZERS = ("sgd", "adam")
RECONSTRUCTION_LOSSES = ("bce", "mse")
DEVICES_HINT = "'cpu', 'cuda' or 'cuda:N'"
OPTIONAL_RATES = ("lr_reconstruction", "lr_regularization", "lr_classification", "head_margin", "max_grad_norm",
                  "max_minutes")
# (reconstruction, regularization, classification) learning rates. SGD: the paper's, classification
# as reconstruction. Adam: rates at which the label-regularized mixture separates its classes within
# a few MNIST epochs (tests/test_training.py), and the classification rate that did best on all of
# MNIST with few labels (the probes are in docs/lab-notebook.md).
DEFAULT_RATES = {"sgd": (0.01, 0.1, 0.01), "adam": (1e-3, 1e-3, 1e-3)}


@dataclass
class TrainConfig:
    """Everything :func:`pyaae.train` needs.

    Attributes:
        variant: "unsupervised", "label_regularized" (labels to the discriminator), "supervised"
            (labels to the decoder), "semi_supervised" (a categorical code y learned as the class from
            num_labeled labels, plus a style code), "clustering" (y as the cluster, no labels) or
            "dim_reduction" (a 2-D representation W_C y + z with learned cluster heads;
            semi-supervised when num_labeled is given).
        dataset: "mnist", "blobs" (a small synthetic labelled set), a float tensor [n, d], a pair
            (images, labels) or a ``torch.utils.data.Dataset`` of such pairs or of images.
        data_dir: MNIST's directory (default: ``pyaae.data.default_data_dir()``).
        download: fetch missing MNIST files from the mirrors.
        train_size: use only the first n training examples (None: all).
        prior: "gaussian", "mixture" (the paper's 10 2-D Gaussians), "swiss_roll", "uniform", or a
            ``pyaae.priors.Prior``.
        prior_std: standard deviation of the "gaussian" prior.
        latent_dim: code dimension; None takes the prior's (8 for "gaussian", 2 for the others).
        encoder: "deterministic", "gaussian" or "universal".
        hidden: hidden layer sizes of the encoder, decoder (reversed) and discriminator.
        encoder_dropout, decoder_dropout, discriminator_dropout: probability of dropout on every
            hidden layer's output of that network while training (0: none; inverted dropout, in the
            kernels' epilogue). With encoder dropout, the codes the discriminator learns from are
            computed with the encoder's dropout off (its noise, if any, stays on); the encoder's own
            updates see it on.
        hidden_noise: std of Gaussian noise added to every hidden layer's output of the encoder while
            training (0: none; the improved-GAN recipe uses 0.5 in its classifier).
        encoder_noise_scale: the gaussian encoder's noise, z = mu + scale * exp(logvar / 2) * eps:
            a number, or "prior" for the gaussian prior's std (prior_std). 1 is the paper's posterior.
        reconstruction_loss: "bce" (per-image sum of pixel cross-entropies) or "mse" (per-image sum).
        optimizer: "sgd" (the paper's, with the momenta below) or "adam" (with adam_betas).
        adam_betas: Adam's (beta1, beta2); beta1 0.5 is the GAN practice (Radford et al., 2015).
        lr_reconstruction, momentum_reconstruction: the reconstruction phase's optimizer (learning
            rate None: 0.01 with SGD, 1e-3 with Adam).
        lr_regularization, momentum_regularization: the discriminator's and the encoder's (as
            generator) optimizers (learning rate None: 0.1 with SGD, 1e-3 with Adam).
        lr_classification: the semi-supervised classification phase's rate (None: 0.01 with SGD,
            1e-3 with Adam; its momentum is momentum_reconstruction).
        num_categories: categories of the categorical code (None: 10 for semi_supervised and the
            semi-supervised dim_reduction, 16 for clustering, 20 for the unsupervised dim_reduction).
        head_margin: dim_reduction: cluster heads closer than this are pushed apart (None: 6 style
            standard deviations).
        input_noise: std of Gaussian noise added to the encoder's input (None: 0.3 for the
            categorical variants, as in the paper's semi-supervised experiments; 0 otherwise).
        discriminator_noise: std of Gaussian noise added to every discriminator input, prior samples
            and codes alike, in both of the regularization phase's updates (None: 0.3 for
            semi_supervised, 0 otherwise). Without it the category discriminator can tell a softmax
            from a one-hot sample by any small deviation (docs/training.md has the measurements).
        category_balance: categorical variants: weight of KL(mean of q(y|x) over the minibatch ||
            category prior) in the encoder's regularization update (0: off, the paper's recipe). The
            category discriminator judges one code at a time, so it cannot stop the encoder from
            putting every image in a few categories (GAN mode collapse; a saturated softmax passes it
            almost no gradient); this term can. bench/reproduce/clustering_mnist.py uses 1.
        style_regularization_weight: categorical variants: weight of fooling the style
            discriminator against 1 for the category one, in the encoder's regularization update
            (1: the paper's). A larger weight holds z closer to its unimodal prior, leaving the class
            to y. bench/reproduce/clustering_mnist.py uses 3.
        lr_decay_epochs, lr_decay_factor: every rate is multiplied by the factor at each listed epoch.
        ema_decay: keep an exponential moving average of every weight (Polyak averaging), updated
            after every step: average <- decay * average + (1 - decay) * weight (None: none). The
            average is checkpointed; ``pyaae.train`` returns it as ``averaged_model``, and the CLI
            writes it as model.safetensors (the last weights as model_last.safetensors).
        classification_every: labelled categorical variants: the classification phase runs on every
            k-th minibatch only (1: every minibatch, the paper's).
        max_grad_norm: every phase's gradient (over the parameters that phase updates) is scaled down
            to this L2 norm where it is longer, before the optimizer's step (None: never, as in the
            paper). Under the paper's SGD settings a rare spike of the reconstruction gradient can blow
            a run up; the clip stops it and otherwise seldom binds (docs/training.md). With Adam,
            whose step length is set by its rate, clipping only limits a spike's weight in the moment
            estimates.
        epochs, batch_size: length of training and minibatch size (the last partial batch is used).
            Under torch.distributed, batch_size is the whole minibatch: each of N ranks trains on
            its share (batch_size / N rows), so the run follows the one-process run.
        num_labeled: for labelled variants, how many of the training examples keep their label (the
            rest are unlabeled). None: all.
        labeled_selection: which ones: "balanced" (default; as many of each class, drawn by seed: the
            paper's protocol, 10 of each digit for 100 labels) or "first" (the first num_labeled of
            the set as given). pyaae.training.labelled_indices gives the indices.
        init_std: weights are drawn from N(0, init_std^2), biases zero.
        seed: seeds initialization, shuffling, prior samples and encoder noise; the same seed,
            backend and device give the same run (under torch.distributed: and the same number of
            ranks; ranks after 0 draw their noise from streams of their own).
        device: where the model trains ("cuda" under torch.distributed: each rank's current device).
        backend: "auto", "kernels", "reference" or "emu" for every fused layer and prior sampler.
        checkpoint_dir: where a checkpoint is written (atomically) after every epoch.
        resume: continue from checkpoint_dir's checkpoint (step for step the same as an
            uninterrupted run).
        progress: show a progress bar (tqdm) with the phase losses.
        max_minutes: stop after the first epoch that ends past this many minutes of this call (None:
            run every epoch); with checkpoint_dir and resume, a later call continues the run.
    """

    variant: str = "unsupervised"
    dataset: Any = "mnist"
    data_dir: Optional[Union[str, os.PathLike]] = None
    download: bool = False
    train_size: Optional[int] = None
    prior: Union[str, Prior] = "gaussian"
    prior_std: float = 5.0
    latent_dim: Optional[int] = None
    encoder: str = "deterministic"
    hidden: Sequence[int] = (1000, 1000)
    encoder_dropout: float = 0.0
    decoder_dropout: float = 0.0
    discriminator_dropout: float = 0.0
    encoder_noise_scale: Union[float, str] = 1.0
    hidden_noise: float = 0.0
    reconstruction_loss: str = "bce"
    optimizer: str = "sgd"
    adam_betas: Sequence[float] = (0.5, 0.999)
    lr_reconstruction: Optional[float] = None
    momentum_reconstruction: float = 0.9
    lr_regularization: Optional[float] = None
    momentum_regularization: float = 0.1
    lr_classification: Optional[float] = None
    num_categories: Optional[int] = None
    input_noise: Optional[float] = None
    discriminator_noise: Optional[float] = None
    head_margin: Optional[float] = None
    category_balance: float = 0.0
    style_regularization_weight: float = 1.0
    lr_decay_epochs: Sequence[int] = (50, 1000)
    lr_decay_factor: float = 0.1
    max_grad_norm: Optional[float] = 100.0
    ema_decay: Optional[float] = None
    classification_every: int = 1
    epochs: int = 1
    batch_size: int = 100
    num_labeled: Optional[int] = None
    labeled_selection: str = "balanced"
    init_std: float = 0.01
    seed: int = 0
    device: str = "cpu"
    backend: str = "auto"
    checkpoint_dir: Optional[Union[str, os.PathLike]] = None
    resume: bool = False
    progress: bool = True
    max_minutes: Optional[float] = None

    def replace(self, **overrides: Any) -> "TrainConfig":
        """A copy with ``overrides``; an unknown name is a ValueError listing the fields."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}; the fields are {sorted(names)}")
        return dataclasses.replace(self, **overrides)

    def validate(self) -> None:
        """Raise ValueError/TypeError naming the first field that cannot work (before any data is read)."""
        _one_of("variant", self.variant, tuple(VARIANT_TABLE))
        _one_of("encoder", self.encoder, ENCODERS)
        _one_of("optimizer", self.optimizer, OPTIMIZERS)
        _one_of("reconstruction_loss", self.reconstruction_loss, RECONSTRUCTION_LOSSES)
        _one_of("backend", self.backend, ("auto", "kernels", "reference", "emu"))
        _one_of("labeled_selection", self.labeled_selection, LABELLED_SELECTIONS)
        if not isinstance(self.prior, Prior):
            _one_of("prior", self.prior, PRIOR_NAMES, "or a pyaae.priors.Prior")
        if self.ema_decay is not None:
            check_probability(self.ema_decay, "ema_decay")
        for name in ("epochs", "batch_size", "classification_every"):
            _positive_int(name, getattr(self, name))
        for name in ("train_size", "num_labeled", "latent_dim"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name), allow_zero=name == "num_labeled")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**40:
            # The seed keys shuffles as seed * 1_000_003 + epoch, which must stay a valid 64-bit generator seed.
            raise ValueError(f"seed must be an integer in [0, 2**40), got {self.seed!r}")
        decay = self.lr_decay_epochs
        if not isinstance(decay, (list, tuple)) or any(isinstance(e, bool) or not isinstance(e, int) or e < 0
                                                       for e in decay):
            raise ValueError(f"lr_decay_epochs must be a list of epoch numbers >= 0 (empty: no schedule), got "
                             f"{decay!r}")
        for name in ("lr_reconstruction", "lr_regularization", "lr_classification", "prior_std", "init_std",
                     "lr_decay_factor", "head_margin", "max_grad_norm", "max_minutes"):
            if getattr(self, name) is not None or name not in OPTIONAL_RATES:
                _positive_float(name, getattr(self, name))
        if self.num_categories is not None:
            _positive_int("num_categories", self.num_categories)
            if self.num_categories < 2:
                raise ValueError(f"num_categories must be an integer >= 2, got {self.num_categories!r}")
        for name in ("input_noise", "discriminator_noise", "hidden_noise", "category_balance",
                     "style_regularization_weight"):
            value = getattr(self, name)
            if value is None and name in ("input_noise", "discriminator_noise"):
                continue  # the variant's default
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        for name in ("momentum_reconstruction", "momentum_regularization"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
                raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
        for name in ("encoder_dropout", "decoder_dropout", "discriminator_dropout"):
            check_probability(getattr(self, name), name)
        if self.encoder_noise_scale != "prior":
            _positive_float("encoder_noise_scale", self.encoder_noise_scale, 'or "prior"')
            if self.encoder != "gaussian" and self.encoder_noise_scale != 1:
                raise ValueError(f"encoder_noise_scale applies to the gaussian encoder only, not {self.encoder!r}")
        elif self.encoder != "gaussian" or self.prior != "gaussian":
            raise ValueError('encoder_noise_scale="prior" needs encoder="gaussian" and prior="gaussian" (it takes '
                             "prior_std); give a number for other priors")
        betas = list(self.adam_betas) if isinstance(self.adam_betas, (list, tuple)) else None
        if betas is None or len(betas) != 2 or any(
                isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 <= b < 1 for b in betas):
            raise ValueError(f"adam_betas must be two numbers in [0, 1), got {self.adam_betas!r}")
        hidden = list(self.hidden) if isinstance(self.hidden, (list, tuple)) else None
        if not hidden or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty list of positive layer sizes, got {self.hidden!r}")
        if self.resume and self.checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir")
        try:
            torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device must be {DEVICES_HINT}, got {self.device!r}") from exc

    def learning_rates(self) -> Tuple[float, float, float]:
        """(reconstruction, regularization, classification) learning rates before the schedule: the
        fields, or the optimizer's defaults where they are None."""
        defaults = DEFAULT_RATES[self.optimizer]
        fields = (self.lr_reconstruction, self.lr_regularization, self.lr_classification)
        rec, reg, cls = (d if f is None else f for d, f in zip(defaults, fields))
        return rec, reg, cls

    def categories(self) -> int:
        """Categories of the categorical variants' code."""
        if self.num_categories is not None:
            return self.num_categories
        return get_variant(self.variant).default_categories(self.num_labeled)

    def labelled(self) -> bool:
        """Whether a categorical variant has a classification phase (semi_supervised always,
        dim_reduction when num_labeled is given)."""
        return get_variant(self.variant).labelled(self.num_labeled)

    def dropouts(self) -> Tuple[float, float, float]:
        """(encoder, decoder, discriminator) dropout probabilities."""
        return self.encoder_dropout, self.decoder_dropout, self.discriminator_dropout

    def noise_scale(self) -> float:
        """The gaussian encoder's noise scale as a number."""
        return float(self.prior_std if self.encoder_noise_scale == "prior" else self.encoder_noise_scale)

    def input_noise_std(self) -> float:
        """The std of the encoder's input noise."""
        if self.input_noise is not None:
            return float(self.input_noise)
        return get_variant(self.variant).input_noise

    def discriminator_noise_std(self) -> float:
        """The std of the noise on the discriminators' inputs."""
        if self.discriminator_noise is not None:
            return float(self.discriminator_noise)
        return get_variant(self.variant).discriminator_noise

    def to_json(self) -> Dict[str, Any]:
        """The fields as JSON values; a tensor dataset or a Prior object is described, not stored."""
        out: Dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Prior):
                try:
                    value = value.to_config()
                except ValueError:
                    value = repr(value)
            elif isinstance(value, os.PathLike):
                value = os.fspath(value)
            elif isinstance(value, tuple) and f.name != "dataset":
                value = list(value)
            elif f.name == "dataset" and not isinstance(value, str):
                value = f"<{type(value).__name__}>"
            out[f.name] = value
        return out


def _one_of(name: str, value: Any, choices: Sequence[str], extra: str = "") -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}{' ' + extra if extra else ''}; "
                         f"got {value!r}")


def _positive_int(name: str, value: Any, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def _positive_float(name: str, value: Any, extra: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive finite number{' ' + extra if extra else ''}, got {value!r}")
