"""The embedded synthetic face set: procedurally drawn cartoon faces, used whenever no data is given.

A STAND-IN, NOT DATA ABOUT PEOPLE. These drawings exist so that every command runs end to end without a
download. Their expression classes are defined by the drawing rules below, and the two-valued "gender"
attribute is an arbitrary drawing convention (hair length, jaw shape, brow weight, stubble shading, each
only *more likely* under one value); nothing learned from them says anything about real faces.

Each image is drawn with OpenCV primitives at ``WORK`` pixels a side, then passed through the same
``to_model_input`` as real files. The seven expression classes (FER-2013 order) come only from facial
geometry, scaled by an intensity drawn continuously from ``[MIN_INTENSITY, 1]``:

- angry: brows lowered and pulled in (inner ends down), narrowed eyes, tight, pressed mouth
- disgust: one side of the upper lip raised, nose wrinkles, narrowed eyes, lowered brows
- fear: raised brows with inner ends up, wide eyes, slightly open, stretched mouth
- happy: upturned mouth corners, a wider mouth with teeth, smile lines, slightly narrowed eyes
- sad: downturned mouth, inner brow ends raised, slightly lowered lids
- surprise: open round mouth, raised brows, wide eyes
- neutral: flat

On top come random identity (face shape, skin tone, hair, feature spacing and resting expression), pose
(shift, scale, in-plane rotation), a lighting gradient, blur, noise and partial occlusion. Weak intensities
look nearly neutral and a small share of faces is drawn with another class's expression, so labels carry
real ambiguity and no model reaches 100%. Two knobs scale the nuisances: ``difficulty`` (``DIFFICULTY`` by default)
everything but pose, ``pose`` (``POSE``) the shift, zoom and rotation ranges; both 0 = clean, centred,
full-intensity faces.

Deterministic: image ``i`` of a split depends only on ``(seed, split, i, difficulty, pose)``. Classes are balanced
(counts differ by at most one). Example::

    from facesweep.io.synthetic import synthetic_dataset
    data = synthetic_dataset("emotion", n_train=700, n_val=150, seed=0)
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from facesweep.io.dataset import Dataset
from facesweep.io.preprocess import to_model_input
from facesweep.io.raw import RawData, to_dataset
from facesweep.tasks import EMOTION_CLASSES, Task, get_task

GENERATOR_VERSION = 2  # bump when drawing changes, so cached copies are rebuilt
WORK = 96  # drawing resolution in pixels; resized to the task's image size afterwards
# Scales every nuisance below but pose (0 = trivial). 0.25: faces clearly drawn, with noise, blur, occlusion and
# lighting, so that what separates the depths is pose, not luck of the seed.
DIFFICULTY = 0.25
# Scales the pose ranges (shift, zoom, rotation) on their own. Pose is what a deeper net handles better (each pool
# adds invariance to where a feature sits). With the default study's recipe (2,000 images, batch 32, lr 3e-3, no
# conv dropout, dense_lr_ref 64, 10 epochs; bench/cpu/synthetic_pilot.py) depth 2 / 3 / 4 reached, in points:
#   pose 1.0: 89.5 / 95.0 / 96.2, seed SD 1.6 / 0.5 / 0.3 (12 / 5 / 5 seeds): a 3-to-4 step of 1.2 points, which
#             needs ~7-11 seeds per depth to decide against a 1-point smallest difference;
#   pose 1.3: 79.1 / 91.4 / 94.9, SD 3.1 / 1.0 / 0.8 (8 / 4 / 4): steps of 12 and 3.5 points, but depth 2 noisier;
#   pose 1.6: 69.6 / 86.6 / 93.8, SD 4.3 / 1.7 / 0.7 (4 each).
# 1.2 sits between: steps a few seeds decide, seed noise within 2 points.
POSE = 1.2
MIN_INTENSITY = 0.25  # weakest expression at difficulty 1 (intensity ~ U(MIN_INTENSITY, 1)); lower = harder
LABEL_NOISE = 0.05  # share of faces drawn with another class's expression at difficulty 1
MAX_ROTATION = 10.0  # degrees of in-plane rotation at pose 1
MAX_SCALE = 0.10  # relative zoom in/out at pose 1
MAX_SHIFT = 0.08  # shift as a fraction of the side at pose 1
OCCLUSION = 0.2  # chance of an occluding blob at difficulty 1
RESTING = 0.15  # std of the identity's resting expression, in units of a full expression

# Expression geometry at intensity 1, one row per class in FER-2013 order. Columns:
PARAMS = ("brow_raise", "brow_inner", "eye_open", "mouth_curve", "mouth_open", "mouth_width", "lip_raise", "wrinkle")
_TARGETS = {
    "angry": (-0.7, -1.0, -0.45, -0.25, 0.0, -0.25, 0.0, 0.2),
    "disgust": (-0.4, -0.3, -0.45, -0.35, 0.1, 0.0, 1.0, 1.0),
    "fear": (0.8, 0.6, 0.8, -0.3, 0.4, 0.3, 0.0, 0.0),
    "happy": (0.05, 0.0, -0.2, 1.0, 0.3, 0.2, 0.0, 0.0),
    "sad": (0.1, 0.9, -0.25, -0.8, 0.0, -0.1, 0.0, 0.0),
    "surprise": (1.0, 0.1, 0.8, 0.0, 1.0, -0.35, 0.0, 0.0),
    "neutral": (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
}
TARGETS = np.array([_TARGETS[c] for c in EMOTION_CLASSES], dtype=np.float64)  # (7, len(PARAMS))
NEUTRAL = EMOTION_CLASSES.index("neutral")

_HAIR = np.array([(20, 20, 25), (25, 40, 70), (40, 70, 120), (80, 140, 190), (30, 50, 140), (150, 150, 155)])
_SPLIT_CODES = {"train": 1, "val": 2, "test": 3}
_AA = cv2.LINE_AA
_SHIFT = 4  # fixed-point bits for sub-pixel drawing
_ONE = 1 << _SHIFT


def _pts(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points) * _ONE).astype(np.int32).reshape(-1, 1, 2)


def _bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, n: int = 12) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def _ellipse(img: np.ndarray, center, axes, angle, color, thickness=-1) -> None:
    c = (int(round(center[0] * _ONE)), int(round(center[1] * _ONE)))
    a = (max(1, int(round(axes[0] * _ONE))), max(1, int(round(axes[1] * _ONE))))
    cv2.ellipse(img, c, a, angle, 0, 360, color, thickness, _AA, _SHIFT)


def _tone(color: np.ndarray, factor: float) -> tuple[float, ...]:
    return tuple(float(v) for v in np.clip(np.asarray(color) * factor, 0, 255))


def render_face(rng: np.random.Generator, expression: int, attribute: int, difficulty: float = DIFFICULTY,
                pose: float = POSE) -> np.ndarray:  # fmt: skip
    """Draw one BGR ``uint8 (WORK, WORK, 3)`` face showing ``expression`` (index into EMOTION_CLASSES) with the
    binary drawing attribute ``attribute`` (0 or 1; see the module docstring); returns the image. ``difficulty``
    scales every nuisance but pose, ``pose`` the shift, zoom and rotation ranges."""
    d = difficulty
    W = WORK
    # --- what the face expresses -----------------------------------------------------------------------
    drawn = expression
    if rng.random() < LABEL_NOISE * d:
        drawn = int(rng.choice([k for k in range(len(EMOTION_CLASSES)) if k != expression]))
    low = float(np.clip(1.0 - (1.0 - MIN_INTENSITY) * d, 0.05, 1.0))
    intensity = rng.uniform(low, 1.0)
    p = TARGETS[drawn] * intensity + rng.normal(0.0, RESTING * d, len(PARAMS))
    brow_raise, brow_inner, eye_open, curve, mouth_open, mouth_width, lip_raise, wrinkle = p
    mouth_open = max(0.0, mouth_open)
    lip_raise, wrinkle = max(0.0, lip_raise), max(0.0, wrinkle)

    # --- identity ------------------------------------------------------------------------------------------
    man = attribute == 0
    skin_t = rng.uniform(0, 1)
    skin = np.array([185, 205, 235]) * (1 - skin_t) + np.array([60, 85, 125]) * skin_t
    skin = skin * rng.uniform(0.93, 1.07, 3)
    hair = _HAIR[rng.integers(len(_HAIR))] * rng.uniform(0.8, 1.2)
    bg = rng.uniform(40, 220, 3)
    cx = W / 2 + rng.normal(0, 1.0)
    cy = W * 0.53 + rng.normal(0, 1.0)
    a = rng.uniform(29, 35)  # face half-width
    b = a * rng.uniform(1.18, 1.36)  # face half-height
    jaw = np.clip(rng.normal(3.0 if man else 2.2, 0.35), 1.8, 3.6)  # superellipse exponent of the lower face
    long_hair = rng.random() < (0.15 if man else 0.8)
    brow_t = np.clip(rng.normal(3.2 if man else 2.2, 0.6), 1.2, 4.5)
    stubble = man and rng.random() < 0.35

    img = np.empty((W, W, 3), np.uint8)
    img[:] = bg.astype(np.uint8)
    # hair behind the head
    if long_hair:
        _ellipse(img, (cx, cy + b * 0.25), (a * 1.25, b * 1.15), 0, _tone(hair, 1.0))
    # neck
    neck = np.array([[cx - a * 0.45, cy + b * 0.6], [cx + a * 0.45, cy + b * 0.6], [cx + a * 0.5, W + 5],
                     [cx - a * 0.5, W + 5]])  # fmt: skip
    cv2.fillPoly(img, [_pts(neck)], _tone(skin, 0.85), _AA, _SHIFT)
    # face: upper half an ellipse, lower half a superellipse (exponent = jaw shape)
    theta = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    cos, sin = np.cos(theta), np.sin(theta)
    expo = np.where(sin > 0, 2.0 / jaw, 1.0)
    face = np.stack([cx + a * np.sign(cos) * np.abs(cos) ** expo, cy + b * np.sign(sin) * np.abs(sin) ** expo], 1)
    cv2.fillPoly(img, [_pts(face)], _tone(skin, 1.0), _AA, _SHIFT)
    if stubble:
        chin = face[sin > 0.25]
        mouth_zone = np.concatenate([chin, [[cx + a * 0.75, cy + b * 0.25], [cx - a * 0.75, cy + b * 0.25]]])
        cv2.fillPoly(img, [_pts(mouth_zone)], _tone(skin, rng.uniform(0.7, 0.85)), _AA, _SHIFT)
    cv2.polylines(img, [_pts(face)], True, _tone(skin, 0.75), 1, _AA, _SHIFT)
    # hair on top
    top = b * (0.55 if long_hair else rng.uniform(0.35, 0.5))
    cv2.ellipse(img, (int(cx * _ONE), int((cy - b * 0.55) * _ONE)), (int(a * 1.05 * _ONE), int(top * _ONE)),
                0, 180, 360, _tone(hair, 1.0), -1, _AA, _SHIFT)  # fmt: skip

    # --- features ------------------------------------------------------------------------------------------
    ey = cy - b * rng.uniform(0.1, 0.2)
    dx = a * rng.uniform(0.36, 0.46)
    rx = a * rng.uniform(0.15, 0.19)
    ry = rx * np.clip(0.55 * (1 + 0.7 * eye_open), 0.1, 1.0)
    for s in (-1, 1):
        ex = cx + s * dx
        _ellipse(img, (ex, ey), (rx, ry), 0, (235, 235, 235))
        iris = min(rx * 0.5, ry * 0.98)
        _ellipse(img, (ex, ey), (iris, iris), 0, (40, 35, 30))
        _ellipse(img, (ex, ey), (rx, ry), 0, _tone(skin, 0.45), 1)
        # brow: inner end (towards the nose) and outer end, with an arch
        base = ey - rx * 1.15 - brow_raise * rx * 0.75
        inner = np.array([ex - s * rx * (0.9 + 0.25 * max(0.0, -brow_inner)), base - brow_inner * rx * 0.6])
        outer = np.array([ex + s * rx * 1.25, base + brow_inner * rx * 0.2])
        mid = (inner + outer) / 2 + np.array([0, -rx * 0.35])
        cv2.polylines(img, [_pts(_bezier(inner, mid, outer, 8))], False, _tone(hair, 0.8), int(round(brow_t)),
                      _AA, _SHIFT)  # fmt: skip
    # nose
    ny = cy + b * rng.uniform(0.2, 0.3)
    shade = _tone(skin, 0.68)
    nose = np.array([[cx + a * 0.02, ey + rx * 0.4], [cx + a * 0.08, ny], [cx - a * 0.1, ny + 1.5]])
    cv2.polylines(img, [_pts(nose)], False, shade, 1, _AA, _SHIFT)
    if wrinkle > 0.2:
        for k in range(3):
            y = ey + rx * (0.2 + 0.35 * k)
            w = a * 0.08 * min(1.0, wrinkle)
            cv2.line(img, (int((cx - w) * _ONE), int(y * _ONE)), (int((cx + w) * _ONE), int((y - 1) * _ONE)),
                     shade, 1, _AA, _SHIFT)  # fmt: skip

    # mouth: corners lifted by `curve`, opened by `mouth_open`, one side of the upper lip raised by `lip_raise`
    my = cy + b * rng.uniform(0.48, 0.56)
    mw = a * rng.uniform(0.3, 0.4) * (1 + 0.3 * mouth_width)
    lift = curve * mw * 0.3
    left, right = np.array([cx - mw, my - lift]), np.array([cx + mw, my - lift])
    upper = _bezier(left, np.array([cx, my + lift - mouth_open * mw * 0.6]), right)
    lower = _bezier(left, np.array([cx, my + lift + mouth_open * mw * 1.4]), right)
    side = rng.choice([-1, 1])
    ramp = np.clip((upper[:, 0] - cx) * side / mw + 0.3, 0, 1)
    upper[:, 1] -= lip_raise * mw * 0.3 * ramp
    lips = _tone(skin * np.array([0.8, 0.75, 1.05]), 0.85)
    lip_t = mw * 0.14
    outline = np.concatenate([upper - [0, lip_t], lower[::-1] + [0, lip_t * 1.3]])
    cv2.fillPoly(img, [_pts(outline)], lips, _AA, _SHIFT)
    if mouth_open > 0.08 or lip_raise > 0.3:
        inside = np.concatenate([upper, lower[::-1]])
        cv2.fillPoly(img, [_pts(inside)], (40, 30, 70), _AA, _SHIFT)
        if curve > 0.4:  # teeth in a smile
            teeth = np.concatenate([upper, (upper * 0.45 + lower * 0.55)[::-1]])
            cv2.fillPoly(img, [_pts(teeth)], (225, 230, 235), _AA, _SHIFT)
    cv2.polylines(img, [_pts((upper + lower) / 2)], False, (50, 40, 80), 1, _AA, _SHIFT)
    if curve > 0.45:  # smile lines from the nose wings to past the mouth corners
        for s in (-1, 1):
            p0 = np.array([cx + s * a * 0.3, ny - 1])
            p2 = np.array([cx + s * (mw + a * 0.12), my + mw * 0.15])
            cv2.polylines(img, [_pts(_bezier(p0, p0 + [s * a * 0.2, b * 0.1], p2, 6))], False, shade, 1, _AA,
                          _SHIFT)  # fmt: skip

    # --- nuisance: occlusion, pose, blur ------------------------------------------------------------------
    if rng.random() < OCCLUSION * d:
        ox, oy = rng.uniform(0.15, 0.85, 2) * W
        color = _tone(skin, rng.uniform(0.8, 1.1)) if rng.random() < 0.5 else tuple(rng.uniform(0, 255, 3))
        _ellipse(img, (ox, oy), rng.uniform(0.1, 0.22, 2) * W, rng.uniform(0, 180), color)
    angle = rng.uniform(-MAX_ROTATION, MAX_ROTATION) * pose
    scale = 1.0 + rng.uniform(-MAX_SCALE, MAX_SCALE) * pose
    matrix = cv2.getRotationMatrix2D((W / 2, W / 2), angle, scale)
    matrix[:, 2] += rng.uniform(-MAX_SHIFT, MAX_SHIFT, 2) * W * pose
    img = cv2.warpAffine(img, matrix, (W, W), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    sigma = rng.uniform(0.0, 1.2 * d)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    return img


def _finish(rng: np.random.Generator, image: np.ndarray, difficulty: float) -> np.ndarray:
    """Lighting gradient, brightness/contrast and noise, applied at the task's resolution."""
    size = image.shape[0]
    ramp = np.linspace(-0.5, 0.5, size, dtype=np.float32)
    phi = rng.uniform(0, 2 * np.pi)
    gradient = np.cos(phi) * ramp[None, :] + np.sin(phi) * ramp[:, None]
    gain = rng.uniform(1 - 0.2 * difficulty, 1 + 0.1 * difficulty) * (1 + rng.uniform(0, 0.6 * difficulty) * gradient)
    noise = rng.standard_normal(image.shape, dtype=np.float32) * rng.uniform(1.0, 1.0 + 7.0 * difficulty)
    out = image.astype(np.float32) * gain[:, :, None] + noise
    return np.clip(out, 0, 255).astype(np.uint8)


