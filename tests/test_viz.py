"""pyaae.viz: every plot draws for every prior family and variant, and writes a PNG."""
from __future__ import annotations

import pytest

import pyaae
from pyaae import viz
from pyaae.models import AAE

PRIORS = {
    "gaussian-8d": lambda: pyaae.priors.Gaussian(8, std=5.0),
    "gaussian-2d": lambda: pyaae.priors.Gaussian(2),
    "mixture": pyaae.priors.GaussianMixture.paper_preset,
    "swiss_roll": pyaae.priors.SwissRoll,
}


def _model(prior: str, variant: str = "unsupervised") -> AAE:
    return AAE(PRIORS[prior](), hidden=(16,), variant=variant, num_labels=None if variant == "unsupervised" else 10)


@pytest.mark.parametrize("prior", PRIORS)
def test_plots_for_every_prior(prior: str, tmp_path) -> None:
    model = _model(prior)
    images, labels = pyaae.data.blobs(60, split="validation")
    paths = viz.save_plots(model, tmp_path, images, labels, [
        {"epoch": 1, "reconstruction": 300.0, "discriminator": 1.2, "generator": 0.8, "discriminator_accuracy": 0.9},
        {"epoch": 2, "reconstruction": 200.0, "discriminator": 1.3, "generator": 0.7, "discriminator_accuracy": 0.7}])
    assert set(paths) == {"codes", "samples", "manifold", "reconstructions", "losses"}
    for path in paths.values():
        assert path.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("variant, prior", [("supervised", "gaussian-8d"), ("label_regularized", "mixture")])
def test_labelled_variants(variant: str, prior: str) -> None:
    model = _model(prior, variant)
    images, labels = pyaae.data.blobs(20, split="validation")
    fig = viz.plot_samples(model, rows=3, cols=4)
    assert len(fig.axes) == 1
    viz.plot_reconstructions(model, images, labels, n=5)
    viz.plot_manifold(model, steps=5)


def test_bad_input() -> None:
    model = AAE(pyaae.priors.Gaussian(2), input_dim=20, hidden=(8,))
    with pytest.raises(ValueError, match="not square"):
        viz.plot_samples(model)
    with pytest.raises(ValueError, match="history is empty"):
        viz.plot_history([])
    fig = viz.plot_samples(model, rows=2, cols=2, image_shape_hw=(4, 5))
    assert fig is not None
    with pytest.raises(ValueError, match="does not hold 20 features"):
        viz.plot_samples(model, image_shape_hw=(3, 5))
