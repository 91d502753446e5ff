"""Training: ``pyaae.train`` and its configuration."""
from .config import TrainConfig
from .trainer import TrainingDiverged, TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "TrainingDiverged", "train"]