def _draw_split(task: Task, split: str, n: int, seed: int, difficulty: float,
                pose: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    k = len(task.classes)
    order = np.random.default_rng([seed, _SPLIT_CODES[split], 0]).permutation(n)
    labels = (order % k).astype(np.int32)  # balanced: counts differ by at most one
    images = np.empty((n, task.image_size, task.image_size, task.channels), np.uint8)

    def draw(i: int) -> None:
        rng = np.random.default_rng([seed, _SPLIT_CODES[split], 1, i])
        if task.name == "gender":
            expression, attribute = int(rng.integers(len(EMOTION_CLASSES))), int(labels[i])
        else:
            expression, attribute = int(labels[i]), int(rng.integers(2))
        face = render_face(rng, expression, attribute, difficulty, pose)
        images[i] = _finish(rng, to_model_input(face, task.image_size, task.channels), difficulty)

    if n:
        workers = max(1, min(4, os.cpu_count() or 1))
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(draw, range(n)))
    return images, labels


def synthetic_raw(task: Task | str, n_train: int = 7000, n_val: int = 1500, seed: int = 0,
                  difficulty: float = DIFFICULTY, pose: float = POSE) -> RawData:  # fmt: skip
    """The synthetic set as ``RawData`` (train and val groups); what ``load_dataset`` caches."""
    task = get_task(task) if isinstance(task, str) else task
    if task.name not in ("emotion", "gender"):
        raise ValueError(f"no synthetic faces for task {task.name!r}")
    train_images, train_labels = _draw_split(task, "train", n_train, seed, difficulty, pose)
    val_images, val_labels = _draw_split(task, "val", n_val, seed, difficulty, pose)
    n = n_train + n_val
    return RawData(
        images=np.concatenate([train_images, val_images]),
        labels=np.concatenate([train_labels, val_labels]),
        groups=np.repeat(np.array([0, 1], np.int8), [n_train, n_val]),
        group_names=("train", "val"),
        sizes=np.tile(np.array([WORK, WORK, 3], np.int32), (n, 1)),
        extra={"layout": "synthetic", "seed": seed, "difficulty": difficulty, "pose": pose,
               "generator": GENERATOR_VERSION},
    )


def synthetic_dataset(task: Task | str, n_train: int = 7000, n_val: int = 1500, seed: int = 0,
                      difficulty: float = DIFFICULTY, pose: float = POSE) -> Dataset:  # fmt: skip
    """Draw the synthetic face set for ``task`` (a preset name or a ``Task``): balanced, deterministic."""
    task = get_task(task) if isinstance(task, str) else task
    raw = synthetic_raw(task, n_train, n_val, seed, difficulty, pose)
    return to_dataset(raw, task, source_name(seed, difficulty, pose), val_fraction=0.2, seed=seed, whole=False,
                      where="synthetic")  # fmt: skip


def source_name(seed: int, difficulty: float, pose: float = POSE) -> str:
    extra = "" if difficulty == DIFFICULTY else f", difficulty {difficulty:g}"
    extra += "" if pose == POSE else f", pose {pose:g}"
    return f"synthetic (seed {seed}{extra})"
