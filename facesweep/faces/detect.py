"""Face detectors: the bundled YuNet CNN (default) and OpenCV's Haar cascade (fallback, no landmarks).

Both work on a reduced copy of the frame (``detect_width`` pixels wide, never below what ``min_face`` needs)
and return :class:`Detection` objects in full-frame pixels, largest face first:

    detector = make_detector()                              # YuNet from facesweep/faces/yunet/, no download
    detector = make_detector("haar", min_face=64)           # the cascade bundled with opencv-python 4.x
    detector = make_detector(model_path="other_yunet.onnx") # another YuNet ONNX file
    detections = detector.detect(frame_bgr)                 # [Detection(box, score, landmarks), ...]
    boxes = boxes_of(detections)                            # int (x, y, w, h) for the tracker

YuNet gives 5 landmarks per face (right eye, left eye, nose tip, right and left mouth corners; "right" is the
subject's right, i.e. the image's left), which ``facesweep.faces.align`` uses to align the crop. A
``cv2.FaceDetectorYN`` is not safe to share between threads: make one detector per thread (OpenCV releases the
GIL, so threads do run in parallel).

Cost here (2-core AMD EPYC): YuNet ~5 ms on a 320x240 copy of a 640x480 frame; Haar ~11 ms on a 240-pixel-wide
copy (min_face 64 keeps faces above the cascade's 24-pixel window).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from facesweep.errors import CheckpointError, UsageError

Box = tuple[int, int, int, int]  # x, y, width, height in full-frame pixels
FloatBox = tuple[float, float, float, float]  # the same, unrounded
DETECTORS = ("yunet", "haar")
HAAR_WINDOW = 24  # the frontal-face cascade's base window: the smallest face it can see, in detection pixels
YUNET_SMALLEST = 10  # YuNet's stride-8 head still finds faces of about 10 detection pixels
YUNET_MODEL = Path(__file__).parent / "yunet" / "face_detection_yunet_2023mar.onnx"
YUNET_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
LANDMARK_NAMES = ("right_eye", "left_eye", "nose_tip", "right_mouth", "left_mouth")  # subject's right = image left


@dataclass(frozen=True, eq=False)
class Detection:
    """One face: box ``(x, y, w, h)`` and landmarks ``float32 (5, 2)`` (None for Haar) in full-frame pixels."""

    box: FloatBox
    score: float  # detector confidence (YuNet 0..1; Haar has none and reports 1.0)
    landmarks: np.ndarray | None = None  # rows in LANDMARK_NAMES order, columns x, y

    @property
    def int_box(self) -> Box:
        return tuple(int(round(v)) for v in self.box)  # type: ignore[return-value]

    @property
    def area(self) -> float:
        return float(self.box[2] * self.box[3])

    def moved_to(self, box: tuple[float, float, float, float]) -> Detection:
        """This face carried to ``box`` (e.g. a tracker's prediction between detections): the landmarks keep their
        place relative to the box, so the crop stays aligned while the face moves."""
        x, y, w, h = (float(v) for v in box)
        if self.landmarks is None:
            return Detection((x, y, w, h), self.score, None)
        x0, y0, w0, h0 = self.box
        scale = np.array([w / max(w0, 1e-6), h / max(h0, 1e-6)], np.float32)
        marks = (self.landmarks - np.array([x0, y0], np.float32)) * scale + np.array([x, y], np.float32)
        return Detection((x, y, w, h), self.score, marks.astype(np.float32))

    def scaled(self, factor: float) -> Detection:
        """The same detection with coordinates multiplied by ``factor`` (detection copy -> original image)."""
        box = tuple(float(v) * factor for v in self.box)
        marks = None if self.landmarks is None else (self.landmarks * factor).astype(np.float32)
        return Detection(box, self.score, marks)  # type: ignore[arg-type]


class Detector(Protocol):
    name: str

    def detect(self, frame: np.ndarray) -> list[Detection]: ...

    def settings(self) -> dict: ...


def boxes_of(detections: list[Detection]) -> list[Box]:
    """Integer boxes for the tracker."""
    return [d.int_box for d in detections]


def detection_scale(frame_width: int, detect_width: int, min_face: int, smallest_seen: int) -> float:
    """Shrink factor for detection: down to ``detect_width`` wide, but keep ``min_face`` >= the detector's minimum."""
    scale = min(1.0, detect_width / max(1, frame_width))
    return min(1.0, max(scale, smallest_seen / max(1, min_face)))


@cache
def file_sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class HaarDetector:
    """OpenCV's Viola-Jones frontal-face cascade (``haarcascade_frontalface_default.xml``)."""

    name = "haar"

    def __init__(
        self,
        *,
        min_face: int = 64,  # smallest face to report, full-frame pixels
        detect_width: int = 240,  # frames are shrunk to this width before detection
        scale_factor: float = 1.15,  # image-pyramid step; larger is faster and coarser
        min_neighbors: int = 5,  # overlapping hits needed; higher = fewer false faces
        cascade_path: str | Path | None = None,
    ) -> None:
        path = Path(cascade_path or Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml")
        self.cascade = cv2.CascadeClassifier(str(path))
        if self.cascade.empty():
            raise CheckpointError(f"cannot load the Haar cascade {path} (opencv-python 4.x bundles it)")
        self.cascade_path = path
        self.min_face = min_face
        self.detect_width = detect_width
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors

    def settings(self) -> dict:
        """What decides this detector's output (for cache keys and model configs)."""
        return {
            "name": self.name,
            "cascade": self.cascade_path.name,
            "min_face": self.min_face,
            "detect_width": self.detect_width,
            "scale_factor": self.scale_factor,
            "min_neighbors": self.min_neighbors,
        }

    def detect(self, frame: np.ndarray) -> list[Detection]:
        scale = detection_scale(frame.shape[1], self.detect_width, self.min_face, HAAR_WINDOW)
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)  # the cascade is sensitive to exposure; this is ~0.1 ms at 320 px
        side = max(HAAR_WINDOW, int(round(self.min_face * scale)))
        found = self.cascade.detectMultiScale(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(side, side)
        )
        faces = [Detection(tuple(float(v) for v in box), 1.0).scaled(1.0 / scale) for box in found]  # type: ignore[arg-type]
        return sorted(faces, key=lambda d: -d.area)


class YuNetDetector:
    """OpenCV's YuNet CNN detector (``cv2.FaceDetectorYN``); the bundled ONNX file unless ``model_path`` is given."""

    name = "yunet"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        min_face: int = 32,  # smallest face to report, full-frame pixels
        detect_width: int = 320,  # frames are shrunk to this width before detection
        score_threshold: float = 0.6,  # YuNet face score below which a face is dropped
        nms_threshold: float = 0.3,  # IoU above which overlapping boxes are merged
    ) -> None:
        path = Path(model_path).expanduser() if model_path is not None else YUNET_MODEL
        if not path.is_file():
            hint = "" if model_path is not None else " (the package install is incomplete)"
            raise CheckpointError(f"YuNet model not found: {path}{hint}")
        if not 0.0 < score_threshold < 1.0:
            raise UsageError(f"detector score threshold must be in (0, 1), got {score_threshold}")
        if not 0.0 < nms_threshold <= 1.0:
            raise UsageError(f"detector NMS threshold must be in (0, 1], got {nms_threshold}")
        try:
            self.net = cv2.FaceDetectorYN.create(str(path), "", (320, 240), score_threshold, nms_threshold, 5000)
            self.net.detect(np.zeros((240, 320, 3), np.uint8))  # a bad graph often loads and fails on first use
        except cv2.error:
            raise CheckpointError(
                f"cannot load YuNet model {path}: not a YuNet ONNX file (OpenCV cannot parse or run it)"
            ) from None
        self.model_path = path
        self.min_face = min_face
        self.detect_width = detect_width
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        self._input_size: tuple[int, int] = (320, 240)

    def settings(self) -> dict:
        """What decides this detector's output (for cache keys and model configs)."""
        return {
            "name": self.name,
            "model_sha256": file_sha256(str(self.model_path)),
            "min_face": self.min_face,
            "detect_width": self.detect_width,
            "score_threshold": self.score_threshold,
            "nms_threshold": self.nms_threshold,
        }

    def detect(self, frame: np.ndarray) -> list[Detection]:
        scale = detection_scale(frame.shape[1], self.detect_width, self.min_face, YUNET_SMALLEST)
        image = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        if scale < 1.0:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        size = (image.shape[1], image.shape[0])
        if size != self._input_size:
            self.net.setInputSize(size)
            self._input_size = size
        _, faces = self.net.detect(image)
        if faces is None:
            return []
        found = [
            Detection(tuple(float(v) for v in f[:4]), float(f[14]), f[4:14].reshape(5, 2).astype(np.float32))  # type: ignore[arg-type]
            for f in faces
        ]
        found = [d.scaled(1.0 / scale) if scale != 1.0 else d for d in found]
        return sorted((d for d in found if max(d.box[2], d.box[3]) >= self.min_face), key=lambda d: -d.area)


