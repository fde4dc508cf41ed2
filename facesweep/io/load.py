"""``load_dataset``: one entry point for every source (synthetic, image folders, FER-2013 CSV), cached.

    from facesweep.io import load_dataset
    data = load_dataset("emotion", "~/fer2013")        # folders: train/ + val/ (or validation/, test/)
    data = load_dataset("gender", "~/gender", seed=1)  # ROOT/<class>/*: seeded stratified train/val split
    data = load_dataset("emotion")                     # the embedded synthetic faces
    data = load_dataset("gender", "~/photos", detect=True)  # the largest face of each image, aligned (faces.crop)

The split policy is in ``facesweep.io.raw``; the cache in ``facesweep.io.cache``; ``detect`` in
``facesweep.io.crops``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from facesweep.errors import DataError
from facesweep.faces.align import DEFAULT_TEMPLATE
from facesweep.faces.crop import STATUSES, CropSpec
from facesweep.io import cache as cache_mod
from facesweep.io.crops import FileFaces, choose_template, crop_preparer, detect_files, drop_faceless
from facesweep.io.csvfile import load_csv
from facesweep.io.dataset import Dataset
from facesweep.io.folders import FolderScan, load_folder, scan_folder
from facesweep.io.preprocess import PREPROCESS_VERSION
from facesweep.io.raw import RawData, to_dataset
from facesweep.io.split import check_val_fraction
from facesweep.io.synthetic import DIFFICULTY, GENERATOR_VERSION, POSE, source_name, synthetic_raw
from facesweep.tasks import Task, get_task

SYNTHETIC_TRAIN, SYNTHETIC_VAL, SYNTHETIC_SEED = 7000, 1500, 0  # the embedded default set


def resolve_task(task: Task | str, image_size: int | None = None, channels: int | None = None) -> Task:
    """A preset name or ``Task``, with size and channels optionally overridden."""
    if isinstance(task, str):
        return get_task(task, image_size, channels)
    base = get_task(task.name, image_size, channels) if task.name in ("emotion", "gender") else task
    return replace(task, image_size=base.image_size if image_size else task.image_size,
                   channels=base.channels if channels else task.channels)  # fmt: skip


@contextmanager
def _progress(enabled: bool, total: int | None, label: str) -> Iterator[Callable[[int], None] | None]:
    """A transient rich progress bar on stderr while decoding; yields its ``advance(n)`` or ``None``."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        handle = bar.add_task(label, total=total)
        yield lambda n: bar.advance(handle, n)


def _cached(
    use_cache: bool, kind: str, ident: list, fingerprint: object, build: Callable[[], RawData]
) -> tuple[RawData, str]:
    """``build()`` unless a valid cache entry exists; returns the data and "hit", "miss" or "off"."""
    if not use_cache:
        return build(), "off"
    path = cache_mod.entry_path(kind, ident)
    key = cache_mod.digest(fingerprint)
    entry = cache_mod.load_entry(path, key)
    if entry is not None:
        return RawData.from_cache(*entry), "hit"
    raw = build()
    cache_mod.save_entry(path, key, raw.to_arrays(), raw.to_extra())
    return raw, "miss"


def load_dataset(
    task: Task | str,
    data: str | Path | None = None,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    image_size: int | None = None,
    channels: int | None = None,
    cache: bool = True,
    whole: bool = False,
    progress: bool = False,
    ignore_classes: Sequence[str] = (),
    detect: bool | CropSpec = False,
) -> Dataset:
    """Load ``data`` (``None`` = synthetic faces, a folder, or a FER-2013 CSV) prepared for ``task``.

    ``val_fraction`` and ``seed`` drive the stratified split made when the source has no val split;
    ``whole=True`` makes no split (an unsplit source becomes one split named "test"). ``progress`` shows a
    progress bar on stderr while decoding a cold load. ``ignore_classes`` names class folders to leave out (image
    folders only). ``detect`` (True = ``CropSpec()``: the bundled YuNet) runs every image through the face crop
    path: the largest face, aligned on ``detect.template`` or, when that is None, on the template measured on
    the training split (``facesweep.io.crops``); images with no face are dropped after the split and counted in
    ``dataset.info["faces"]`` (image folders only). Raises ``DataError`` for a source it cannot use.
    """
    spec = CropSpec() if detect is True else (detect or None)
    task = resolve_task(task, image_size, channels)
    check_val_fraction(val_fraction)
    if spec is not None and (data is None or not Path(data).expanduser().is_dir()):
        raise DataError(f"{data or 'the synthetic set'}: face detection (--detect) needs a folder of images")
    if ignore_classes and (data is None or not Path(data).expanduser().is_dir()):
        raise DataError(f"{data or 'the synthetic set'}: ignoring class folders needs a folder of class folders")
    prep = [task.name, list(task.classes), task.image_size, task.channels, PREPROCESS_VERSION]
    if data is None:
        ident = ["synthetic", *prep, SYNTHETIC_TRAIN, SYNTHETIC_VAL, SYNTHETIC_SEED, DIFFICULTY, POSE,
                 GENERATOR_VERSION]  # fmt: skip

        def build_synthetic() -> RawData:
            with _progress(progress, None, "drawing synthetic faces"):
                return synthetic_raw(task, SYNTHETIC_TRAIN, SYNTHETIC_VAL, SYNTHETIC_SEED, DIFFICULTY, POSE)

        raw, hit = _cached(cache, "synthetic", ident, ident, build_synthetic)
        source, where = source_name(SYNTHETIC_SEED, DIFFICULTY, POSE), "synthetic"
    else:
        path = Path(data).expanduser()
        if not path.exists():
            raise DataError(f"{path}: no such file or folder")
        where = str(path)
        if path.is_dir():
            scan = scan_folder(path, task, ignore=ignore_classes)

            if spec is not None:
                dataset = _load_faces(scan, task, spec, prep, cache, progress, path, val_fraction, seed, whole)
                return dataset

            def build_folder() -> RawData:
                with _progress(progress, len(scan.files), f"decoding {len(scan.files):,} images") as advance:
                    return load_folder(scan, task, advance)

            ident = ["folders", str(path.resolve()), *prep]
            raw, hit = _cached(cache, "folders", ident, scan.fingerprint(), build_folder)
            source = f"folders {path}"
        elif path.suffix.lower() == ".csv":
            stat = path.stat()

            def build_csv() -> RawData:
                with _progress(progress, None, f"parsing {path.name}") as advance:
                    return load_csv(path, task, advance)

            ident = ["csv", str(path.resolve()), *prep]
            raw, hit = _cached(cache, "csv", ident, [stat.st_size, stat.st_mtime_ns], build_csv)
            source = f"csv {path}"
        else:
            raise DataError(f"{path}: not a folder of class folders or a .csv file")
    dataset = to_dataset(raw, task, source, val_fraction=val_fraction, seed=seed, whole=whole, where=where)
    dataset.info["cache"] = hit
    return dataset


