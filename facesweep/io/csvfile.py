"""The FER-2013 CSV: columns ``emotion,pixels,Usage`` (Kaggle's ``fer2013.csv``).

``emotion`` (or ``label``) is the class index in the task's order; ``pixels`` is a space-separated square
grayscale image (48x48 = 2304 values for FER-2013); ``Usage`` maps Training / PublicTest / PrivateTest to
train / val / test. Without ``Usage`` the rows are one unsplit pool. A malformed row is a ``DataError``
naming the line: a CSV is one file, so a broken row means a broken file, not one bad image.
"""

from __future__ import annotations

import csv
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from facesweep.errors import DataError
from facesweep.io.preprocess import to_model_input
from facesweep.io.raw import UNSPLIT, RawData
from facesweep.tasks import Task

USAGE_SPLITS = {"training": "train", "publictest": "val", "privatetest": "test"}
LABEL_COLUMNS = ("emotion", "label")


def load_csv(path: Path, task: Task, advance: Callable[[int], None] | None = None) -> RawData:
    """Parse every row of ``path`` into model input; raise ``DataError`` on the first malformed row."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except (StopIteration, csv.Error, UnicodeDecodeError):
            raise DataError(f"{path}: empty or not a CSV file") from None
        label_col = next((header.index(c) for c in LABEL_COLUMNS if c in header), None)
        if label_col is None or "pixels" not in header:
            raise DataError(f"{path}: expected columns emotion,pixels[,Usage], found {','.join(header) or 'none'}")
        pixels_col = header.index("pixels")
        usage_col = header.index("usage") if "usage" in header else None
        images: list[np.ndarray] = []
        labels: list[int] = []
        group_of: list[str] = []
        side = 0
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)  # older numpy only warns on a bad pixel token
            try:
                for line, row in enumerate(reader, start=2):
                    if not row:
                        continue
                    where = f"{path} line {line}"
                    if len(row) != len(header):
                        raise DataError(f"{where}: {len(row)} fields, expected {len(header)}")
                    try:
                        label = int(row[label_col])
                    except ValueError:
                        raise DataError(f"{where}: label {row[label_col]!r} is not an integer") from None
                    if not 0 <= label < len(task.classes):
                        raise DataError(f"{where}: label {label} outside 0..{len(task.classes) - 1}")
                    try:
                        values = np.fromstring(row[pixels_col], dtype=np.int32, sep=" ")
                    except (ValueError, DeprecationWarning):  # numpy >= 2.3 raises; older ones warn
                        raise DataError(f"{where}: pixels must be space-separated integers") from None
                    if not side:
                        side = math.isqrt(values.size)
                        if side < 2 or side * side != values.size:
                            raise DataError(f"{where}: pixels has {values.size} values, not a square image")
                    if values.size != side * side:
                        raise DataError(
                            f"{where}: pixels has {values.size} values, expected {side * side} ({side}x{side})"
                        )
                    if values.min() < 0 or values.max() > 255:
                        raise DataError(f"{where}: pixel values must be 0..255")
                    if usage_col is not None:
                        usage = row[usage_col].strip().lower()
                        if usage not in USAGE_SPLITS:
                            raise DataError(
                                f"{where}: Usage {row[usage_col]!r} is not Training, PublicTest or PrivateTest"
                            )
                        group_of.append(USAGE_SPLITS[usage])
                    gray = values.astype(np.uint8).reshape(side, side)
                    images.append(to_model_input(gray, task.image_size, task.channels))
                    labels.append(label)
                    if advance is not None and line % 1024 == 0:
                        advance(1024)
            except csv.Error as exc:
                raise DataError(f"{path} line {reader.line_num}: {exc}") from None
            except UnicodeDecodeError:
                raise DataError(f"{path}: not a UTF-8 text file") from None
    if not images:
        raise DataError(f"{path}: no data rows")
    if usage_col is None:
        group_names: tuple[str, ...] = (UNSPLIT,)
        groups = np.zeros(len(images), dtype=np.int8)
    else:
        group_names = tuple(n for n in ("train", "val", "test") if n in set(group_of))
        groups = np.array([group_names.index(g) for g in group_of], dtype=np.int8)
    n = len(images)
    return RawData(
        images=np.stack(images),
        labels=np.array(labels, dtype=np.int32),
        groups=groups,
        group_names=group_names,
        sizes=np.tile(np.array([side, side, 1], dtype=np.int32), (n, 1)),
        extra={"layout": "csv", "rows": n},
    )
