"""Data sets: MNIST from its original IDX files, the paper's split."""
from .mnist import MnistError, default_data_dir, load_mnist

__all__ = ["MnistError", "default_data_dir", "load_mnist"]
