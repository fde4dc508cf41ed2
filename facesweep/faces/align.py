"""Landmark alignment: warp a face so its 5 landmarks land on a model's template, eyes level.

    M = similarity_transform(landmarks, template.points_px(48))   # 2x3: rotation + uniform scale + shift
    crop = align_face(frame_bgr, detection.landmarks, template, 48)  # uint8 (48, 48, C) of the input's channels
    crop = box_crop(frame_bgr, haar_box, template, 48)               # no landmarks: the box's best square crop

A :class:`Template` holds where the 5 landmarks (right eye, left eye, nose tip, right and left mouth corners;
"right" = the subject's right = the image's left) sit in a model's training crops, as fractions of the crop side.
It is measured on the model's own training images (``facesweep.faces.template.measure_template``) and stored in
the model's ``config.json``, so live and ``--detect`` crops look like the crops the model learned from.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facesweep.errors import ConfigError

LANDMARKS = 5


@dataclass(frozen=True)
class Template:
    """The 5 canonical landmark positions ``(x, y)`` as fractions of the output crop's side, and their origin."""

    points: tuple[tuple[float, float], ...]  # LANDMARK_NAMES order; (0, 0) top-left, (1, 1) bottom-right
    n: int = 0  # images it was measured on (0 = set by hand)
    source: str = ""  # what it was measured on, e.g. "fer2013/train"
    detector: str = "yunet"  # the detector whose landmarks were measured

    def __post_init__(self) -> None:
        pts = np.asarray(self.points, dtype=np.float64)
        if pts.shape != (LANDMARKS, 2) or not np.all(np.isfinite(pts)):
            raise ConfigError(f"a crop template needs 5 finite (x, y) points, got {self.points!r}")
        if pts[1, 0] <= pts[0, 0]:
            raise ConfigError(
                f"crop template: the left eye must lie right of the right eye in the image, got {self.points!r}"
            )

    def array(self) -> np.ndarray:
        """``float64 (5, 2)`` fractions of the crop side."""
        return np.asarray(self.points, dtype=np.float64)

    def points_px(self, size: int) -> np.ndarray:
        """The template's landmark positions in a ``size``-pixel crop (pixel centres at integer coordinates)."""
        return self.array() * size - 0.5

    def to_dict(self) -> dict:
        return {
            "points": [[round(float(x), 4), round(float(y), 4)] for x, y in self.points],
            "n": self.n,
            "source": self.source,
            "detector": self.detector,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Template:
        if not isinstance(data, dict) or "points" not in data:
            raise ConfigError(f"a crop template is a dict with 'points', got {data!r}")
        try:
            points = tuple((float(x), float(y)) for x, y in data["points"])
        except (TypeError, ValueError):
            raise ConfigError(f"crop template points must be 5 [x, y] pairs, got {data['points']!r}") from None
        return cls(points, int(data.get("n", 0)), str(data.get("source", "")), str(data.get("detector", "yunet")))


# Measured on FER-2013 train (bench/facetemplate.py template): all 28,709 48x48 images, each upscaled 3x to
# 144x144 (INTER_CUBIC) for the bundled YuNet (score 0.6); it found a face in 26,798 (93.3%). Per landmark the
# median of x and y over those faces, as fractions of the side (interquartile ranges 0.07-0.10), then made
# mirror-symmetric (``symmetric``): the raw medians were right eye (0.2800, 0.3885), left eye (0.6908, 0.3843),
# nose (0.4706, 0.5937), mouth corners (0.3318, 0.7729) and (0.6633, 0.7688); models train with horizontal flips,
# so the faces they learn from are the mirror-symmetric mix of those.
DEFAULT_TEMPLATE = Template(
    points=((0.2946, 0.3864), (0.7054, 0.3864), (0.5, 0.5937), (0.3342, 0.7708), (0.6658, 0.7708)),
    n=26798,
    source="fer2013/train (48x48, upscaled 3x)",
    detector="yunet",
)

# Where YuNet's 5 landmarks sit inside each detector's box, as fractions of the box (x from its left edge over
# its width, y from its top over its height), made mirror-symmetric: medians over the largest face of 375 images
# each of gender/ and fer2013/train/ (training sets only; upscaled as in the crop path), for Haar only where its
# box overlaps YuNet's (IoU >= 0.4): 722 YuNet and 245 Haar faces (bench/facetemplate.py boxes). A Haar box is
# square and its mouth sits lower in it than in YuNet's taller box. A box crop uses these to place the landmarks,
# then fits the template without rotation.
BOX_LANDMARKS = {
    "yunet": ((0.261, 0.3675), (0.739, 0.3675), (0.5, 0.577), (0.302, 0.7355), (0.698, 0.7355)),
    "haar": ((0.2555, 0.3845), (0.7445, 0.3845), (0.5, 0.644), (0.2955, 0.8565), (0.7045, 0.8565)),
}


def symmetric(points: np.ndarray) -> np.ndarray:
    """Average ``(5, 2)`` landmark fractions with their mirror image (x -> 1 - x, right and left swapped)."""
    points = np.asarray(points, np.float64)
    mirrored = points[[1, 0, 2, 4, 3]] * [-1.0, 1.0] + [1.0, 0.0]
    return (points + mirrored) / 2.0


def similarity_transform(src: np.ndarray, dst: np.ndarray, *, rotation: bool = True) -> np.ndarray:
    """The least-squares similarity ``2x3`` mapping ``src (N, 2)`` onto ``dst (N, 2)`` (Umeyama 1991, no reflection).

    ``rotation=False`` fits uniform scale and shift only (an axis-aligned square crop). Closed form, deterministic.
    """
    src = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if src.shape != dst.shape or len(src) < 2:
        raise ValueError(f"similarity_transform needs two (N>=2, 2) arrays of one shape, got {src.shape}, {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    sc, dc = src - mu_s, dst - mu_d
    var_s = float((sc**2).sum()) / len(src)
    if var_s <= 1e-12:
        raise ValueError("similarity_transform: the source points coincide")
    if rotation:
        cov = dc.T @ sc / len(src)
        u, s, vt = np.linalg.svd(cov)
        d = np.ones(2)
        if np.linalg.det(u) * np.linalg.det(vt) < 0:
            d[1] = -1.0
        r = u @ np.diag(d) @ vt
        scale = float((s * d).sum()) / var_s
    else:
        r = np.eye(2)
        scale = float((dc * sc).sum()) / len(src) / var_s
    t = mu_d - scale * r @ mu_s
    return np.hstack([scale * r, t[:, None]])


def warp_to(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """``cv2.warpAffine`` into a ``size`` square with replicated borders; a large shrink first goes through
    ``INTER_AREA`` on the face's region, so the crop is not aliased (a 200-px face into 48 px)."""
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 0.5:
        # the output square's footprint in the input, a pixel wider, clipped to the image (replicating the clipped
        # region's edge then equals replicating the image's edge)
        inv = cv2.invertAffineTransform(matrix)
        corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], np.float64) @ inv.T
        height, width = image.shape[:2]
        x0 = int(np.clip(np.floor(corners[:, 0].min()) - 1, 0, width - 1))
        y0 = int(np.clip(np.floor(corners[:, 1].min()) - 1, 0, height - 1))
        x1 = int(np.clip(np.ceil(corners[:, 0].max()) + 2, x0 + 1, width))
        y1 = int(np.clip(np.ceil(corners[:, 1].max()) + 2, y0 + 1, height))
        factor = min(1.0, scale * 1.5)  # leave the warp a little shrinking to do: it is sharper than area x1.0
        region = image[y0:y1, x0:x1]
        rw, rh = max(1, int(round((x1 - x0) * factor))), max(1, int(round((y1 - y0) * factor)))
        region = cv2.resize(region, (rw, rh), interpolation=cv2.INTER_AREA)
        fx, fy = rw / (x1 - x0), rh / (y1 - y0)
        # input pixel p maps to region pixel ((p - origin + 0.5) * f - 0.5); fold that into the matrix
        to_region = np.array([[fx, 0, (0.5 - x0) * fx - 0.5], [0, fy, (0.5 - y0) * fy - 0.5], [0, 0, 1]])
        matrix = (np.vstack([matrix, [0, 0, 1]]) @ np.linalg.inv(to_region))[:2]
        image = region
    out = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out if out.ndim == image.ndim else out[:, :, None]


def align_face(image: np.ndarray, landmarks: np.ndarray, template: Template, size: int) -> np.ndarray:
    """Warp ``image`` so ``landmarks (5, 2)`` (image pixels) land on ``template``: ``uint8 (size, size[, C])``
    with the input's channels (convert for the model with ``facesweep.io.preprocess.to_model_input``)."""
    matrix = similarity_transform(landmarks, template.points_px(size))
    return warp_to(image, matrix, size)


def box_landmarks(box: tuple[float, float, float, float], detector: str = "haar") -> np.ndarray:
    """Where a face's 5 landmarks typically sit inside ``box`` from ``detector`` (measured: ``BOX_LANDMARKS``)."""
    x, y, w, h = (float(v) for v in box)
    rel = np.asarray(BOX_LANDMARKS.get(detector, BOX_LANDMARKS["haar"]), np.float64)
    return np.column_stack([x + rel[:, 0] * w, y + rel[:, 1] * h])


def box_crop(
    image: np.ndarray, box: tuple[float, float, float, float], template: Template, size: int, detector: str = "haar"
) -> np.ndarray:
    """The axis-aligned square crop of ``box`` closest to ``template`` (for detectors without landmarks)."""
    matrix = similarity_transform(box_landmarks(box, detector), template.points_px(size), rotation=False)
    return warp_to(image, matrix, size)
