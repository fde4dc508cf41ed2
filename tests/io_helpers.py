"""Small image trees and CSVs written to tmp dirs for the io tests (never real data)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def write_image(path: Path, value: int = 128, size: tuple[int, int] = (40, 30), color: bool = False) -> Path:
    """A small JPEG/PNG (by suffix): gray or BGR, filled with ``value`` plus a little texture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = size
    image = np.full((h, w), value, np.uint8)
    image[::4] = min(255, value + 20)
    if color:
        image = np.dstack([image, image // 2, np.full_like(image, 30)])  # B, G, R
    assert cv2.imwrite(str(path), image)
    return path


def write_class_tree(root: Path, counts: dict[str, int], suffix: str = ".jpg", color: bool = False) -> Path:
    """``root/<class>/img_<i><suffix>`` with ``counts[class]`` images each."""
    for index, (name, n) in enumerate(counts.items()):
        for i in range(n):
            write_image(root / name / f"img_{i:03d}{suffix}", value=20 + 30 * index, color=color)
    return root


def write_corrupt(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    return path


def write_fer_csv(path: Path, rows: list[tuple[int, str]], side: int = 48, seed: int = 0) -> Path:
    """A FER-2013 style CSV: ``emotion,pixels,Usage`` with one random square image per row."""
    rng = np.random.default_rng(seed)
    lines = ["emotion,pixels,Usage"]
    for label, usage in rows:
        pixels = " ".join(str(v) for v in rng.integers(0, 256, side * side))
        lines.append(f"{label},{pixels},{usage}")
    path.write_text("\n".join(lines) + "\n")
    return path
