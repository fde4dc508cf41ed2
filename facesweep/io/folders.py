"""Image-folder datasets: ``ROOT/{train,val|validation,test}/<class>/*`` or ``ROOT/<class>/*``.

Both FER-2013 layouts seen on Kaggle work (``train`` + ``test`` and ``train`` + ``validation``), as does a
single split folder such as ``fer2013/val``. Class folders are matched to the task's classes
case-insensitively (``facesweep.io.classes``). Files are decoded in a thread pool (OpenCV releases the GIL)
straight into one preallocated array; an unreadable file is skipped and named, never fatal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facesweep.errors import DataError
from facesweep.io.classes import class_index, suggest_task
from facesweep.io.preprocess import to_model_input
from facesweep.io.raw import UNSPLIT, RawData
from facesweep.tasks import Task

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm", ".pbm"})
SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "validation": "val", "valid": "val",
               "test": "test", "testing": "test"}  # fmt: skip
CHUNK = 256  # files per pool task: big enough to amortise scheduling, small enough for a smooth progress bar


@dataclass(frozen=True)
class FileEntry:
    path: str
    label: int  # index into task.classes
    group: int  # index into FolderScan.group_names
    size: int  # bytes
    mtime_ns: int


@dataclass(frozen=True)
class FolderScan:
    root: Path
    group_names: tuple[str, ...]  # ("train", "val", ...) or ("all",)
    group_paths: tuple[str, ...]  # the folder of each group, for messages
    files: tuple[FileEntry, ...]
    class_folders: dict[str, dict[str, int]]  # group -> folder name -> image files

    def fingerprint(self) -> list:
        """What invalidates a cache entry: every file's relative path, label, split, size and mtime."""
        root = str(self.root)
        return [[f.path[len(root) :], f.label, f.group, f.size, f.mtime_ns] for f in self.files]


def _subdirs(path: Path) -> list[os.DirEntry]:
    with os.scandir(path) as it:
        return sorted(
            (e for e in it if e.is_dir() and not e.name.startswith((".", "__"))), key=lambda e: e.name.lower()
        )


def _image_files(folder: str) -> list[os.DirEntry]:
    with os.scandir(folder) as it:
        return sorted(
            (e for e in it if e.is_file() and os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS),
            key=lambda e: e.name,
        )


def scan_folder(root: Path, task: Task, ignore: Iterable[str] = ()) -> FolderScan:
    """List the image files under ``root`` with their labels; raise ``DataError`` for a layout we cannot use.

    Class folders named in ``ignore`` (case-insensitive; e.g. CK+'s ``contempt``) are left out of every split.
    """
    ignored = {name.strip().lower() for name in ignore}
    top = _subdirs(root)
    split_dirs = [e for e in top if e.name.lower() in SPLIT_NAMES]
    if split_dirs:
        groups: dict[str, list[os.DirEntry]] = {}
        for entry in split_dirs:
            name = SPLIT_NAMES[entry.name.lower()]
            if name in groups:
                raise DataError(f"{root}: two folders for the {name} split ({groups[name][0].name}, {entry.name})")
            groups[name] = [entry]
        ordered = [n for n in ("train", "val", "test") if n in groups]
        group_dirs = {name: _subdirs(Path(groups[name][0].path)) for name in ordered}
    else:
        ordered = [UNSPLIT]
        group_dirs = {UNSPLIT: top}

    files: list[FileEntry] = []
    class_folders: dict[str, dict[str, int]] = {}
    class_sets: dict[str, set[int]] = {}
    seen_ignored: set[str] = set()
    for group_index, name in enumerate(ordered):
        where = root if name == UNSPLIT else Path(groups[name][0].path)
        seen_ignored |= {d.name.lower() for d in group_dirs[name] if d.name.lower() in ignored}
        class_dirs = [d for d in group_dirs[name] if d.name.lower() not in ignored]
        if not class_dirs:
            raise DataError(
                f"{where}: no class folders (expected {where}/<class>/*.jpg, classes: {', '.join(task.classes)})"
            )
        unknown = [d.name for d in class_dirs if class_index(task, d.name) is None]
        if unknown:
            other = suggest_task(task, [d.name for d in class_dirs])
            hint = (f"did you mean --task {other}?" if other else
                    f"leave them out with {' '.join('--ignore-class ' + n for n in unknown)}")  # fmt: skip
            error = DataError(
                f"{where}: class folder(s) {', '.join(unknown)} match no {task.name} class; "
                f"expected: {', '.join(task.classes)}; {hint}"
            )
            error.task_hint = other  # type: ignore[attr-defined]  # evaluate words it for a model, not --task
            raise error
        class_folders[name] = {}
        class_sets[name] = set()
        for class_dir in class_dirs:
            label = class_index(task, class_dir.name)
            assert label is not None
            images = _image_files(class_dir.path)
            if not images:
                raise DataError(f"{class_dir.path}: class folder has no images")
            class_folders[name][class_dir.name] = len(images)
            class_sets[name].add(label)
            for e in images:
                st = e.stat()
                files.append(FileEntry(e.path, label, group_index, st.st_size, st.st_mtime_ns))
    if ignored - seen_ignored:
        raise DataError(f"{root}: no class folder named {', '.join(sorted(ignored - seen_ignored))} to ignore")
    if len(class_sets) > 1:
        reference_name = ordered[0]
        reference = class_sets[reference_name]
        for name, found in class_sets.items():
            if found != reference:
                missing = ", ".join(task.classes[i] for i in sorted(reference - found)) or "-"
                extra = ", ".join(task.classes[i] for i in sorted(found - reference)) or "-"
                raise DataError(
                    f"{root}: splits have different classes: {name} lacks [{missing}] and has extra [{extra}] "
                    f"compared with {reference_name}"
                )
    group_paths = tuple(str(root) if n == UNSPLIT else groups[n][0].path for n in ordered)
    return FolderScan(root, tuple(ordered), group_paths, tuple(files), class_folders)


