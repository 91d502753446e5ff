"""Which training examples keep their label in a run with ``num_labeled``: a class-balanced random
subset, the protocol of the paper's semi-supervised results and of the work it compares with (100
labels: 10 of each digit), or the first examples of the set as given."""
from __future__ import annotations

from typing import Tuple

import torch

LABELLED_SELECTIONS = ("balanced", "first")


def labelled_indices(labels: torch.Tensor, num_labeled: int, selection: str = "balanced",
                     seed: int = 0) -> torch.Tensor:
    """Indices (ascending) of the ``num_labeled`` examples of ``labels`` that keep their label.

    "balanced": ``num_labeled // C`` examples of each of the C classes present, and one more from
    each of ``num_labeled % C`` classes, drawn at random by ``seed`` (so 100 labels of MNIST are 10
    of each digit, where the first 100 training images hold 5 fives and 14 ones); a class with fewer
    examples than its share gives all it has and the others share the rest evenly. "first": the
    first ``num_labeled``. Asking for all examples or more returns every index.
    """
    if selection not in LABELLED_SELECTIONS:
        raise ValueError(f"labeled_selection must be one of {LABELLED_SELECTIONS}, got {selection!r}")
    n = len(labels)
    if num_labeled >= n:
        return torch.arange(n)
    if selection == "first":
        return torch.arange(num_labeled)
    labels = labels.cpu()
    classes, sizes = torch.unique(labels, return_counts=True)
    generator = torch.Generator().manual_seed(seed * 1_000_003 + 104_729)
    quota = _even_quota(sizes, num_labeled, generator)
    chosen = []
    for label, count in zip(classes.tolist(), quota.tolist()):
        members = torch.nonzero(labels == label).flatten()
        chosen.append(members[torch.randperm(len(members), generator=generator)[:count]])
    return torch.sort(torch.cat(chosen)).values


def labelled_first(images: torch.Tensor, labels: torch.Tensor, num_labeled: int, selection: str,
                   seed: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The training set reordered so that the labelled examples come first (in their order) and the
    rest follow in theirs: the trainer then keeps the labels of the first ``num_labeled``."""
    chosen = labelled_indices(labels, num_labeled, selection, seed)
    rest = torch.ones(len(labels), dtype=torch.bool)
    rest[chosen] = False
    order = torch.cat([chosen, torch.nonzero(rest).flatten()])
    return images[order], labels[order]


def _even_quota(sizes: torch.Tensor, total: int, generator: torch.Generator) -> torch.Tensor:
    """How many of each class to take: ``total`` (below ``sizes.sum()``) spread as evenly as the
    class sizes allow, the indivisible remainder one each to classes in an order drawn at random."""
    order = torch.randperm(len(sizes), generator=generator)
    quota = torch.zeros_like(sizes)
    left = total
    while left > 0:
        open_classes = order[quota[order] < sizes[order]]
        share = left // len(open_classes)
        if share == 0:
            quota[open_classes[:left]] += 1
            break
        add = torch.clamp(sizes[open_classes] - quota[open_classes], max=share)
        quota[open_classes] += add
        left -= int(add.sum())
    return quota
