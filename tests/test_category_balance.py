"""The category-balance term of the categorical AAE's regularization update: KL(mean of q(y|x) over
the minibatch || category prior): its value and gradient against a float64 oracle, off by default
(the paper's recipe), and what it is for: an encoder that no longer collapses onto one cluster."""
from __future__ import annotations

import pytest
import torch

import pyaae
from pyaae.models import CategoricalAAE
from pyaae.training.categorical_step import categorical_step, category_balance_loss
from pyaae.training.distributed import Shard
from pyaae.training.step import make_optimizers


def _oracle(logits: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    mean = torch.softmax(logits.double(), 1).mean(0)
    return (mean * torch.log(mean / prior.double())).sum()


@pytest.mark.parametrize("rows, categories, skew", [(1, 2, 0.0), (7, 16, 3.0), (100, 30, 8.0), (256, 4, 0.5)])
def test_value_and_gradient_match_the_oracle(rows: int, categories: int, skew: float) -> None:
    generator = torch.Generator().manual_seed(rows * categories)
    logits = skew * torch.randn(rows, categories, generator=generator)
    prior = torch.rand(categories, generator=generator) + 0.1
    prior /= prior.sum()
    ours = logits.clone().requires_grad_()
    loss = category_balance_loss(torch.softmax(ours, 1), prior, Shard(0, 1, rows))
    loss.backward()
    exact = logits.double().requires_grad_()
    expected = _oracle(exact, prior)
    expected.backward()
    # float32 softmax and log: errors of a few ulps of the terms' size.
    assert loss.item() == pytest.approx(expected.item(), abs=2e-6)
    torch.testing.assert_close(ours.grad.double(), exact.grad, rtol=1e-4, atol=1e-7)


def test_zero_when_the_minibatch_follows_the_prior_and_positive_when_it_collapses() -> None:
    prior = torch.full((4,), 0.25)
    balanced = torch.eye(4).repeat(3, 1)
    assert category_balance_loss(balanced, prior, Shard(0, 1, 12)).item() == pytest.approx(0.0, abs=1e-7)
    collapsed = torch.zeros(12, 4)
    collapsed[:, 2] = 1.0  # one category for every row: KL = log 4, finite
    assert category_balance_loss(collapsed, prior, Shard(0, 1, 12)).item() == pytest.approx(torch.log(
        torch.tensor(4.0)).item(), rel=1e-6)


def test_the_paper_recipe_is_the_default() -> None:
    config = pyaae.TrainConfig(variant="clustering")
    assert (config.category_balance, config.style_regularization_weight) == (0.0, 1.0)


@pytest.mark.parametrize("variant", ["clustering", "dim_reduction"])
def test_balance_keeps_the_encoder_from_collapsing_onto_one_cluster(variant: str) -> None:
    """Blobs, 8 clusters, 5 epochs: without the term every image lands in one cluster (measured,
    with 1 and 2 threads; the unsupervised dim_reduction likewise, and on MNIST in its first epoch);
    with it, 5 clusters (clustering) and 7 (dim_reduction, at 1 thread) hold 4 % or more of the
    images each (measured)."""
    images, labels = pyaae.data.blobs(1000)
    used = {}
    for balance in (0.0, 1.0):
        result = pyaae.train(dataset=(images, labels), variant=variant, num_categories=8, hidden=(64, 64),
                             init_std=0.05, epochs=5, optimizer="adam", progress=False, category_balance=balance)
        share = torch.bincount(result.model.eval().classify(images), minlength=8).float() / len(images)
        used[balance] = int((share >= 0.04).sum())
    assert used[0.0] <= 2 and used[1.0] >= 4, used


@pytest.mark.parametrize("balance", [0.0, 2.0])
def test_the_step_reports_the_term_only_when_it_is_on(balance: float) -> None:
    torch.manual_seed(0)
    config = pyaae.TrainConfig(variant="clustering", optimizer="adam", hidden=(16,), category_balance=balance)
    model = CategoricalAAE(pyaae.priors.Gaussian(3), num_categories=4, input_dim=6, variant="clustering",
                           hidden=(16,))
    metrics = categorical_step(model, make_optimizers(model, config), torch.rand(50, 6), None, config, offset=0)
    assert ("category_balance" in metrics) == (balance > 0)
    if balance > 0:
        assert 0 <= metrics["category_balance"].item() <= torch.log(torch.tensor(4.0)).item() + 1e-6


def test_the_generator_metric_is_the_fooling_loss_alone() -> None:
    # Until the encoder's update, a step with the term on runs exactly as one with it off.
    reported = []
    for balance in (0.0, 2.0):
        torch.manual_seed(0)
        config = pyaae.TrainConfig(variant="clustering", optimizer="adam", hidden=(16,), category_balance=balance)
        model = CategoricalAAE(pyaae.priors.Gaussian(3), num_categories=4, input_dim=6, variant="clustering",
                               hidden=(16,))
        metrics = categorical_step(model, make_optimizers(model, config), torch.rand(50, 6), None, config, offset=0)
        reported.append(metrics["generator"].item())
    assert reported[0] == reported[1]