def read_image(path: str) -> tuple[np.ndarray, tuple[int, int, int]] | None:
    """Read one file as an 8-bit OpenCV image (gray ``(H, W)``, BGR or BGRA) and its stored ``(H, W, C)``;
    ``None`` when it is unreadable or not an image."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except (OSError, cv2.error):
        return None
    if image is None or image.size == 0:
        return None
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        return None
    height, width = image.shape[:2]
    seen = 1 if image.ndim == 2 else image.shape[2]
    if image.ndim == 3 and image.shape[2] in (1, 2):  # gray (+ alpha)
        image = image[:, :, 0]
    return image, (height, width, seen)


Prepare = Callable[[int, np.ndarray], np.ndarray]  # (file index, decoded image) -> model input


def decode_image(
    path: str, image_size: int, channels: int, prepare: Callable[[np.ndarray], np.ndarray] | None = None
) -> tuple[np.ndarray, tuple[int, int, int]] | None:
    """Read and decode one file to model input (``prepare``, e.g. a face crop, instead of ``to_model_input``);
    ``None`` when it is unreadable or not an image."""
    read = read_image(path)
    if read is None:
        return None
    image, stored = read
    try:
        return (to_model_input(image, image_size, channels) if prepare is None else prepare(image)), stored
    except cv2.error:
        return None


def decode_files(
    paths: list[str],
    image_size: int,
    channels: int,
    advance: Callable[[int], None] | None = None,
    prepare: Prepare | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode ``paths`` in parallel into ``(images, sizes, ok)``; ``ok[i]`` is False for a skipped file.

    ``prepare(i, image)`` replaces ``to_model_input`` for file ``i`` (the face-crop path of ``--detect``)."""
    n = len(paths)
    images = np.zeros((n, image_size, image_size, channels), dtype=np.uint8)
    sizes = np.zeros((n, 3), dtype=np.int32)
    ok = np.zeros(n, dtype=bool)

    def work(lo: int, hi: int) -> int:
        for i in range(lo, hi):
            one = None if prepare is None else (lambda image, i=i: prepare(i, image))
            decoded = decode_image(paths[i], image_size, channels, one)
            if decoded is not None:
                images[i], sizes[i] = decoded
                ok[i] = True
        return hi - lo

    workers = max(1, min(8, 2 * (os.cpu_count() or 1)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(work, lo, min(lo + CHUNK, n)) for lo in range(0, n, CHUNK)]
        for future in as_completed(futures):
            done = future.result()
            if advance is not None:
                advance(done)
    return images, sizes, ok


def load_folder(
    scan: FolderScan, task: Task, advance: Callable[[int], None] | None = None, prepare: Prepare | None = None
) -> RawData:
    """Decode every file of ``scan`` (through ``prepare`` when given, see ``decode_files``); skipped files are
    dropped and named in ``RawData.skipped``."""
    paths = [f.path for f in scan.files]
    images, sizes, ok = decode_files(paths, task.image_size, task.channels, advance, prepare)
    labels = np.fromiter((f.label for f in scan.files), dtype=np.int32, count=len(paths))
    groups = np.fromiter((f.group for f in scan.files), dtype=np.int8, count=len(paths))
    skipped = tuple(p for p, good in zip(paths, ok, strict=True) if not good)
    for g in range(len(scan.group_names)):
        in_group = groups == g
        for label in np.unique(labels[in_group]):
            if not ok[in_group & (labels == label)].any():
                raise DataError(f"{scan.group_paths[g]}: no readable images for class {task.classes[label]}")
    rel_paths = tuple(os.path.relpath(p, scan.root).replace(os.sep, "/") for p in paths)
    if not ok.all():
        images, labels, groups, sizes = images[ok], labels[ok], groups[ok], sizes[ok]
        rel_paths = tuple(p for p, good in zip(rel_paths, ok, strict=True) if good)
    return RawData(
        images=images,
        labels=labels,
        groups=groups,
        group_names=scan.group_names,
        sizes=sizes,
        skipped=skipped,
        extra={"layout": "splits" if scan.group_names != (UNSPLIT,) else "classes",
               "class_folders": scan.class_folders},
        paths=rel_paths,  # aligned with images: filtered by the same mask
    )  # fmt: skip
