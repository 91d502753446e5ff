"""Evaluation metrics of generative models: the Parzen-window log-likelihood estimate."""
from .parzen import ParzenResult, parzen

__all__ = ["ParzenResult", "parzen"]