def _load_faces(
    scan: FolderScan,
    task: Task,
    spec: CropSpec,
    prep: list,
    use_cache: bool,
    progress: bool,
    path: Path,
    val_fraction: float,
    seed: int,
    whole: bool,
) -> Dataset:
    """``load_dataset`` for an image folder through the face crop path (``facesweep.io.crops``)."""
    paths = [f.path for f in scan.files]
    detector = spec.key()["detector"]
    finder = {k: v for k, v in spec.key().items() if k != "template"}
    root = str(path.resolve())

    def find() -> FileFaces:
        with _progress(progress, len(paths), f"finding faces in {len(paths):,} images") as advance:
            return detect_files(paths, spec, advance)

    faces, faces_hit = _cached_arrays(use_cache, "faces", ["faces", root, finder], [scan.fingerprint(), finder],
                                      find, FileFaces.from_arrays)  # fmt: skip
    readable = faces.status >= 0
    template, measured = spec.template, False
    if template is None:
        template = choose_template(faces, _train_files(scan, faces, readable, task, val_fraction, seed, whole),
                                   f"{path.name} training split ({task.image_size}x{task.image_size})",
                                   detector["name"])  # fmt: skip
        measured = template is not DEFAULT_TEMPLATE
    prepare = crop_preparer(faces, template, task.image_size, task.channels, detector["name"])

    def build() -> RawData:
        with _progress(progress, len(paths), f"cropping {len(paths):,} faces") as advance:
            return load_folder(scan, task, advance, prepare)

    ident = ["folders-faces", root, *prep, finder, template.to_dict()]
    raw, hit = _cached(use_cache, "folders", ident, scan.fingerprint(), build)
    dataset = to_dataset(raw, task, f"folders {path} (faces: {detector['name']})", val_fraction=val_fraction,
                         seed=seed, whole=whole, where=str(path))  # fmt: skip
    status_of = {
        os.path.relpath(p, scan.root).replace(os.sep, "/"): STATUSES[s]
        for p, s in zip(paths, faces.status, strict=True)
        if s >= 0
    }
    by_split = {
        name: {s: sum(status_of.get(p) == s for p in split.paths or ()) for s in STATUSES}
        for name, split in dataset.splits.items()
    }
    none_paths = sorted(p for p, s in status_of.items() if s == "none")
    dataset = drop_faceless(dataset, set(none_paths))
    dataset.info["cache"] = hit if faces_hit == hit else f"{hit} (detections: {faces_hit})"
    dataset.info["faces"] = {
        "detector": detector,
        "template": template.to_dict(),
        "template_measured": measured,
        "counts": {s: sum(c[s] for c in by_split.values()) for s in STATUSES},
        "by_split": by_split,
        "none_paths": none_paths,
    }
    return dataset


def _cached_arrays(
    use_cache: bool, kind: str, ident: list, fingerprint: object, build: Callable[[], object], load: Callable
) -> tuple:
    """``_cached`` for any object with ``to_arrays()`` rebuilt by ``load(arrays)``."""
    if not use_cache:
        return build(), "off"
    path, key = cache_mod.entry_path(kind, ident), cache_mod.digest(fingerprint)
    entry = cache_mod.load_entry(path, key)
    if entry is not None:
        return load(entry[0]), "hit"
    value = build()
    cache_mod.save_entry(path, key, value.to_arrays())  # type: ignore[attr-defined]
    return value, "miss"


def _train_files(
    scan: FolderScan, faces: FileFaces, readable: np.ndarray, task: Task, val_fraction: float, seed: int, whole: bool
) -> np.ndarray:
    """Indices (into ``scan.files``) of the training split ``to_dataset`` will make; all files when ``whole``."""
    files = np.flatnonzero(readable)
    if whole:
        return files
    index_raw = RawData(
        images=files.reshape(-1, 1, 1, 1),  # the split machinery only indexes images: carry file indices through it
        labels=np.fromiter((scan.files[i].label for i in files), np.int32, len(files)),
        groups=np.fromiter((scan.files[i].group for i in files), np.int8, len(files)),
        group_names=scan.group_names,
        sizes=np.zeros((len(files), 3), np.int32),
    )
    split = to_dataset(index_raw, task, "", val_fraction=val_fraction, seed=seed, whole=False, where=str(scan.root))
    return np.sort(split.train.images.ravel())
