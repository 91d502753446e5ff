"""The AAE with a categorical code (paper sections 5-7): the encoder outputs q(y|x), a softmax over K
categories, and a style code z; one discriminator imposes a categorical prior on y, another the
style prior on z; the decoder reconstructs x from (y, z). Variants: ``semi_supervised`` (y is the
class, also trained on the labelled examples: ``classify``), ``clustering`` (y is the cluster, no
labels) and ``dim_reduction`` (the decoder sees the low-dimensional representation W_C y + z, W_C
holding one learned cluster head per category; semi-supervised when labels are given)."""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ..nn import FusedLinear, FusedMLP
from ..priors import Categorical, Prior
from .aae import network_dropouts
from .persistence import SavedModel
from .variants import CATEGORICAL_VARIANTS, get_variant



class CategoricalAAE(SavedModel, nn.Module):
    """Encoder trunk (ReLU FusedMLP) with a softmax head of ``num_categories`` and a linear style
    head of the style prior's dimension; decoder from (one-hot or soft y, z) with sigmoid output;
    two discriminators. Weights from N(0, init_std^2), biases zero. ``dropout``: (encoder, decoder,
    discriminators) probabilities of dropout on every hidden layer's output while training;
    ``hidden_noise``: std of Gaussian noise on the trunk's hidden layers' outputs while training."""

    def __init__(self, style_prior: Prior, num_categories: int, input_dim: int = 784,
                 variant: str = "semi_supervised", hidden: Sequence[int] = (1000, 1000), init_std: float = 0.01,
                 backend: str = "auto", labelled: Optional[bool] = None, head_margin: Optional[float] = None,
                 dropout: Sequence[float] = (0.0, 0.0, 0.0), hidden_noise: float = 0.0) -> None:
        super().__init__()
        encoder_p, decoder_p, discriminator_p = network_dropouts(dropout)
        if not isinstance(style_prior, Prior):
            raise TypeError(f"style_prior must be a pyaae.priors.Prior, got {type(style_prior).__name__}")
        if variant not in CATEGORICAL_VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(CATEGORICAL_VARIANTS)}; got {variant!r}")
        if isinstance(num_categories, bool) or not isinstance(num_categories, int) or num_categories < 2:
            raise ValueError(f"num_categories must be an integer >= 2, got {num_categories!r}")
        hidden = [int(h) for h in hidden]
        if not hidden:
            raise ValueError("hidden must list at least one layer (the two heads share the last)")
        self.prior = style_prior
        self.category_prior = Categorical(torch.full((num_categories,), 1.0 / num_categories, device="cpu"))
        self.config = {"input_dim": int(input_dim), "latent_dim": style_prior.dim, "num_categories": num_categories,
                       "variant": variant, "hidden": hidden, "init_std": float(init_std), "backend": backend,
                       "labelled": get_variant(variant).labels == "classifier" if labelled is None else bool(labelled),
                       "dropout": [encoder_p, decoder_p, discriminator_p], "hidden_noise": float(hidden_noise)}
        self.config["num_labels"] = num_categories if self.config["labelled"] else None
        reduced = get_variant(variant).reduced
        if reduced:
            # Default margin: 6 style standard deviations, so that clusters of styles barely overlap.
            spread = float(style_prior.sample(4096, seed=0).std(0).mean())
            self.config["head_margin"] = float(head_margin) if head_margin is not None else 6.0 * spread
        self.trunk = FusedMLP([input_dim, *hidden], out_activation="relu", backend=backend, dropout=encoder_p,
                              out_dropout=encoder_p, hidden_noise=hidden_noise, out_noise=hidden_noise)
        self.category_head = FusedLinear(hidden[-1], num_categories, backend=backend)
        self.style_head = FusedLinear(hidden[-1], style_prior.dim, backend=backend)
        self.decoder = FusedMLP([(0 if reduced else num_categories) + style_prior.dim, *reversed(hidden), input_dim],
                                out_activation="sigmoid", backend=backend, dropout=decoder_p)
        self.category_discriminator = FusedMLP([num_categories, *hidden, 1], backend=backend, dropout=discriminator_p)
        self.style_discriminator = FusedMLP([style_prior.dim, *hidden, 1], backend=backend, dropout=discriminator_p)
        for name, parameter in self.named_parameters():
            if name.endswith("weight"):
                nn.init.normal_(parameter, 0.0, init_std)
            else:
                nn.init.zeros_(parameter)
        # W_C: one head per category, started evenly on a circle (the representation's first two axes)
        # with neighbours one margin apart; the head-distance cost keeps them apart as they learn.
        self.cluster_heads = nn.Parameter(_circle(num_categories, style_prior.dim, self.config["head_margin"])) \
            if reduced else None

    def decoder_parameters(self) -> list:
        """The decoder's parameters and the cluster heads (the dim_reduction variant's W_C)."""
        return [*self.decoder.parameters(), *([self.cluster_heads] if self.cluster_heads is not None else [])]

    def encoder_parameters(self) -> list:
        """The trunk's and both heads' parameters (what the encoder updates change)."""
        return [*self.trunk.parameters(), *self.category_head.parameters(), *self.style_head.parameters()]

    def discriminator_parameters(self) -> list:
        """Both discriminators' parameters."""
        return [*self.category_discriminator.parameters(), *self.style_discriminator.parameters()]

    def encode_logits(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(category logits [n, K], style z [n, d])."""
        h = self.trunk(x)
        return self.category_head(h), self.style_head(h)

    def category_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The category logits [n, K] alone (the style head is not run)."""
        return self.category_head(self.trunk(x))

    def encode(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(q(y|x) [n, K], style z [n, d])."""
        logits, z = self.encode_logits(x)
        return F.softmax(logits, 1), z

    @torch.no_grad()
    def classify(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """argmax_y q(y|x) (int64 [n], on x's device): the class (semi_supervised) or cluster
        (clustering) of each x; x may live on another device than the model (it is moved in chunks)."""
        device = next(self.parameters()).device
        chunks = [self.category_logits(x[i:i + batch_size].to(device)).argmax(1).to(x.device)
                  for i in range(0, len(x), batch_size)]
        return torch.cat(chunks) if chunks else torch.empty(0, dtype=torch.long, device=x.device)

    def decode(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Images from categories y (one-hot or probabilities [n, K], or int64 labels [n]) and styles z."""
        if not y.dtype.is_floating_point:
            y = F.one_hot(y.long(), self.config["num_categories"]).to(z)
        if self.cluster_heads is not None:
            return self.decoder(y @ self.cluster_heads + z)
        return self.decoder(torch.cat([y, z], 1))

    def represent(self, x: torch.Tensor) -> torch.Tensor:
        """The dim_reduction variant's representation W_C q(y|x) + z [n, style dim]."""
        if self.cluster_heads is None:
            raise ValueError(f"represent() is the dim_reduction variant's, not {self.config['variant']!r}'s")
        probs, z = self.encode(x)
        return probs @ self.cluster_heads + z

    def head_distance_cost(self) -> Optional[torch.Tensor]:
        """sum over pairs of heads of max(0, margin - |h_i - h_j|) (paper section 7): pushes heads
        closer than the margin apart. None for the variants without heads."""
        if self.cluster_heads is None:
            return None
        return torch.relu(self.config["head_margin"] - torch.pdist(self.cluster_heads)).sum()

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """decode(encode(x))."""
        return self.decode(*self.encode(x))

    @torch.no_grad()
    def sample(self, n: int, *, labels: Optional[torch.Tensor] = None, seed: Optional[int] = None) -> torch.Tensor:
        """n images: categories ``labels`` (int64 [n]; default drawn uniformly) with styles from the prior."""
        device = next(self.parameters()).device
        if labels is None:
            y = self.category_prior.sample(n, seed=seed, device=device)
        else:
            y = F.one_hot(torch.as_tensor(labels, device=device).long(), self.config["num_categories"]).float()
        return self.decode(y, self.prior.sample(n, seed=None if seed is None else seed + 1, device=device))

    def saved_config(self) -> dict:
        """Constructor arguments (the derived latent_dim and num_labels left out)."""
        return {k: v for k, v in self.config.items() if k not in ("latent_dim", "num_labels")}


def _circle(count: int, dim: int, spacing: float) -> torch.Tensor:
    """``count`` points [count, dim] evenly on a circle in the first two axes, neighbours ``spacing``
    apart (on a line when dim is 1)."""
    angles = torch.arange(count, dtype=torch.float64) * (2 * math.pi / count)
    points = torch.zeros(count, dim, dtype=torch.float64)
    if dim == 1:
        points[:, 0] = spacing * (torch.arange(count) - (count - 1) / 2)
    else:
        radius = spacing / (2 * math.sin(math.pi / count))
        points[:, 0], points[:, 1] = radius * torch.cos(angles), radius * torch.sin(angles)
    return points.float()
