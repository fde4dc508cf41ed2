"""Data layer: every source gives ``uint8 (N, H, W, C)`` images, ``int32`` labels and class names."""

from facesweep.io.dataset import Dataset, Split
from facesweep.io.preprocess import to_model_input

__all__ = ["Dataset", "Split", "to_model_input"]
