"""Seeded, stratified train/val split: each class keeps its share in both parts."""

from __future__ import annotations

import numpy as np

from facesweep.errors import UsageError


def check_val_fraction(val_fraction: float) -> None:
    if not 0.0 < val_fraction < 1.0:
        raise UsageError(f"val fraction must be between 0 and 1 (exclusive), got {val_fraction}")


def stratified_split(labels: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, val)`` into ``labels``: per class, a seeded shuffle and ``round(n * val_fraction)``
    to val (at least one when the class has two or more images). Both index arrays are sorted."""
    check_val_fraction(val_fraction)
    rng = np.random.default_rng(seed)
    train_parts, val_parts = [], []
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        members = members[rng.permutation(members.size)]
        n_val = int(round(members.size * val_fraction))
        if members.size >= 2:
            n_val = min(max(n_val, 1), members.size - 1)
        else:
            n_val = 0
        val_parts.append(members[:n_val])
        train_parts.append(members[n_val:])
    return np.sort(np.concatenate(train_parts)), np.sort(np.concatenate(val_parts))
