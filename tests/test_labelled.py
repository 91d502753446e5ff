"""Which examples keep their label (TrainConfig.labeled_selection): a class-balanced subset drawn by
the seed, or the first ones; and that training uses the ones chosen."""
from __future__ import annotations

import pytest
import torch

import pyaae
from pyaae.eval import classification_error
from pyaae.training import labelled_indices
from pyaae.training.labelled import labelled_first

LABELS = torch.arange(1000) % 10
LABELS = LABELS[torch.randperm(1000, generator=torch.Generator().manual_seed(0))]


def test_balanced_takes_as_many_of_each_class_drawn_by_the_seed() -> None:
    chosen = labelled_indices(LABELS, 100)
    assert torch.bincount(LABELS[chosen], minlength=10).tolist() == [10] * 10
    assert torch.equal(chosen, torch.sort(chosen).values) and len(set(chosen.tolist())) == 100
    assert torch.equal(chosen, labelled_indices(LABELS, 100, seed=0))
    assert not torch.equal(chosen, labelled_indices(LABELS, 100, seed=1))
    counts = torch.bincount(LABELS[labelled_indices(LABELS, 105)], minlength=10)
    assert sorted(counts.tolist()) == [10] * 5 + [11] * 5


def test_a_small_class_gives_all_it_has_and_the_others_share_the_rest() -> None:
    sizes = [50, 3, 8, 40]
    skewed = torch.cat([torch.full((n,), k) for k, n in enumerate(sizes)])
    # 20: 5 each, class 1 has 3, so the remaining 2 go one each to two of the other three.
    counts = torch.bincount(skewed[labelled_indices(skewed, 20)]).tolist()
    assert counts[1] == 3 and sorted(counts) == [3, 5, 6, 6]
    assert torch.bincount(skewed[labelled_indices(skewed, 100)]).tolist() == [49, 3, 8, 40]
    assert torch.bincount(skewed[labelled_indices(skewed, 18)]).tolist() == [5, 3, 5, 5]


def test_first_all_and_bad_selection() -> None:
    assert labelled_indices(LABELS, 7, "first").tolist() == list(range(7))
    assert torch.equal(labelled_indices(LABELS, 1000), torch.arange(1000))
    with pytest.raises(ValueError, match="labeled_selection must be one of"):
        labelled_indices(LABELS, 10, "random")


def test_labelled_first_puts_the_chosen_ahead_of_the_rest_in_order() -> None:
    images = torch.arange(1000, dtype=torch.float32)[:, None]
    reordered, labels = labelled_first(images, LABELS, 30, "balanced", seed=2)
    chosen = labelled_indices(LABELS, 30, seed=2)
    assert torch.equal(reordered[:30, 0].long(), chosen)
    rest = reordered[30:, 0].long()
    assert torch.equal(rest, torch.sort(rest).values) and len(set(rest.tolist()) | set(chosen.tolist())) == 1000
    assert torch.equal(labels, LABELS[reordered[:, 0].long()])


def test_training_learns_from_the_balanced_labels() -> None:
    # Sorted by class, the first 30 examples are all of class 0: with them alone the classifier cannot
    # learn the other nine classes; three of each class are enough on these blobs.
    images, labels = pyaae.data.blobs(1000)
    order = torch.argsort(labels, stable=True)
    valid, valid_labels = pyaae.data.blobs(300, split="validation")
    errors = {}
    for selection in ("balanced", "first"):
        model = pyaae.train(dataset=(images[order], labels[order]), variant="semi_supervised", num_labeled=30,
                            labeled_selection=selection, hidden=(64, 64), epochs=3, optimizer="adam",
                            lr_classification=3e-3, progress=False).model
        errors[selection] = classification_error(model, valid, valid_labels)
    assert errors["first"] > 0.8 and errors["balanced"] < 0.3, errors
