"""Measure a model's crop template on its own training images.

    template = measure_template(images, make_detector(), source="fer2013/train")

Each image is what the model sees (a face crop, stretched to a square by ``to_model_input``): the detector runs
on it (small images upscaled as in the crop path), the largest face's 5 landmarks are expressed as fractions of
the image's width and height, and the template is their per-coordinate median over all images with a face
(robust to the few wrong detections), made mirror-symmetric. Images are uint8 ``(N, H, W, C)`` arrays or an
iterable of single images.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from facesweep.errors import DataError
from facesweep.faces.align import Template, symmetric
from facesweep.faces.crop import SMALL, UPSCALE_TO, FaceCropper, largest
from facesweep.faces.detect import Detector

MIN_FACES = 20  # fewer faces than this give a template too noisy to trust


def landmark_fractions(
    images: Iterable[np.ndarray], detector: Detector, *, small: int = SMALL, upscale_to: int = UPSCALE_TO
) -> np.ndarray:
    """``float64 (M, 5, 2)``: the largest face's landmarks in each image where one was found, as fractions."""
    finder = FaceCropper(detector, small=small, upscale_to=upscale_to)
    found = []
    for image in images:
        face = largest(finder.detect(image))
        if face is None or face.landmarks is None:
            continue
        height, width = image.shape[:2]
        found.append((face.landmarks.astype(np.float64) + 0.5) / np.array([width, height], np.float64))
    return np.asarray(found, np.float64).reshape(-1, 5, 2)


def measure_template(
    images: Iterable[np.ndarray],
    detector: Detector,
    *,
    source: str = "",
    small: int = SMALL,
    upscale_to: int = UPSCALE_TO,
) -> Template:
    """The median landmark positions of ``detector`` on ``images`` (it must give landmarks: YuNet)."""
    if getattr(detector, "name", "") == "haar":
        raise DataError("a crop template needs landmarks: measure it with the yunet detector, not haar")
    fractions = landmark_fractions(images, detector, small=small, upscale_to=upscale_to)
    if len(fractions) < MIN_FACES:
        raise DataError(
            f"found faces in only {len(fractions)} training images; a crop template needs at least {MIN_FACES}"
        )
    return template_from_fractions(fractions, source, getattr(detector, "name", "yunet"))


def template_from_fractions(fractions: np.ndarray, source: str, detector: str = "yunet") -> Template:
    """The per-coordinate median of ``(M, 5, 2)`` landmark fractions, made mirror-symmetric (models train with
    horizontal flips, so the faces they learn from are the symmetric mix), rounded to 4 decimals."""
    median = symmetric(np.median(np.asarray(fractions, np.float64).reshape(-1, 5, 2), axis=0))
    points = tuple((round(float(x), 4), round(float(y), 4)) for x, y in median)
    return Template(points, n=len(fractions), source=source, detector=detector)
