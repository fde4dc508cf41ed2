"""The one crop path: detect, keep the face, align it to the model's template, convert it for the model.

Training (``load_dataset(..., detect=...)``), ``facesweep evaluate --detect`` and the live view all call it:

    cropper = FaceCropper(make_detector(), template, size=48, channels=1)
    image, status = cropper.crop_largest(photo_bgr)        # dataset images: the largest face
    crops = cropper.crop_detections(frame_bgr, detections)  # live: one crop per detected face, this model's geometry

``status`` is ``"face"`` (aligned from a detection), ``"whole"`` (no face found on a crop-sized image such as a
48x48 CK+ crop: the whole image is the face; counted apart) or ``"none"`` (no face on a photo: the image is
dropped and reported; ``image`` is None). With YuNet the crop is a similarity warp of the 5 landmarks onto the
template; with Haar (no landmarks) it is the box's axis-aligned square crop closest to the template.

Small images are upscaled before detection (YuNet misses most faces under ~50 px): FER-2013 48x48, YuNet finds a
face in 73.5% at native size and 94% at 3x; a replicated border made it worse (85.5%). ``SMALL`` below says where
"small" ends, measured in bench/facetemplate.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np

from facesweep.faces.align import DEFAULT_TEMPLATE, Template, align_face, box_crop
from facesweep.faces.detect import Detection, Detector, make_detector
from facesweep.faces.pixels import to_model_input

Status = Literal["face", "whole", "none"]
STATUSES: tuple[Status, ...] = ("face", "whole", "none")

# Images whose longer side is at most SMALL pixels are face crops already (FER-2013 and CK+ 48x48, gender-extra
# <= 96): they are upscaled to UPSCALE_TO on their shorter side before detection, and when no face is found the
# whole image is the face ("whole"). Larger images are photos: no face means "none".
SMALL = 128
UPSCALE_TO = 144  # 48 -> 144 (3x), 96 -> 144 (1.5x)


def upscale_factor(shape: Sequence[int], small: int = SMALL, upscale_to: int = UPSCALE_TO) -> float:
    """How much to enlarge an image of ``shape`` before detection (1.0 = not small, or large enough)."""
    height, width = int(shape[0]), int(shape[1])
    if max(height, width) > small:
        return 1.0
    return max(1.0, upscale_to / max(1, min(height, width)))


def largest(detections: Sequence[Detection]) -> Detection | None:
    return max(detections, key=lambda d: d.area, default=None)


def crop_detection(
    image: np.ndarray, detection: Detection, template: Template, size: int, channels: int, detector: str = "yunet"
) -> np.ndarray:
    """One detected face as model input ``uint8 (size, size, channels)``: a similarity warp of its landmarks onto
    ``template``, or for a detection without landmarks the box crop closest to it (``detector`` names the box)."""
    if detection.landmarks is not None:
        face = align_face(image, detection.landmarks, template, size)
    else:
        face = box_crop(image, detection.box, template, size, detector)
    return to_model_input(face, size, channels)


@dataclass(frozen=True)
class CropSpec:
    """Everything that decides a crop except the image: the detector's settings, the template and the geometry.

    Plain data, so a loader can make one :class:`FaceCropper` per thread (``spec.cropper()``) and hash it into a
    cache key (``spec.key()``). ``template=None`` means "measure it on the training images" to a loader, and
    ``DEFAULT_TEMPLATE`` to ``cropper()``.
    """

    detector: str = "yunet"  # "yunet" | "haar"
    detector_model: str | None = None  # another YuNet ONNX file; None = the bundled one
    score_threshold: float = 0.6  # YuNet score below which a face is dropped
    nms_threshold: float = 0.3  # YuNet NMS IoU
    min_face: int = 16  # smallest face, pixels of the (upscaled) image
    detect_width: int = 320  # larger images are shrunk to this width for detection
    small: int = SMALL  # longer side at or below which an image is a face crop (upscale; whole-image fallback)
    upscale_to: int = UPSCALE_TO  # small images are enlarged to this shorter side before detection
    template: Template | None = field(default=None)

    def make_detector(self) -> Detector:
        return make_detector(
            self.detector,
            self.detector_model,
            min_face=self.min_face,
            detect_width=self.detect_width,
            score_threshold=self.score_threshold,
            nms_threshold=self.nms_threshold,
        )

    def cropper(self, size: int, channels: int, template: Template | None = None) -> FaceCropper:
        return FaceCropper(
            self.make_detector(),
            template or self.template or DEFAULT_TEMPLATE,
            size,
            channels,
            small=self.small,
            upscale_to=self.upscale_to,
        )

    def key(self, template: Template | None = None) -> dict:
        """The cache-key part: detector settings (with the model file's sha256), sizes and the template."""
        tpl = template or self.template
        return {
            "detector": self.make_detector().settings(),
            "small": self.small,
            "upscale_to": self.upscale_to,
            "template": None if tpl is None else tpl.to_dict(),
        }


class FaceCropper:
    """Detect (upscaling small images), keep a face, align it and convert it to ``uint8 (size, size, channels)``.

    Holds one detector: use one cropper per thread.
    """

    def __init__(
        self,
        detector: Detector,
        template: Template = DEFAULT_TEMPLATE,
        size: int = 48,
        channels: int = 1,
        *,
        small: int = SMALL,
        upscale_to: int = UPSCALE_TO,
    ) -> None:
        self.detector = detector
        self.template = template
        self.size = int(size)
        self.channels = int(channels)
        self.small = small
        self.upscale_to = upscale_to

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` (small images upscaled first), coordinates in ``image``'s pixels, largest first."""
        factor = upscale_factor(image.shape, self.small, self.upscale_to)
        if factor == 1.0:
            return self.detector.detect(image)
        big = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        # upscaled pixel q is original ((q + 0.5) / f - 0.5): shift by half a pixel on each side of the scaling
        found = []
        for d in self.detector.detect(big):
            s = d.scaled(1.0 / factor)
            shift = 0.5 / factor - 0.5
            box = (s.box[0] + shift, s.box[1] + shift, s.box[2], s.box[3])
            marks = None if s.landmarks is None else (s.landmarks + shift).astype(np.float32)
            found.append(Detection(box, s.score, marks))
        return found

    def crop(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        """One face as model input: aligned on its landmarks, or the template's box crop when it has none."""
        return crop_detection(image, detection, self.template, self.size, self.channels, self.detector.name)

    def crop_largest(self, image: np.ndarray) -> tuple[np.ndarray | None, Status]:
        """The largest face of a dataset image: ``(model input, "face")``, ``(whole image, "whole")`` for a
        face-crop-sized image with no face found, or ``(None, "none")`` for a photo with no face."""
        face = largest(self.detect(image))
        if face is not None:
            return self.crop(image, face), "face"
        if max(image.shape[:2]) <= self.small:
            return to_model_input(image, self.size, self.channels), "whole"
        return None, "none"

    def crop_detections(self, frame: np.ndarray, detections: Sequence[Detection]) -> list[np.ndarray]:
        """Live: one model input per detection (detected on ``frame`` itself, full-frame coordinates)."""
        return [self.crop(frame, d) for d in detections]
