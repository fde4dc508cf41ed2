"""Is the face in a tracked box still the same person? A cheap appearance signature of the aligned crop.

    sig = appearance(crop)                    # crop: a model's aligned input, uint8 (S, S, C)
    if changed(track.appearance, sig): ...    # another person stepped into the box: a new track

IoU tracking keeps a box's id as long as a face is there; at a kiosk or a doorway another person can take the
same place between two frames, and the old track would hand its id and its smoothed labels to them. The
signature is the aligned face (eyes and mouth on the model's template) shrunk to ``SIZE`` x ``SIZE`` gray,
minus its mean, scaled to unit length: a face compared with itself a frame later (compression noise, a blink, a
few pixels of landmark jitter) stays close to 1 in correlation; another face in the same place does not.
``NEW_FACE`` is the distance (1 - correlation) from which it counts as another person. Measured on the first 300
frames of ``bench/facevideo.py make --task gender --faces 4 --hold 10 --fps 15 --in-place`` (gender val faces
swapped in place every 10 frames), consecutive frames of one box, the loop's own crops: at 12 px and 0.25, 0.4%
of same-person pairs split (4/942) and 0.9% of swaps were missed (1/113); at 16 px 1.4% split; at 8 px 2.7% of
swaps were missed. The one frame right after a swap is left out: there the new person's first detected
landmarks replace the ones carried from the old person, so the crop changes by design (``LiveLoop`` re-anchors
the new track's signature on that frame instead of comparing).
"""

from __future__ import annotations

import cv2
import numpy as np

SIZE = 12  # signature side, pixels: coarse enough to ignore jitter, fine enough to tell faces apart
NEW_FACE = 0.25  # 1 - correlation from which the face in a box is another person's (see the module docstring)
REDETECTED = 1.8  # NEW_FACE times this on a frame whose landmarks a detection just replaced (alignment jitter)
KEEP = 0.5  # weight of the track's reference in its running signature (the newest frame gets 1 - KEEP)


def appearance(crop: np.ndarray) -> np.ndarray:
    """``float32 (SIZE * SIZE,)``: the crop in gray, shrunk, centred and scaled to unit length (zeros if flat)."""
    image = np.asarray(crop)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    elif image.ndim == 3:
        image = image[:, :, 0]
    small = cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= small.mean()
    norm = float(np.linalg.norm(small))
    return small / norm if norm > 1e-6 else small


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 - correlation of two signatures: 0 for the same image, about 1 for unrelated ones."""
    return 1.0 - float(np.dot(a, b))


def changed(reference: np.ndarray | None, signature: np.ndarray, threshold: float = NEW_FACE) -> bool:
    """Whether ``signature`` is another face than ``reference`` (never for a track without one yet, nor for a
    flat crop: a face off the frame's edge or a blank frame says nothing about who it is)."""
    if reference is None or not reference.any() or not signature.any():
        return False
    return distance(reference, signature) > threshold


def blend(reference: np.ndarray | None, signature: np.ndarray, keep: float = KEEP) -> np.ndarray:
    """The track's running signature after this frame (follows slow changes: pose, light)."""
    if reference is None:
        return signature
    mixed = keep * reference + (1.0 - keep) * signature
    norm = float(np.linalg.norm(mixed))
    return (mixed / norm).astype(np.float32) if norm > 1e-6 else mixed.astype(np.float32)
