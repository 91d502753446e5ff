"""The categorical AAE (paper sections 5 and 6): semi_supervised learns the class from few labels
and beats a nearest-neighbour classifier on the same labels; clustering beats chance by far; the
error metrics follow their definitions; the model saves, loads and plots."""
from __future__ import annotations

import pytest
import torch
from conftest import MNIST_DIR, needs_mnist

import pyaae
from pyaae.data import load_mnist
from pyaae.eval import (
    classification_error,
    cluster_composition,
    cluster_labels,
    cluster_labels_by_rule,
    clustering_error,
    clustering_errors,
)
from pyaae.models import CategoricalAAE, load_model
from pyaae.training import labelled_indices

SMALL = dict(dataset="blobs", train_size=300, hidden=(64, 64), batch_size=50, progress=False)


def _nearest_neighbour_error(x_train, y_train, x_test, y_test) -> float:
    return float((y_train[torch.cdist(x_test, x_train).argmin(1)] != y_test).float().mean())


@needs_mnist
def test_semi_supervised_beats_nearest_neighbour_with_1000_labels() -> None:
    # 8 epochs on a 10,000-image subset at the default classification rate. Validation error of seed
    # 0, epochs 5-10: 0.086 0.081 0.069 0.075 0.077 0.073 with 2 threads, 0.081 0.077 0.070 0.069
    # 0.075 0.068 with 1; at rate 3e-3 it bounced (0.073, 0.092, 0.073 over epochs 5-7), and its
    # epoch 6 (0.095 with 2 threads) missed the margin below.
    result = pyaae.train(data_dir=MNIST_DIR, variant="semi_supervised", train_size=10000, num_labeled=1000,
                         epochs=8, optimizer="adam", progress=False)
    train, labels = load_mnist(MNIST_DIR, "train")
    valid, valid_labels = load_mnist(MNIST_DIR, "validation")
    ours = classification_error(result.model, valid, valid_labels)
    known = labelled_indices(labels[:10000], 1000)  # the examples the run kept the labels of
    baseline = _nearest_neighbour_error(train[known], labels[known], valid, valid_labels)
    # measured: 0.075 against 0.101 (the first 1000 images, uneven in class, gave the baseline 0.118)
    assert ours < 0.85 * baseline, (ours, baseline)


def test_clustering_beats_chance_by_far() -> None:
    # 10 well separated classes, 16 clusters: every class should own clusters of its own.
    images, labels = pyaae.data.blobs(2000)
    valid, valid_labels = pyaae.data.blobs(400, split="validation")
    result = pyaae.train(dataset=(images, labels), variant="clustering", num_categories=16, hidden=(128, 128),
                         init_std=0.05, epochs=20, optimizer="adam", progress=False)
    error = clustering_error(result.model, valid[:200], valid_labels[:200], valid[200:], valid_labels[200:])
    assert error < 0.3  # chance: 0.9; measured 0.085


def test_metrics_follow_their_definitions() -> None:
    torch.manual_seed(0)
    model = CategoricalAAE(pyaae.priors.Gaussian(2), num_categories=3, input_dim=4, hidden=(8,), init_std=0.5)
    x = torch.randn(60, 4)
    probs, _ = model.eval().encode(x)
    assigned = probs.argmax(1)
    labels = (assigned + 1) % 3  # a relabelling: the paper's rule recovers it
    assert classification_error(model, x, assigned) == 0.0
    mapping = cluster_labels(model, x, labels)
    torch.testing.assert_close(mapping, labels[probs.argmax(0)])
    assert clustering_error(model, x, labels, x, labels, rule="majority") == 0.0
    noisy = torch.where(torch.arange(60) % 7 == 0, torch.tensor(4), labels)  # a fifth label, in some clusters
    counts = cluster_composition(model, x, noisy)
    assert counts.shape == (3, 5) and counts.dtype == torch.long
    for k in range(3):
        torch.testing.assert_close(counts[k], torch.bincount(noisy[assigned == k], minlength=5))
    seen = counts.sum(1) > 0
    torch.testing.assert_close(cluster_labels(model, x, noisy, rule="majority")[seen], counts[seen].argmax(1))
    encode, calls = model.encode, []
    model.encode = lambda batch: calls.append(len(batch)) or encode(batch)
    by_rule = cluster_labels_by_rule(model, x, noisy)
    assert calls == [60]  # one encoding serves both rules
    del model.encode
    assert set(by_rule) == {"paper", "majority"}
    for rule, mapping in by_rule.items():
        torch.testing.assert_close(mapping, cluster_labels(model, x, noisy, rule=rule))
    with pytest.raises(ValueError, match="non-negative"):
        cluster_composition(model, x, labels - 3)
    with pytest.raises(ValueError, match="rule must be one of"):
        cluster_labels(model, x, labels, rule="hungarian")
    with pytest.raises(ValueError, match="rule must be one of"):
        clustering_error(model, x, labels, x, labels, rule="hungarian")
    with pytest.raises(ValueError, match="labels must be integers"):
        classification_error(model, x, labels.float())
    with pytest.raises(TypeError, match="CategoricalAAE"):
        classification_error(pyaae.models.AAE(pyaae.priors.Gaussian(2), input_dim=4, hidden=(8,)), x, labels)


