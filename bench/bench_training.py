"""One full training step (both phases) of the paper's MNIST model at batch 100: pyaae's train_step
on the kernels against, in the same run and interleaved (bench/conftest.py),

- pyaae's own train_step on the reference backend (PyTorch ops under the same step);
- a well-written plain PyTorch eager step (nn.Linear stacks, the same phases: the codes computed once
  after the reconstruction update serve both the discriminator and the encoder update; prior samples
  and codes through the discriminator as one batch; no discriminator weight gradients in the
  encoder's update);
- the same step with each phase's forward and loss under torch.compile;
- a straightforward eager loop as users write it: the encoder run three times per step (once per
  update), the discriminator twice in its own update, and its weight gradients computed (then
  discarded) in the encoder's update.

Work per step: 4.52 GFLOP (the well-written step's GEMMs; the straightforward loop does more).
Targets: >= 1.5x the well-written eager step and torch.compile, >= 2x the straightforward loop.
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import pyaae
from pyaae.training.step import make_optimizers, train_step

BATCH = 100
LATENT = 8
HIDDEN = 1000
PRIOR_STD = 5.0


def step_gflop(batch: int = BATCH) -> float:
    """GEMM work of the well-written step: forward 2*n*in*out per layer, backward twice that less the
    input gradient of first layers (data and prior samples need none)."""
    def forward(sizes):
        return sum(2 * batch * a * b for a, b in zip(sizes, sizes[1:]))

    enc, dec, disc = [784, HIDDEN, HIDDEN, LATENT], [LATENT, HIDDEN, HIDDEN, 784], [LATENT, HIDDEN, HIDDEN, 1]
    first = 2 * batch * 784 * HIDDEN  # input gradient of the encoder's first layer, never needed
    reconstruction = 3 * forward(enc) - first + 3 * forward(dec)
    discriminator = forward(enc) + 3 * 2 * forward(disc) - 2 * 2 * batch * LATENT * HIDDEN
    generator = 2 * forward(disc) - 2 * batch * LATENT * HIDDEN + 2 * forward(enc) - first
    return (reconstruction + discriminator + generator) * 1e-9


def _mlp(sizes, out: nn.Module = None) -> nn.Sequential:
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if out is not None:
        layers.append(out)
    seq = nn.Sequential(*layers)
    for p in seq.parameters():
        nn.init.normal_(p, 0.0, 0.01)
    return seq


class TorchAAE:
    """The paper's MNIST AAE in plain PyTorch with the paper's SGD settings."""

    def __init__(self) -> None:
        torch.manual_seed(0)
        self.enc = _mlp([784, HIDDEN, HIDDEN, LATENT])
        self.dec = _mlp([LATENT, HIDDEN, HIDDEN, 784], nn.Sigmoid())
        self.disc = _mlp([LATENT, HIDDEN, HIDDEN, 1])
        self.opt_rec = torch.optim.SGD(list(self.enc.parameters()) + list(self.dec.parameters()), lr=0.01,
                                       momentum=0.9)
        self.opt_d = torch.optim.SGD(self.disc.parameters(), lr=0.1, momentum=0.1)
        self.opt_g = torch.optim.SGD(self.enc.parameters(), lr=0.1, momentum=0.1)
        self.ones = torch.ones(BATCH, 1)
        self.targets = torch.cat([torch.ones(BATCH, 1), torch.zeros(BATCH, 1)])

    @staticmethod
    def _update(opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def rec_loss(self, x: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy(self.dec(self.enc(x)), x, reduction="sum") / len(x)

    def disc_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        return 2.0 * F.binary_cross_entropy_with_logits(self.disc(torch.cat([real, fake])), self.targets)

    def gen_loss(self, fake: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(self.disc(fake), self.ones)

    def well_written_step(self, x: torch.Tensor, rec_loss=None, disc_loss=None, gen_loss=None) -> None:
        self._update(self.opt_rec, (rec_loss or self.rec_loss)(x))
        real = PRIOR_STD * torch.randn(len(x), LATENT)
        fake = self.enc(x)
        self._update(self.opt_d, (disc_loss or self.disc_loss)(real, fake.detach()))
        self.disc.requires_grad_(False)
        self._update(self.opt_g, (gen_loss or self.gen_loss)(fake))
        self.disc.requires_grad_(True)

    def straightforward_step(self, x: torch.Tensor) -> None:
        self._update(self.opt_rec, F.binary_cross_entropy(self.dec(self.enc(x)), x, reduction="sum") / len(x))
        real = PRIOR_STD * torch.randn(len(x), LATENT)
        d_real, d_fake = self.disc(real), self.disc(self.enc(x).detach())
        loss_d = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                  + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        self._update(self.opt_d, loss_d)
        d_gen = self.disc(self.enc(x))
        self._update(self.opt_g, F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen)))


def _pyaae_step(backend: str) -> Callable[[], None]:
    config = pyaae.TrainConfig(backend=backend, max_grad_norm=None)  # the PyTorch baselines do not clip
    model = pyaae.models.AAE(pyaae.priors.Gaussian(LATENT, std=PRIOR_STD), backend=backend)
    optimizers = make_optimizers(model, config)
    x = _batch()
    counter = iter(range(2**31))
    return lambda: train_step(model, optimizers, x, None, config, offset=next(counter))


def _batch() -> torch.Tensor:
    return torch.rand(BATCH, 784, generator=torch.Generator().manual_seed(1))


def _eager() -> Callable[[], None]:
    model, x = TorchAAE(), _batch()
    return lambda: model.well_written_step(x)


def _compiled() -> Callable[[], None]:
    model, x = TorchAAE(), _batch()
    phases = {name: torch.compile(getattr(model, name)) for name in ("rec_loss", "disc_loss", "gen_loss")}
    return lambda: model.well_written_step(x, **phases)


def _straightforward() -> Callable[[], None]:
    model, x = TorchAAE(), _batch()
    return lambda: model.straightforward_step(x)


# baseline: (factory of its step, the speed-up asked for)
BASELINES: Dict[str, Tuple[Callable[[], Callable[[], None]], float]] = {
    "reference backend": (lambda: _pyaae_step("reference"), 1.5),
    "well-written eager": (_eager, 1.5),
    "torch.compile": (_compiled, 1.5),
    "straightforward eager": (_straightforward, 2.0),
}


@pytest.mark.parametrize("baseline", list(BASELINES))
def bench_training_step(versus_torch, baseline: str) -> None:
    factory, target = BASELINES[baseline]
    theirs = factory()
    versus_torch(f"training step, batch {BATCH}: kernels vs {baseline}", step_gflop(), _pyaae_step("kernels"), theirs,
                 target)
