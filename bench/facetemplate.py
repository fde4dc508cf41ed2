"""Measure the face layer's constants on the real data in ../shared/data (the numbers hard-coded in facesweep/faces).

    python bench/facetemplate.py template --data ../shared/data/fer2013/train          # DEFAULT_TEMPLATE
    python bench/facetemplate.py boxes --n 300                                           # BOX_LANDMARKS
    python bench/facetemplate.py upscale --n 300                                         # SMALL / UPSCALE_TO
    python bench/facetemplate.py rates --n 300                                           # the cropper per data set

``template``: YuNet on every image (small ones upscaled as in the crop path), the median of each landmark
coordinate as fractions of the image side. ``boxes``: where YuNet's landmarks sit inside YuNet's and Haar's boxes
(faces found by both, IoU >= 0.4), medians. ``upscale``: YuNet's hit rate on 48x48 / 96 px crops at several
upscale targets. ``rates``: the cropper's face / whole / none counts and per-image cost on each data set.
Prints the CPU model; images are sampled with a fixed seed.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from facesweep.faces.crop import FaceCropper, largest
from facesweep.faces.detect import make_detector
from facesweep.faces.pixels import to_model_input
from facesweep.faces.template import landmark_fractions
from facesweep.live.track import iou

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
# The constants (template, box landmarks, upscale sizes) are measured on training sets only; domain-dev is for
# measuring cross-domain accuracy, so it appears only in ``rates`` (what the finished cropper does on each set).
TRAIN_SETS = {"fer2013/train": "fer2013/train", "gender": "gender", "gender-extra": "gender-extra"}
MEASURE_ONLY = {"fer2013/val": "fer2013/val", "ckplus": "domain-dev/ckplus", "taiwanese": "domain-dev/taiwanese"}
SETS = {**TRAIN_SETS, **MEASURE_ONLY}


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip() + f", {os.cpu_count()} cores"
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def image_files(root: Path, n: int | None, seed: int = 0) -> list[Path]:
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTS)
    if n is not None and n < len(files):
        files = random.Random(seed).sample(files, n)
    return files


def read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is not None and image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def in_threads(fn, items, threads: int = 2):
    """Split ``items`` into ``threads`` chunks, each handled with its own detector by ``fn(chunk)``."""
    chunks = [items[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fn, chunks))


def cmd_template(args: argparse.Namespace) -> None:
    if "domain-dev" in Path(args.data).resolve().parts:  # constants come from training sets only
        sys.exit("template --data: domain-dev is for measuring cross-domain accuracy only (use it with 'rates')")
    files = image_files(Path(args.data), args.n)
    t0 = time.perf_counter()
    parts = in_threads(lambda chunk: landmark_fractions((read(p) for p in chunk), make_detector()), files)
    fractions = np.concatenate(parts)
    median = np.median(fractions, axis=0)
    iqr = np.percentile(fractions, 75, axis=0) - np.percentile(fractions, 25, axis=0)
    print(f"{len(fractions)} of {len(files)} images with a face ({len(fractions) / len(files):.1%}), "
          f"{time.perf_counter() - t0:.0f} s")
    for name, (x, y), (ix, iy) in zip(
        ("right_eye", "left_eye", "nose_tip", "right_mouth", "left_mouth"), median, iqr, strict=True
    ):
        print(f"  {name:12s} x {x:.4f} y {y:.4f}   (IQR {ix:.4f}, {iy:.4f})")
    print("points=(" + ", ".join(f"({x:.4f}, {y:.4f})" for x, y in median) + f"), n={len(fractions)}")


def cmd_boxes(args: argparse.Namespace) -> None:
    files = [f for key in ("gender", "fer2013/train") for f in image_files(DATA / TRAIN_SETS[key], args.n)]

    def chunk_geometry(chunk):
        yunet = FaceCropper(make_detector("yunet"))
        haar = FaceCropper(make_detector("haar", min_face=24))
        rel = {"yunet": [], "haar": []}
        for path in chunk:
            image = read(path)
            y = largest(yunet.detect(image))
            if y is None:
                continue
            marks = y.landmarks.astype(np.float64)
            h = largest(haar.detect(image))
            for name, d in (("yunet", y), ("haar", h)):
                if d is None or iou(d.box, y.box) < 0.4:
                    continue
                x0, y0, w, hh = d.box
                rel[name].append((marks - [x0, y0]) / [w, hh])
        return rel

    parts = in_threads(chunk_geometry, files)
    for name in ("yunet", "haar"):
        rel = np.asarray([r for p in parts for r in p[name]])
        median = np.median(rel, axis=0)
        print(f"{name}: {len(rel)} faces; landmarks as fractions of the box:")
        print('  "' + name + '": (' + ", ".join(f"({x:.3f}, {y:.3f})" for x, y in median) + "),")


def cmd_upscale(args: argparse.Namespace) -> None:
    for key in TRAIN_SETS:
        files = image_files(DATA / TRAIN_SETS[key], args.n)
        images = [read(p) for p in files]
        for target in (0, 96, 120, 144, 192, 240):
            def hits(chunk, target=target):
                cropper = FaceCropper(make_detector(), upscale_to=max(1, target), small=10**6 if target else 0)
                return sum(bool(cropper.detect(im)) for im in chunk)

            t0 = time.perf_counter()
            found = sum(in_threads(hits, images))
            ms = (time.perf_counter() - t0) * 1000 / len(images) * 2
            print(f"{key:14s} upscale_to {target or 'native':>6}: {found / len(images):6.1%} faces, {ms:.1f} ms/img")


def cmd_rates(args: argparse.Namespace) -> None:
    for key, folder in SETS.items():
        files = image_files(DATA / folder, args.n)

        def statuses(chunk):
            cropper = FaceCropper(make_detector(), size=48, channels=1)
            out, t, t_ref = [], 0.0, 0.0
            for path in chunk:
                t0 = time.perf_counter()
                image = read(path)
                to_model_input(image, 48, 1)  # the reference: what loading costs without --detect
                t1 = time.perf_counter()
                out.append(cropper.crop_largest(image)[1])
                t += time.perf_counter() - t1
                t_ref += t1 - t0
            return out, t, t_ref

        parts = in_threads(statuses, files)
        got = [s for p in parts for s in p[0]]
        ms = sum(p[1] for p in parts) * 1000 / len(got)
        ref = sum(p[2] for p in parts) * 1000 / len(got)
        sizes = sorted({read(files[0]).shape[:2], read(files[-1]).shape[:2]})
        counts = {s: got.count(s) for s in ("face", "whole", "none")}
        print(f"{key:14s} n={len(got):4d} face {counts['face'] / len(got):6.1%} whole {counts['whole']:3d} "
              f"none {counts['none']:3d}  crop {ms:5.1f} ms/img = {ms / ref:4.1f}x decode+resize ({ref:.2f} ms)"
              f"  e.g. {sizes}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("template", "boxes", "upscale", "rates"):
        p = sub.add_parser(name)
        p.add_argument("--n", type=int, default=None if name == "template" else 300, help="images per set")
        p.add_argument("--data", default=str(DATA / "fer2013" / "train"))
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one detector per thread, two threads: the machine has two cores
    print(f"CPU: {cpu_model()}")
    {"template": cmd_template, "boxes": cmd_boxes, "upscale": cmd_upscale, "rates": cmd_rates}[args.command](args)


if __name__ == "__main__":
    main()
