"""Data layer: every source gives ``uint8 (N, H, W, C)`` images, ``int32`` labels and class names.

``load_dataset(task, data)`` is the entry point: ``data=None`` draws the embedded synthetic faces
(``facesweep.io.synthetic``), a folder or a FER-2013 CSV is decoded once and cached (``facesweep.io.cache``).
"""

from facesweep.io.dataset import Dataset, Split
from facesweep.io.load import load_dataset
from facesweep.io.preprocess import to_model_input
from facesweep.io.synthetic import synthetic_dataset

__all__ = ["Dataset", "Split", "load_dataset", "synthetic_dataset", "to_model_input"]
