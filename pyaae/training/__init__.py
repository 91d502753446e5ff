"""Training: ``pyaae.train`` and its configuration."""
from .._process_group import finish_collectives
from .config import TrainConfig
from .distributed import DistributedTrainingError
from .labelled import labelled_indices
from .trainer import TrainingDiverged, TrainResult, train

__all__ = ["DistributedTrainingError", "TrainConfig", "TrainResult", "TrainingDiverged", "finish_collectives",
           "labelled_indices", "train"]
