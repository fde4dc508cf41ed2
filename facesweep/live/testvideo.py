"""A generated test video for ``facesweep live``: drawn, high-contrast faces that the Haar cascade finds.

    python -m facesweep.live.testvideo /tmp/faces.avi --frames 300      # then: facesweep live --source /tmp/faces.avi

Faces are shaded ellipses with dark eyes and brows, a lighter nose ridge and a mouth (smile, flat or open),
softened by a blur: the light/dark pattern the Viola-Jones features look for. They drift across the frame, so
tracking is exercised; ``TestVideo.boxes[i]`` gives each frame's true face boxes (the drawn ellipses' extents).
``swap_every=N`` replaces each face by another drawn person (hair, glasses, beard, eye and mouth shapes) every N
frames, in the same place: what IoU tracking alone cannot tell apart; ``TestVideo.people[i]`` says who is where.
Written as Motion-JPEG in ``.avi`` (every OpenCV build can write and read it).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facesweep.faces.detect import Box

MOUTHS = ("smile", "flat", "open")


@dataclass(frozen=True)
class TestVideo:
    __test__ = False  # not a pytest test class despite the name

    path: Path
    width: int
    height: int
    fps: float
    boxes: list[list[Box]]  # per frame, the true (x, y, w, h) of each drawn face, left to right
    people: list[list[int]] | None = None  # per frame, which drawn person each face is (with swap_every)

    @property
    def frames(self) -> int:
        return len(self.boxes)


def draw_face(
    image: np.ndarray, cx: int, cy: int, half_width: int, *, skin: int = 200, mouth: str = "smile", person: int = 0
) -> Box:
    """Draw one face centred at ``(cx, cy)``; returns its box ``(x, y, w, h)`` (the head ellipse's extent).
    ``person`` > 0 adds that person's features (dark hair, glasses, a beard: bits 0, 1, 2 of ``person``)."""
    s = half_width
    half_height = int(s * 1.3)
    cv2.ellipse(image, (cx, cy), (s, half_height), 0, 0, 360, (skin - 10, skin, skin + 15), -1)
    if person & 1:  # dark hair over the forehead
        cv2.ellipse(image, (cx, cy - int(s * 0.75)), (s, int(s * 0.55)), 0, 180, 360, (30, 35, 45), -1)
    if person & 4:  # a beard around the mouth and chin
        cv2.ellipse(image, (cx, cy + int(s * 0.85)), (int(s * 0.7), int(s * 0.45)), 0, 0, 180, (45, 50, 60), -1)
    eye_dx, eye_dy = int(s * 0.42), int(s * 0.25)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        cv2.ellipse(image, (ex, cy - eye_dy), (int(s * 0.22), int(s * 0.11)), 0, 0, 360, (40, 40, 40), -1)
        brow_y = cy - int(s * 0.5)
        cv2.line(image, (ex - int(s * 0.25), brow_y), (ex + int(s * 0.25), brow_y), (60, 60, 60), max(2, int(s * 0.08)))
    if person & 2:  # glasses: rings round the eyes and a bridge
        for side in (-1, 1):
            cv2.circle(image, (cx + side * eye_dx, cy - eye_dy), int(s * 0.3), (20, 20, 20), max(2, int(s * 0.07)))
        cv2.line(image, (cx - int(s * 0.12), cy - eye_dy), (cx + int(s * 0.12), cy - eye_dy), (20, 20, 20),
                 max(2, int(s * 0.06)))  # fmt: skip
    cv2.ellipse(image, (cx, cy + int(s * 0.2)), (int(s * 0.1), int(s * 0.22)), 0, 0, 360, (165, 170, 175), -1)
    my = cy + int(s * 0.62)
    if mouth == "smile":
        cv2.ellipse(image, (cx, my - int(s * 0.08)), (int(s * 0.35), int(s * 0.16)), 0, 10, 170, (60, 60, 90), -1)
    elif mouth == "open":
        cv2.ellipse(image, (cx, my), (int(s * 0.18), int(s * 0.16)), 0, 0, 360, (50, 50, 70), -1)
    else:
        cv2.ellipse(image, (cx, my), (int(s * 0.35), int(s * 0.08)), 0, 0, 360, (70, 70, 90), -1)
    return (cx - s, cy - half_height, 2 * s, 2 * half_height)


def who(index: int, face: int, swap_every: int | None) -> int:
    """The drawn person at place ``face`` on frame ``index``: 0 throughout, or a new one every ``swap_every``."""
    if not swap_every:
        return 0
    return 1 + (index // swap_every + 3 * face) % 7  # 1..7: every mix of hair, glasses and beard


def render_frame(
    index: int, *, width: int = 640, height: int = 480, faces: int = 2, fps: float = 30.0,
    swap_every: int | None = None,
) -> tuple[np.ndarray, list[Box]]:
    """Frame ``index``: a soft background and ``faces`` faces drifting sideways; returns (BGR frame, true boxes)."""
    yy, xx = np.mgrid[0:height, 0:width]
    background = (70 + 30 * (xx / width) + 20 * (yy / height)).astype(np.uint8)
    image = cv2.merge([background, background + 5, background + 10])
    boxes = []
    t = index / fps
    for k in range(faces):
        half_width = int(min(width / (2.6 * faces), height / 3.2) * (0.85 + 0.1 * k))
        lane = (k + 0.5) * width / faces
        swing = 0.5 * width / faces - half_width - 4
        cx = int(lane + swing * 0.6 * math.sin(2 * math.pi * 0.2 * t + k * 1.7))
        cy = int(height / 2 + 0.15 * height * math.sin(2 * math.pi * 0.13 * t + k))
        person = who(index, k, swap_every)
        mouth = MOUTHS[(k + person) % len(MOUTHS)]
        boxes.append(draw_face(image, cx, cy, half_width, skin=190 + 20 * (k % 2), mouth=mouth, person=person))
    image = cv2.GaussianBlur(image, (0, 0), 2.0)
    return image, boxes


def write_test_video(
    path: str | Path, *, frames: int = 90, width: int = 640, height: int = 480, faces: int = 2, fps: float = 30.0,
    swap_every: int | None = None,
) -> TestVideo:
    """Write ``frames`` frames to ``path`` (MJPG ``.avi``) and return the ground-truth boxes (and people)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path} with the MJPG codec")
    truth = []
    try:
        for index in range(frames):
            image, boxes = render_frame(index, width=width, height=height, faces=faces, fps=fps, swap_every=swap_every)
            writer.write(image)
            truth.append(boxes)
    finally:
        writer.release()
    people = [[who(i, k, swap_every) for k in range(faces)] for i in range(frames)] if swap_every else None
    return TestVideo(path, width, height, fps, truth, people)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write a test video of drawn faces for `facesweep live`.")
    parser.add_argument("path", help="output .avi")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--faces", type=int, default=2)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--swap-every", type=int, metavar="N", help="other people step into the faces' places every N")
    args = parser.parse_args(argv)
    video = write_test_video(args.path, frames=args.frames, faces=args.faces, width=args.width, height=args.height,
                             fps=args.fps, swap_every=args.swap_every)  # fmt: skip
    print(f"wrote {video.path}: {video.frames} frames, {video.width}x{video.height}, {args.faces} faces")


if __name__ == "__main__":
    main()
