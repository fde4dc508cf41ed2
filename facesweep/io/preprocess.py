"""The one place where decoded pixels become model input: BGR -> RGB/gray and resize.

Used by every file loader and by the live view's face crops, so training and camera share one path.
"""

from __future__ import annotations

import cv2
import numpy as np

PREPROCESS_VERSION = 1  # part of every cache key: bump when this conversion changes


def to_model_input(image: np.ndarray, image_size: int, channels: int) -> np.ndarray:
    """Convert one OpenCV image (gray ``(H, W)``, BGR ``(H, W, 3)`` or BGRA) to ``uint8 (S, S, C)``."""
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if channels == 1:
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    else:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.shape[0] != image_size or image.shape[1] != image_size:
        shrink = image.shape[0] > image_size or image.shape[1] > image_size
        image = cv2.resize(
            image, (image_size, image_size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        )
    if image.ndim == 2:
        image = image[:, :, None]
    return np.ascontiguousarray(image, dtype=np.uint8)