def test_clustering_errors_follow_their_definition_and_encode_each_split_once() -> None:
    torch.manual_seed(1)
    model = CategoricalAAE(pyaae.priors.Gaussian(2), num_categories=4, input_dim=4, hidden=(8,), init_std=0.5)
    x_valid, x_test = torch.randn(80, 4), torch.randn(50, 4)
    labels_valid = torch.randint(0, 6, (80,))  # label 5 may name a cluster the test set (0-3) never holds
    labels_test = torch.randint(0, 4, (50,))
    test_clusters = model.eval().classify(x_test)
    expected = {rule: float((mapping[test_clusters] != labels_test).double().mean())
                for rule, mapping in cluster_labels_by_rule(model, x_valid, labels_valid).items()}
    encode, calls = model.encode, []
    model.encode = lambda batch: calls.append(len(batch)) or encode(batch)
    errors = clustering_errors(model, x_valid, labels_valid, x_test, labels_test)
    del model.encode
    assert sorted(calls) == [50, 80]
    assert errors.keys() == expected.keys()
    for rule in expected:
        assert errors[rule] == pytest.approx(expected[rule], abs=1e-12)
        assert clustering_error(model, x_valid, labels_valid, x_test, labels_test, rule) == errors[rule]
    assert clustering_errors(model, x_test, labels_test, x_test, labels_test)["majority"] == pytest.approx(
        1 - cluster_composition(model, x_test, labels_test).max(1).values.sum().item() / 50)


@pytest.mark.parametrize("variant, num_labeled", [("semi_supervised", 100), ("clustering", None),
                                                  ("dim_reduction", None), ("dim_reduction", 100)])
def test_variants_train_save_load_and_plot(variant: str, num_labeled, tmp_path) -> None:
    settings = dict(SMALL, variant=variant, epochs=2, num_labeled=num_labeled, checkpoint_dir=tmp_path)
    result = pyaae.train(**settings)
    expected = {"reconstruction", "discriminator", "generator", "discriminator_accuracy", "epoch", "seconds",
                "steps_per_second"} | ({"classification"} if num_labeled else set()) | (
                    {"head_distance"} if variant == "dim_reduction" else set())
    assert set(result.history[-1]) == expected
    resumed = pyaae.train(**dict(settings, epochs=3, resume=True))
    uninterrupted = pyaae.train(**dict(settings, epochs=3, checkpoint_dir=None))
    assert [h["reconstruction"] for h in resumed.history] == [h["reconstruction"] for h in uninterrupted.history]
    result.model.save(tmp_path / "model.safetensors")
    loaded = load_model(tmp_path / "model.safetensors")
    assert isinstance(loaded, CategoricalAAE)
    x, _ = pyaae.data.blobs(20, split="validation")
    torch.testing.assert_close(loaded.classify(x), result.model.classify(x))
    images, labels = pyaae.data.blobs(50, split="validation")
    paths = pyaae.viz.save_plots(result.model, tmp_path / "plots", images, labels, result.history)
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths.values())


def test_dim_reduction_keeps_cluster_heads_apart() -> None:
    images, labels = pyaae.data.blobs(1000)
    # 40 steps: classification rate 3e-3 (1e-3: 69.5 % error).
    result = pyaae.train(dataset=(images, labels), variant="dim_reduction", num_labeled=300, prior_std=1.0,
                         hidden=(64, 64), epochs=4, optimizer="adam", lr_classification=3e-3, progress=False)
    model = result.model
    assert model.config["num_categories"] == 10 and model.cluster_heads.shape == (10, 2)
    margin = model.config["head_margin"]
    torch.testing.assert_close(margin, 6.0, rtol=0.05, atol=0)  # 6 standard deviations of N(0, 1)
    assert torch.pdist(model.cluster_heads.detach()).min() > 0.95 * margin
    # The cost is zero when every pair is a margin apart, and grows as two heads close in.
    with torch.no_grad():
        model.cluster_heads[1] = model.cluster_heads[0] + 0.5 * margin / 2**0.5
    assert model.head_distance_cost() > 0.4 * margin
    # The 2-D representation: each class around its own head.
    valid, valid_labels = pyaae.data.blobs(200, split="validation")
    rep = model.eval().represent(valid)
    assert rep.shape == (200, 2)
    assert classification_error(model, valid, valid_labels) < 0.2


@pytest.mark.parametrize("overrides, match", [
    (dict(variant="semi_supervised", dataset=torch.rand(50, 10), train_size=None), "needs labels"),
    (dict(variant="semi_supervised", num_labeled=0), "num_labeled >= 1"),
    (dict(variant="semi_supervised", num_labeled=10, labeled_selection="random"), "labeled_selection must be"),
    (dict(variant="clustering", num_categories=1), "num_categories must be an integer >= 2"),
    (dict(variant="semi_supervised", num_categories=5), "num_categories is 5"),
    (dict(variant="clustering", input_noise=-0.1), "input_noise must be a finite number >= 0"),
    (dict(variant="clustering", category_balance=-1.0), "category_balance must be a finite number >= 0"),
    (dict(variant="clustering", category_balance=float("nan")), "category_balance must be a finite number"),
    (dict(variant="clustering", style_regularization_weight=float("inf")),
     "style_regularization_weight must be a finite number >= 0"),
    (dict(variant="clustering", style_regularization_weight=True), "style_regularization_weight must be a"),
])
def test_bad_configuration(overrides, match) -> None:
    with pytest.raises(ValueError, match=match):
        pyaae.train(**dict(dict(dataset="blobs", train_size=200, progress=False), **overrides))
