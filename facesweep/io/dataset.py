"""In-memory dataset types shared by every data source.

Images are ``uint8 (N, H, W, C)`` (RGB or grayscale, never BGR) and labels ``int32 (N,)`` until the model:
the network casts and scales in ``__call__`` so training, evaluation and the camera share one path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facesweep.tasks import Task


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # uint8 (N, H, W, C)
    labels: np.ndarray  # int32 (N,), indices into Dataset.classes
    paths: tuple[str, ...] | None = None  # per image, relative to the data folder (posix); None: not from files

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def class_counts(self, num_classes: int) -> np.ndarray:
        return np.bincount(self.labels, minlength=num_classes)


@dataclass(frozen=True)
class Dataset:
    task: Task  # size, channels and canonical classes the images were prepared for
    classes: tuple[str, ...]  # label i means classes[i]
    splits: dict[str, Split]  # "train", "val" and optionally "test"
    source: str  # human description: "synthetic (seed 0)", "folders ../data/fer2013", "csv fer2013.csv"
    skipped: tuple[str, ...] = ()  # paths (or CSV rows) that could not be decoded
    info: dict = field(default_factory=dict)  # source-specific facts for `facesweep data` (sizes, split made)

    @property
    def train(self) -> Split:
        return self.splits["train"]

    @property
    def val(self) -> Split:
        return self.splits["val"]
