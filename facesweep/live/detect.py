"""Face detectors for ``facesweep live`` and the face crop that feeds the models.

Both detectors work on a reduced copy of the frame (``detect_width`` pixels wide, never below what ``min_face``
needs) and return boxes ``(x, y, w, h)`` in full-frame pixels:

    detector = make_detector("haar", min_face=64)          # the cascade bundled with opencv-python 4.x
    detector = make_detector("yunet", "face_detection_yunet_2023mar.onnx")
    boxes = detector.detect(frame_bgr)
    crop = crop_face(frame_bgr, boxes[0], margin=0.15)     # -> to_model_input(crop, size, channels)

The full-size Haar pass on an 800x533 photo took 124 ms here; on a 240-pixel-wide copy of a 640x480 frame it
needs about 11 ms of CPU (min_face 64 keeps faces above the cascade's 24-pixel window),
and the tracker lets the loop run it only every few frames.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from facesweep.errors import CheckpointError, UsageError

Box = tuple[int, int, int, int]  # x, y, width, height in full-frame pixels
DETECTORS = ("haar", "yunet")
HAAR_WINDOW = 24  # the frontal-face cascade's base window: the smallest face it can see, in detection pixels
YUNET_HINT = "face_detection_yunet_2023mar.onnx from github.com/opencv/opencv_zoo (models/face_detection_yunet)"


class Detector(Protocol):
    name: str

    def detect(self, frame: np.ndarray) -> list[Box]: ...


def detection_scale(frame_width: int, detect_width: int, min_face: int, smallest_seen: int) -> float:
    """Shrink factor for detection: down to ``detect_width`` wide, but keep ``min_face`` >= the detector's minimum."""
    scale = min(1.0, detect_width / max(1, frame_width))
    return min(1.0, max(scale, smallest_seen / max(1, min_face)))


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
        self.min_face = min_face
        self.detect_width = detect_width
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors

    def detect(self, frame: np.ndarray) -> list[Box]:
        scale = detection_scale(frame.shape[1], self.detect_width, self.min_face, HAAR_WINDOW)
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)  # the cascade is sensitive to exposure; this is ~0.1 ms at 320 px
        side = max(HAAR_WINDOW, int(round(self.min_face * scale)))
        found = self.cascade.detectMultiScale(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(side, side)
        )
        return [_scale_box(box, 1.0 / scale) for box in (found if len(found) else [])]


class YuNetDetector:
    """OpenCV's YuNet CNN detector (``cv2.FaceDetectorYN``) from a user-supplied ONNX file."""

    name = "yunet"

    def __init__(
        self,
        model_path: str | Path,
        *,
        min_face: int = 64,  # smallest face to report, full-frame pixels
        detect_width: int = 240,  # frames are shrunk to this width before detection
        score_threshold: float = 0.7,  # YuNet face score below which a box is dropped
        nms_threshold: float = 0.3,  # IoU above which overlapping boxes are merged
    ) -> None:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise CheckpointError(f"YuNet model not found: {path} (download {YUNET_HINT})")
        try:
            self.net = cv2.FaceDetectorYN.create(str(path), "", (320, 240), score_threshold, nms_threshold, 5000)
            self.net.detect(np.zeros((240, 320, 3), np.uint8))  # a bad graph often loads and fails on first use
        except cv2.error:
            raise CheckpointError(
                f"cannot load YuNet model {path}: not a YuNet ONNX file (OpenCV cannot parse or run it); "
                f"download {YUNET_HINT}"
            ) from None
        self.min_face = min_face
        self.detect_width = detect_width
        self._input_size: tuple[int, int] = (320, 240)

    def detect(self, frame: np.ndarray) -> list[Box]:
        scale = detection_scale(frame.shape[1], self.detect_width, self.min_face, 10)
        image = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if scale < 1.0:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        size = (image.shape[1], image.shape[0])
        if size != self._input_size:
            self.net.setInputSize(size)
            self._input_size = size
        _, faces = self.net.detect(image)
        if faces is None:
            return []
        boxes = [_scale_box(face[:4], 1.0 / scale) for face in faces]
        return [b for b in boxes if max(b[2], b[3]) >= self.min_face]


def make_detector(
    name: str = "haar", model_path: str | Path | None = None, *, min_face: int = 64, detect_width: int = 240
) -> HaarDetector | YuNetDetector:
    """``--detector``/``--detector-model``: a model file implies YuNet; YuNet without one is a usage error."""
    if model_path is not None and name == "haar":
        name = "yunet"
    if name not in DETECTORS:
        raise UsageError(f"unknown detector {name!r}; choose one of: {', '.join(DETECTORS)}")
    if min_face < 8:
        raise UsageError(f"--min-face must be >= 8 pixels, got {min_face}")
    if name == "yunet":
        if model_path is None:
            raise UsageError(f"--detector yunet needs --detector-model FILE ({YUNET_HINT})")
        return YuNetDetector(model_path, min_face=min_face, detect_width=detect_width)
    return HaarDetector(min_face=min_face, detect_width=detect_width)


def _scale_box(box: np.ndarray | tuple, factor: float) -> Box:
    x, y, w, h = (float(v) for v in box[:4])
    return (int(round(x * factor)), int(round(y * factor)), int(round(w * factor)), int(round(h * factor)))


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
