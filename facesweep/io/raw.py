"""What every source produces before splitting: decoded images with their labels and source split.

``RawData`` is also what the cache stores, so a warm load skips straight to ``to_dataset``, which applies
the split policy (the same for folders and the CSV):

- ``train`` + ``val`` given: used as they are; a ``test`` split is kept as ``test``.
- ``train`` without ``val``: a seeded, stratified ``val_fraction`` of train becomes val (``test``, if
  given, stays test and is never used for validation).
- no splits (``ROOT/<class>/*``): a seeded, stratified train/val split.
- ``whole=True``: no split is made; the source's own splits are kept, and an unsplit source becomes
  one split named ``"test"`` (for ``evaluate`` on a test folder). One class is enough then (a folder of
  only ``woman/`` scores that class's recall); training needs two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from facesweep.errors import DataError
from facesweep.io.dataset import Dataset, Split
from facesweep.io.split import check_val_fraction, stratified_split
from facesweep.tasks import Task

UNSPLIT = "all"  # group name of a source that has no split folders / Usage column
SPLIT_ORDER = ("train", "val", "test", UNSPLIT)


@dataclass
class RawData:
    images: np.ndarray  # uint8 (N, S, S, C), already through to_model_input
    labels: np.ndarray  # int32 (N,), indices into task.classes
    groups: np.ndarray  # int8 (N,), index into group_names: the split each image came from
    group_names: tuple[str, ...]  # "train" / "val" / "test", or ("all",) when the source has no splits
    sizes: np.ndarray  # int32 (N, 3): height, width, channels as stored, before preprocessing
    skipped: tuple[str, ...] = ()  # files or rows that could not be decoded
    extra: dict = field(default_factory=dict)  # JSON-able source facts for `facesweep data`
    paths: tuple[str, ...] = ()  # per image, relative to the source folder; () when not from files

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"images": self.images, "labels": self.labels, "groups": self.groups, "sizes": self.sizes}

    def to_extra(self) -> dict:
        return {"group_names": list(self.group_names), "skipped": list(self.skipped), "extra": self.extra,
                "paths": list(self.paths)}  # fmt: skip

    @classmethod
    def from_cache(cls, arrays: dict[str, np.ndarray], extra: dict) -> RawData:
        return cls(
            images=arrays["images"],
            labels=arrays["labels"],
            groups=arrays["groups"],
            group_names=tuple(extra["group_names"]),
            sizes=arrays["sizes"],
            skipped=tuple(extra["skipped"]),
            extra=extra["extra"],
            paths=tuple(extra.get("paths", ())),
        )


def size_summary(sizes: np.ndarray) -> dict:
    """min / median / max width and height, and how many images had each channel count, before preprocessing."""
    if sizes.shape[0] == 0:
        return {}
    heights, widths, channels = sizes[:, 0], sizes[:, 1], sizes[:, 2]
    seen, counts = np.unique(channels, return_counts=True)
    return {
        "width": {"min": int(widths.min()), "median": float(np.median(widths)), "max": int(widths.max())},
        "height": {"min": int(heights.min()), "median": float(np.median(heights)), "max": int(heights.max())},
        "channels": {str(int(c)): int(n) for c, n in zip(seen, counts, strict=True)},
    }


def to_dataset(
    raw: RawData, task: Task, source: str, *, val_fraction: float, seed: int, whole: bool, where: str
) -> Dataset:
    """Apply the split policy (module docstring) and check that at least two classes remain."""
    check_val_fraction(val_fraction)
    groups = {name: np.flatnonzero(raw.groups == i) for i, name in enumerate(raw.group_names)}
    info: dict = {"raw_sizes": size_summary(raw.sizes), "skipped_count": len(raw.skipped), **raw.extra}
    picked: dict[str, np.ndarray] = {}
    if whole:
        for name, index in groups.items():
            picked["test" if name == UNSPLIT else name] = index
    elif UNSPLIT in groups:
        train, val = stratified_split(raw.labels[groups[UNSPLIT]], val_fraction, seed)
        picked = {"train": groups[UNSPLIT][train], "val": groups[UNSPLIT][val]}
        info["split_made"] = {"from": "all", "val_fraction": val_fraction, "seed": seed}
    else:
        if "train" not in groups:
            raise DataError(f"{where}: has {', '.join(groups)} but no train split (use it with whole=True)")
        if "val" in groups:
            picked = {"train": groups["train"], "val": groups["val"]}
        else:
            train, val = stratified_split(raw.labels[groups["train"]], val_fraction, seed)
            picked = {"train": groups["train"][train], "val": groups["train"][val]}
            info["split_made"] = {"from": "train", "val_fraction": val_fraction, "seed": seed}
        if "test" in groups:
            picked["test"] = groups["test"]
    present = np.unique(raw.labels)
    if present.size < (1 if whole else 2):
        found = ", ".join(task.classes[i] for i in present) or "none"
        raise DataError(f"{where}: needs at least {1 if whole else 2} classes, found {present.size} ({found})")
    paths = np.asarray(raw.paths, dtype=object) if len(raw.paths) == len(raw.labels) else None
    splits = {
        name: Split(np.ascontiguousarray(raw.images[index]), raw.labels[index].astype(np.int32),
                    None if paths is None else tuple(paths[index]))
        for name, index in sorted(picked.items(), key=lambda kv: SPLIT_ORDER.index(kv[0]))
    }  # fmt: skip
    return Dataset(task=task, classes=task.classes, splits=splits, source=source, skipped=raw.skipped, info=info)
