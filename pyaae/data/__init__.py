"""Data sets: MNIST from its original IDX files with the paper's split, and small synthetic sets."""
from .mnist import MnistError, MnistMissing, default_data_dir, load_mnist
from .synthetic import SYNTHETIC, blobs

__all__ = ["MnistError", "MnistMissing", "SYNTHETIC", "blobs", "default_data_dir", "load_mnist"]
