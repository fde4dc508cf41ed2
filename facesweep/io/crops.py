"""``load_dataset(..., detect=CropSpec())``: image folders through the face crop path (``facesweep.faces.crop``).

Two passes, each cached on its own (``facesweep.io.cache``):

1. ``detect_files``: decode every file and find its largest face (small images upscaled first), one detector
   per thread; keeps box, landmarks and status ("face" / "whole" / "none") per file. Keyed by the files and
   the detector's settings, so a new template never re-runs the detector.
2. ``crop_preparer``: decode again and align each face on the template (no detection), via ``load_folder``'s
   ``prepare`` hook; keyed by the files, the detector's settings, the template, size and channels.

The template is ``spec.template`` or, when that is None, measured on the training split's faces
(``choose_template``). Images with status "none" stay in the raw data (as blank images) until the split is made,
so the seeded train/val split is the same with and without ``--detect``; ``drop_faceless`` removes them after.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace

import numpy as np

from facesweep.faces.align import DEFAULT_TEMPLATE, Template
from facesweep.faces.crop import STATUSES, CropSpec, crop_detection, largest
from facesweep.faces.detect import Detection
from facesweep.faces.pixels import to_model_input
from facesweep.faces.template import MIN_FACES, template_from_fractions
from facesweep.io.dataset import Dataset, Split
from facesweep.io.folders import read_image

CHUNK = 64  # files per pool task (detection is ~50x slower than decoding)
CROP_LIKE = 0.25  # a face whose box is at least this fraction of the image's width counts as a face crop
FACE, WHOLE, NONE = (STATUSES.index(s) for s in ("face", "whole", "none"))


@dataclass
class FileFaces:
    """Per file: the largest face found, in the file's own pixels."""

    boxes: np.ndarray  # float32 (N, 4) x, y, w, h (zeros when no face)
    landmarks: np.ndarray  # float32 (N, 5, 2) (NaN when none: Haar, or no face)
    status: np.ndarray  # int8 (N,) index into STATUSES; -1 = unreadable
    shapes: np.ndarray  # int32 (N, 2) height, width as decoded

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"boxes": self.boxes, "landmarks": self.landmarks, "status": self.status, "shapes": self.shapes}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> FileFaces:
        return cls(arrays["boxes"], arrays["landmarks"], arrays["status"], arrays["shapes"])

    def detection(self, i: int) -> Detection:
        marks = self.landmarks[i]
        return Detection(tuple(map(float, self.boxes[i])), 1.0, None if np.isnan(marks).any() else marks)  # type: ignore[arg-type]


def detect_files(paths: list[str], spec: CropSpec, advance: Callable[[int], None] | None = None) -> FileFaces:
    """Find the largest face in each file, in parallel threads with one detector each."""
    n = len(paths)
    faces = FileFaces(
        np.zeros((n, 4), np.float32),
        np.full((n, 5, 2), np.nan, np.float32),
        np.full(n, -1, np.int8),
        np.zeros((n, 2), np.int32),
    )
    local = threading.local()

    def work(lo: int, hi: int) -> int:
        if not hasattr(local, "cropper"):
            local.cropper = spec.cropper(48, 1)  # detection only: size and channels unused
        for i in range(lo, hi):
            read = read_image(paths[i])
            if read is None:
                continue
            image = read[0]
            faces.shapes[i] = image.shape[:2]
            face = largest(local.cropper.detect(image))
            if face is not None:
                faces.status[i] = FACE
                faces.boxes[i] = face.box
                if face.landmarks is not None:
                    faces.landmarks[i] = face.landmarks
            else:
                faces.status[i] = WHOLE if max(image.shape[:2]) <= spec.small else NONE
        return hi - lo

    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="faces") as pool:
        futures = [pool.submit(work, lo, min(lo + CHUNK, n)) for lo in range(0, n, CHUNK)]
        for future in as_completed(futures):
            done = future.result()
            if advance is not None:
                advance(done)
    return faces


def choose_template(faces: FileFaces, train: np.ndarray, source: str, detector: str) -> Template:
    """The median landmark fractions over the training files whose face fills at least ``CROP_LIKE`` of the image
    width (the images are face crops, so the model learns faces framed like that); ``DEFAULT_TEMPLATE`` when
    fewer than half of the training faces (or fewer than ``MIN_FACES``) are like that: the images are photos, and
    a face's place in a photo says nothing about a crop."""
    index = train[faces.status[train] == FACE]
    marks = faces.landmarks[index]
    has_marks = ~np.isnan(marks).any(axis=(1, 2))
    index, marks = index[has_marks], marks[has_marks]
    hw = faces.shapes[index].astype(np.float64)
    crop_like = faces.boxes[index, 2] >= CROP_LIKE * hw[:, 1]
    if crop_like.sum() < max(MIN_FACES, 0.5 * len(index)):
        return DEFAULT_TEMPLATE
    fractions = (marks[crop_like].astype(np.float64) + 0.5) / hw[crop_like][:, None, ::-1]
    return template_from_fractions(fractions, source, detector)


def crop_preparer(
    faces: FileFaces, template: Template, size: int, channels: int, detector: str
) -> Callable[[int, np.ndarray], np.ndarray]:
    """``prepare(i, image)`` for ``load_folder``: file i's face aligned on ``template``; the whole image for
    "whole"; a blank image for "none" (dropped after the split by ``drop_faceless``)."""

    def prepare(i: int, image: np.ndarray) -> np.ndarray:
        status = int(faces.status[i])
        if status == FACE:
            return crop_detection(image, faces.detection(i), template, size, channels, detector)
        if status == WHOLE:
            return to_model_input(image, size, channels)
        return np.zeros((size, size, channels), np.uint8)

    return prepare


def drop_faceless(dataset: Dataset, none_paths: set[str]) -> Dataset:
    """Remove the images with no face from every split (after the split, so it is the same as without detection)."""
    if not none_paths:
        return dataset
    splits = {}
    for name, split in dataset.splits.items():
        keep = np.array([p not in none_paths for p in split.paths or ()], bool)
        if split.paths is None or keep.all():
            splits[name] = split
            continue
        kept_paths = tuple(p for p, k in zip(split.paths, keep, strict=True) if k)
        splits[name] = Split(np.ascontiguousarray(split.images[keep]), split.labels[keep], kept_paths)
    return replace(dataset, splits=splits)
