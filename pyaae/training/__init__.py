"""Training: ``pyaae.train`` and its configuration."""
from .config import TrainConfig
from .distributed import DistributedTrainingError
from .labelled import labelled_indices
from .trainer import TrainingDiverged, TrainResult, train

__all__ = ["DistributedTrainingError", "TrainConfig", "TrainResult", "TrainingDiverged", "labelled_indices", "train"]