def make_detector(
    name: str = "yunet",
    model_path: str | Path | None = None,
    *,
    min_face: int | None = None,
    detect_width: int | None = None,
    score_threshold: float = 0.6,
    nms_threshold: float = 0.3,
) -> HaarDetector | YuNetDetector:
    """``--detector``/``--detector-model``: a model file implies YuNet; ``None`` sizes take each detector's default
    (YuNet: min face 32, detection width 320; Haar: 64 and 240)."""
    if model_path is not None and name == "haar":
        name = "yunet"
    if name not in DETECTORS:
        raise UsageError(f"unknown detector {name!r}; choose one of: {', '.join(DETECTORS)}")
    if min_face is not None and min_face < 8:
        raise UsageError(f"--min-face must be >= 8 pixels, got {min_face}")
    if detect_width is not None and detect_width < 32:
        raise UsageError(f"--detect-width must be >= 32 pixels, got {detect_width}")
    sizes = {k: v for k, v in (("min_face", min_face), ("detect_width", detect_width)) if v is not None}
    if name == "yunet":
        return YuNetDetector(model_path, score_threshold=score_threshold, nms_threshold=nms_threshold, **sizes)
    return HaarDetector(**sizes)


def crop_face(frame: np.ndarray, box: Box, margin: float = 0.15) -> np.ndarray:
    """A square crop around ``box`` grown by ``margin`` of its side on each edge; edges past the frame replicate."""
    x, y, w, h = box
    side = int(round(max(w, h) * (1.0 + 2.0 * margin)))
    cx, cy = x + w / 2.0, y + h / 2.0
    x0, y0 = int(round(cx - side / 2.0)), int(round(cy - side / 2.0))
    x1, y1 = x0 + side, y0 + side
    height, width = frame.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if cx1 <= cx0 or cy1 <= cy0:
        return np.zeros((max(1, side), max(1, side)) + frame.shape[2:], frame.dtype)
    crop = frame[cy0:cy1, cx0:cx1]
    pads = (cy0 - y0, y1 - cy1, cx0 - x0, x1 - cx1)
    if any(pads):
        crop = cv2.copyMakeBorder(crop, *pads, borderType=cv2.BORDER_REPLICATE)
    return crop
