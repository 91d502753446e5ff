"""The adversarial autoencoder: encoder q(z|x), decoder p(x|z), discriminator telling prior samples
from codes, and the prior. Variants (paper sections 2-4): ``unsupervised``; ``label_regularized``,
whose discriminator also sees the label as one-hot with an extra "unlabeled" slot; ``supervised``,
whose decoder sees the one-hot label so that the code keeps the style only."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .._dropout import check_probability
from ..nn import FusedMLP
from ..priors import Prior
from .encoders import ENCODERS, make_encoder
from .persistence import SavedModel
from .variants import VARIANTS, get_variant

NETWORKS = ("encoder", "decoder", "discriminator")


def network_dropouts(dropout: Sequence[float]) -> Tuple[float, float, float]:
    """(encoder, decoder, discriminator) dropout probabilities, checked."""
    if not isinstance(dropout, (list, tuple)) or len(dropout) != len(NETWORKS):
        raise ValueError(f"dropout must give one probability per network {NETWORKS}, got {dropout!r}")
    return tuple(check_probability(p, f"dropout of the {name}") for p, name in zip(dropout, NETWORKS))


class AAE(SavedModel, nn.Module):
    """An adversarial autoencoder. Networks are FusedMLPs (ReLU hidden layers) initialized from
    N(0, init_std^2) with zero biases, as in the paper (init_std 0.01).

    ``dropout``: (encoder, decoder, discriminator) probabilities of dropout on every hidden layer's
    output while training (0: none). ``encoder_noise_scale``: the gaussian encoder's noise scale
    (see GaussianEncoder). ``hidden_noise``: std of Gaussian noise on the encoder's hidden layers'
    outputs while training."""

    def __init__(self, prior: Prior, input_dim: int = 784, latent_dim: Optional[int] = None,
                 variant: str = "unsupervised", encoder: str = "deterministic", hidden: Sequence[int] = (1000, 1000),
                 num_labels: Optional[int] = None, noise_dim: int = 8, init_std: float = 0.01,
                 backend: str = "auto", dropout: Sequence[float] = (0.0, 0.0, 0.0),
                 encoder_noise_scale: float = 1.0, hidden_noise: float = 0.0) -> None:
        super().__init__()
        dropout = network_dropouts(dropout)
        if not isinstance(prior, Prior):
            raise TypeError(f"prior must be a pyaae.priors.Prior, got {type(prior).__name__}")
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}; got {variant!r}")
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {', '.join(ENCODERS)}; got {encoder!r}")
        latent_dim = prior.dim if latent_dim is None else latent_dim
        if latent_dim != prior.dim:
            raise ValueError(f"latent_dim {latent_dim} does not match the prior's dimension {prior.dim}")
        labels_to = get_variant(variant).labels
        if labels_to is not None:
            if isinstance(num_labels, bool) or not isinstance(num_labels, int) or num_labels < 1:
                raise ValueError(f"variant {variant!r} needs num_labels (a positive integer), got {num_labels!r}")
            if labels_to == "discriminator" and prior.num_classes not in (None, num_labels):
                raise ValueError(f"the prior has {prior.num_classes} components/segments but num_labels is "
                                 f"{num_labels}")
        hidden = [int(h) for h in hidden]
        self.prior = prior
        self.config = {"input_dim": int(input_dim), "latent_dim": int(latent_dim), "variant": variant,
                       "encoder": encoder, "hidden": hidden, "num_labels": num_labels, "noise_dim": int(noise_dim),
                       "init_std": float(init_std), "backend": backend, "dropout": list(dropout),
                       "encoder_noise_scale": float(encoder_noise_scale), "hidden_noise": float(hidden_noise)}
        label_slots = num_labels if labels_to == "decoder" else 0
        disc_slots = num_labels + 1 if labels_to == "discriminator" else 0
        self.encoder = make_encoder(encoder, input_dim, latent_dim, hidden, noise_dim, backend, dropout[0],
                                    encoder_noise_scale, hidden_noise)
        self.decoder = FusedMLP([latent_dim + label_slots, *reversed(hidden), input_dim], out_activation="sigmoid",
                                backend=backend, dropout=dropout[1])
        self.discriminator = FusedMLP([latent_dim + disc_slots, *hidden, 1], backend=backend, dropout=dropout[2])
        for name, parameter in self.named_parameters():
            if name.endswith("weight"):
                nn.init.normal_(parameter, 0.0, init_std)
            else:
                nn.init.zeros_(parameter)

    # -- the model's functions ---------------------------------------------------------------------

    @property
    def labels_to(self) -> Optional[str]:
        """Where this variant's labels go: None, "discriminator" or "decoder" (pyaae.models.variants)."""
        return get_variant(self.config["variant"]).labels

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Codes of x [n, input_dim] (a posterior sample while training, its mean in eval mode for the
        Gaussian encoder)."""
        return self.encoder(x)

    def decode(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Images from codes; the supervised variant also takes the labels (int64 [n])."""
        if self.labels_to == "decoder":
            z = torch.cat([z, self.one_hot(labels, z.shape[0], with_unlabeled=False).to(z)], 1)
        elif labels is not None:
            raise ValueError(f"labels go to the decoder only in the supervised variant, not {self.config['variant']!r}")
        return self.decoder(z)

    def reconstruct(self, x: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """decode(encode(x)), with labels for the supervised variant."""
        return self.decode(self.encode(x), labels)

    def discriminate(self, z: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Logits [n, 1] that z came from the prior; the label-regularized variant also takes labels
        (-1: unlabeled, its own slot)."""
        if self.labels_to == "discriminator":
            z = torch.cat([z, self.one_hot(labels, z.shape[0], with_unlabeled=True).to(z)], 1)
        return self.discriminator(z)

    @torch.no_grad()
    def sample(self, n: int, *, labels: Optional[torch.Tensor] = None, seed: Optional[int] = None) -> torch.Tensor:
        """n images from the prior through the decoder. Labels pick the prior's component (label-
        regularized) or the decoded class (supervised; random classes when None)."""
        device = next(self.parameters()).device
        prior_labels = labels if self.labels_to == "discriminator" else None
        z = self.prior.sample(n, labels=prior_labels, seed=seed, device=device)
        if self.labels_to == "decoder" and labels is None:
            generator = torch.Generator().manual_seed(seed) if seed is not None else None
            labels = torch.randint(0, self.config["num_labels"], (n,), generator=generator)
        return self.decode(z, labels.to(device) if self.labels_to == "decoder" else None)

    def one_hot(self, labels: Optional[torch.Tensor], n: int, with_unlabeled: bool) -> torch.Tensor:
        """One-hot rows for labels in [0, num_labels) (-1 marks unlabeled, in the extra slot when
        ``with_unlabeled``)."""
        k = self.config["num_labels"]
        if labels is None:
            raise ValueError(f"the {self.config['variant']} variant needs labels")
        labels = torch.as_tensor(labels)
        if labels.shape != (n,) or labels.dtype.is_floating_point:
            raise ValueError(f"labels must be integers of shape ({n},), got {labels.dtype} {tuple(labels.shape)}")
        low = -1 if with_unlabeled else 0
        if n and (labels.min() < low or labels.max() >= k):
            raise ValueError(f"labels must lie in [{low}, {k}), got [{labels.min().item()}, {labels.max().item()}]")
        slots = torch.where(labels < 0, torch.full_like(labels, k), labels)
        return F.one_hot(slots.long(), k + 1 if with_unlabeled else k)
