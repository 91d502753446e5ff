"""TrainConfig.discriminator_noise: Gaussian noise of the stated std on every discriminator's input
(prior samples and codes, in the discriminator's update and the encoder's), none at 0."""
from __future__ import annotations

from typing import List

import pytest
import torch

import pyaae
from pyaae.models import AAE, CategoricalAAE
from pyaae.training.categorical_step import STYLE_SEED_OFFSET, categorical_step
from pyaae.training.step import make_optimizers, train_step

N = 400  # rows per minibatch: enough for the noise's std to be measured within 10%


def _record_inputs(network: torch.nn.Module) -> List[torch.Tensor]:
    seen: List[torch.Tensor] = []
    network.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    return seen


def _check_noise(seen: List[torch.Tensor], prior_sample: torch.Tensor, std: float) -> None:
    """seen: the discriminator's inputs, [prior samples; codes] in its update, then codes in the
    encoder's. The prior half less the prior sample is the noise; the codes' noise differs between
    the two updates."""
    assert len(seen) == 2 and seen[0].shape[0] == 2 * N and seen[1].shape[0] == N
    noise = seen[0][:N] - prior_sample
    if std == 0:
        assert torch.equal(noise, torch.zeros_like(noise))
        return
    assert abs(noise.std().item() / std - 1) < 0.1
    assert abs(noise.mean().item()) < 0.1 * std
    # The encoder's update draws noise of its own: the codes differ from the discriminator's.
    assert (seen[1] - seen[0][N:]).abs().max() > std


@pytest.mark.parametrize("std", [0.0, 0.5])
def test_categorical_discriminators_see_noise(std: float) -> None:
    torch.manual_seed(0)
    config = pyaae.TrainConfig(variant="clustering", discriminator_noise=std, optimizer="adam", hidden=(16,))
    model = CategoricalAAE(pyaae.priors.Gaussian(3), num_categories=4, input_dim=6, variant="clustering",
                           hidden=(16,))
    seen_y, seen_z = _record_inputs(model.category_discriminator), _record_inputs(model.style_discriminator)
    categorical_step(model, make_optimizers(model, config), torch.rand(N, 6), None, config, offset=5)
    _check_noise(seen_y, model.category_prior.sample(N, seed=config.seed, offset=5), std)
    _check_noise(seen_z, model.prior.sample(N, seed=config.seed + STYLE_SEED_OFFSET, offset=5), std)


@pytest.mark.parametrize("std", [0.0, 0.5])
def test_aae_discriminator_sees_noise(std: float) -> None:
    torch.manual_seed(0)
    config = pyaae.TrainConfig(discriminator_noise=std, optimizer="adam", hidden=(16,))
    model = AAE(pyaae.priors.Gaussian(3, std=2.0), input_dim=6, hidden=(16,))
    seen = _record_inputs(model.discriminator)
    train_step(model, make_optimizers(model, config), torch.rand(N, 6), None, config, offset=5)
    _check_noise(seen, model.prior.sample(N, seed=config.seed, offset=5), std)


def test_defaults_and_bad_values() -> None:
    assert pyaae.TrainConfig(variant="semi_supervised").discriminator_noise_std() == 0.3
    assert pyaae.TrainConfig(variant="clustering").discriminator_noise_std() == 0.0
    assert pyaae.TrainConfig().discriminator_noise_std() == 0.0
    for bad in (-0.1, "0.3", True, float("nan")):
        with pytest.raises(ValueError, match="discriminator_noise must be a finite number >= 0"):
            pyaae.TrainConfig(discriminator_noise=bad).validate()
