"""The one place where decoded pixels become model input: BGR -> RGB/gray and resize.

It lives at the bottom of the package (the face layer's crops need it, and ``faces`` sits under ``io``);
``facesweep.io.preprocess.to_model_input`` is the same function, the name every loader and the live view use.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_model_input(image: np.ndarray, image_size: int, channels: int) -> np.ndarray:
    """Convert one OpenCV image (gray ``(H, W)``, BGR ``(H, W, 3)`` or BGRA) to ``uint8 (S, S, C)``."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
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
