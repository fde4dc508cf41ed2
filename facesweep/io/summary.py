"""The dataset EDA as one JSON-able dict: per-split class counts and shares, imbalance, raw image sizes.

``facesweep data`` renders it (and prints it with ``--json``); the report can embed it as is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facesweep.io.dataset import Dataset

SKIPPED_SHOWN = 5  # paths named in the one-line warning and in the summary


def imbalance_ratio(counts: np.ndarray) -> float | None:
    """Largest over smallest class count among ``counts`` (classes absent from the data already removed);
    ``None`` when a class has no images."""
    if counts.size == 0 or counts.min() == 0:
        return None
    return float(counts.max() / counts.min())


def summarize_dataset(dataset: Dataset) -> dict[str, Any]:
    """Counts, shares and imbalance per split, over the classes present anywhere in the dataset."""
    k = len(dataset.classes)
    per_split = {name: split.class_counts(k) for name, split in dataset.splits.items()}
    present = np.flatnonzero(sum(per_split.values(), np.zeros(k, dtype=np.int64)) > 0)
    splits = {}
    for name, counts in per_split.items():
        total = int(counts.sum())
        splits[name] = {
            "total": total,
            "counts": {dataset.classes[i]: int(counts[i]) for i in present},
            "shares": {dataset.classes[i]: (float(counts[i]) / total if total else 0.0) for i in present},
            "imbalance": imbalance_ratio(counts[present]),
        }
    info = dataset.info
    return {
        "task": dataset.task.name,
        "source": dataset.source,
        "classes": list(dataset.classes),
        "missing_classes": [c for i, c in enumerate(dataset.classes) if i not in set(present.tolist())],
        "input_shape": list(dataset.task.shape),
        "splits": splits,
        "raw_sizes": info.get("raw_sizes", {}),
        "split_made": info.get("split_made"),
        "layout": info.get("layout"),
        "skipped": {"count": len(dataset.skipped), "first": list(dataset.skipped[:SKIPPED_SHOWN])},
        "cache": info.get("cache"),
    }
