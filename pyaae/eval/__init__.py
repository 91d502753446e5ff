"""Evaluation of trained models: the Parzen-window log-likelihood estimate, and the classification and
clustering error of the categorical AAEs."""
from .classification import (
    classification_error,
    cluster_composition,
    cluster_labels,
    cluster_labels_by_rule,
    clustering_error,
    clustering_errors,
    errors_from_composition,
)
from .parzen import ParzenResult, parzen, parzen_model

__all__ = ["ParzenResult", "cluster_composition", "cluster_labels", "cluster_labels_by_rule", "classification_error",
           "clustering_error", "clustering_errors", "errors_from_composition", "parzen", "parzen_model"]
