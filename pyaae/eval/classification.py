"""Classification and clustering error of a categorical AAE (paper sections 5 and 6)."""
from __future__ import annotations

from typing import Dict

import torch

from ..models import CategoricalAAE

RULES = ("paper", "majority")


def classification_error(model: CategoricalAAE, x: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of x whose argmax_y q(y|x) differs from ``labels`` (the semi-supervised model's test error)."""
    labels = _check(model, x, labels)
    return float((model.eval().classify(x).cpu() != labels.cpu()).double().mean())


def cluster_labels(model: CategoricalAAE, x_valid: torch.Tensor, labels_valid: torch.Tensor,
                   rule: str = "paper") -> torch.Tensor:
    """The label each of the model's K clusters stands for (int64 [K]).

    ``rule="paper"``: cluster k takes the label of the validation example with the highest q(y=k|x)
    (Makhzani et al., section 6); ``"majority"``: the most frequent label among the validation
    examples assigned to k (a cluster no example falls in takes the paper rule's label)."""
    _check_rule(rule)
    return cluster_labels_by_rule(model, x_valid, labels_valid)[rule]


def cluster_labels_by_rule(model: CategoricalAAE, x_valid: torch.Tensor,
                           labels_valid: torch.Tensor) -> Dict[str, torch.Tensor]:
    """``cluster_labels`` under every rule in ``RULES``, the validation set encoded once."""
    labels_valid = _check(model, x_valid, labels_valid).cpu()
    probs = _probabilities(model, x_valid)
    paper = labels_valid[probs.argmax(0)]
    counts = _composition(probs.argmax(1), labels_valid, model.config["num_categories"])
    seen = counts.sum(1) > 0
    majority = paper.clone()
    majority[seen] = counts[seen].argmax(1)
    return {"paper": paper, "majority": majority}


def cluster_composition(model: CategoricalAAE, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """How many examples of each label each cluster holds (int64 [K, max label + 1]): row k counts
    the labels of the x whose argmax_y q(y|x) is k, so a row sums to the cluster's size and its
    argmax is the cluster's majority label. Shows which classes a clustering merges or splits."""
    labels = _check(model, x, labels).cpu()
    return _composition(_probabilities(model, x).argmax(1), labels, model.config["num_categories"])


def clustering_error(model: CategoricalAAE, x_valid: torch.Tensor, labels_valid: torch.Tensor, x_test: torch.Tensor,
                     labels_test: torch.Tensor, rule: str = "paper") -> float:
    """Test error when each test example takes its cluster's label (``cluster_labels`` on the
    validation set, by ``rule``)."""
    _check_rule(rule)
    return clustering_errors(model, x_valid, labels_valid, x_test, labels_test)[rule]


def clustering_errors(model: CategoricalAAE, x_valid: torch.Tensor, labels_valid: torch.Tensor, x_test: torch.Tensor,
                      labels_test: torch.Tensor) -> Dict[str, float]:
    """``clustering_error`` under every rule in ``RULES``, each split encoded once."""
    return errors_from_composition(cluster_composition(model, x_test, labels_test),
                                   cluster_labels_by_rule(model, x_valid, labels_valid))


def errors_from_composition(composition: torch.Tensor, mappings: Dict[str, torch.Tensor]) -> Dict[str, float]:
    """Test error per rule from the test set's ``cluster_composition`` and each rule's cluster labels:
    a test example is right when its cluster's label is its own (a cluster labelled with a class the
    test set lacks gets every one of its examples wrong)."""
    rows = torch.arange(len(composition))
    errors = {}
    for rule, mapping in mappings.items():
        present = mapping < composition.shape[1]
        right = composition[rows[present], mapping[present]].sum()
        errors[rule] = 1.0 - float(right) / float(composition.sum())
    return errors


def _composition(clusters: torch.Tensor, labels: torch.Tensor, num_clusters: int) -> torch.Tensor:
    counts = torch.zeros(num_clusters, int(labels.max()) + 1, dtype=torch.long)
    return counts.index_put_((clusters, labels), torch.ones_like(labels), accumulate=True)


@torch.no_grad()
def _probabilities(model: CategoricalAAE, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model.encode(x[i:i + batch_size].to(device))[0].cpu() for i in range(0, len(x), batch_size)])


def _check(model: CategoricalAAE, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    if not isinstance(model, CategoricalAAE):
        raise TypeError(f"model must be a pyaae.models.CategoricalAAE (semi_supervised or clustering), got "
                        f"{type(model).__name__}")
    labels = torch.as_tensor(labels)
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != model.config["input_dim"]:
        raise ValueError(f"x must be a tensor [n, {model.config['input_dim']}], got "
                         f"{tuple(getattr(x, 'shape', ()))}")
    if labels.shape != (len(x),) or labels.dtype.is_floating_point or len(x) == 0:
        raise ValueError(f"labels must be integers of shape ({len(x)},) with n >= 1, got {labels.dtype} "
                         f"{tuple(labels.shape)}")
    if labels.min() < 0:
        raise ValueError(f"labels must be non-negative class indices, got minimum {int(labels.min())}")
    return labels.long()


def _check_rule(rule: str) -> None:
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}; got {rule!r}")
