"""Pack ../shared/data into small .npz files that fit the GPU machine's 64 MiB transfer limit (tree included).

    python bench/gpu/pack_data.py --out .gpu/data          # FER-2013 only, here, once
    python bench/gpu/pack_data.py --gender-extra --gender-diverse --gender-size 48 --gray   # + issue 19's sets
    python bench/gpu/pack_data.py --limit 40 --gender-extra --gender-diverse --gender-size 48 --gray --out /tmp/p
    python bench/gpu/unpack_data.py .gpu/data /tmp/data    # there: folders `facesweep --data` reads

Every image is stored once, lossy WebP unless said (at the same mean absolute pixel error WebP is about 40% smaller
than JPEG for 48 px faces: FER-2013 train at WebP 75 is ~23 MB, JPEG 90 was 43 MB). FER-2013 val/ keeps its
original bytes, so model selection sees the real PublicTest pixels. The gender sets are shrunk so their longer side
is ``--gender-size`` (aspect kept, so the face detector of the crop path sees undistorted faces), colour or
``--gray`` (the gender model is 48x48 gray, fine-tuned from the expression trunk). gender-diverse keeps UTKFace's
file names (age_gender_race, the groups) and its manifest rows. domain-dev is never packed: measuring only.
Reported accuracies are always re-measured here, on the original files. The last line says what the whole
call would carry (tracked files + .whl + OUT) against the 64 MiB limit, and the exit code is 1 when it is over.
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"
LIMIT_BYTES = 64 * 2**20  # what the device tool carries in one call: tree + carried paths


@dataclass(frozen=True)
class PackSpec:
    name: str  # the .npz name; unpack_data.LAYOUT maps it to a folder
    source: Path
    quality: int | None  # WebP quality 1..100; None = the original file bytes
    size: int | None = None  # longer side in pixels (only ever shrunk); None = as is
    gray: bool = False
    manifest: bool = False  # keep manifest.csv's rows of the packed files


def encode(path: Path, spec: PackSpec) -> bytes | None:
    if spec.quality is None:
        return path.read_bytes()
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        return None
    if spec.gray:  # the loaders' conversion (to_model_input), so the gray pixels are theirs
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = image.shape[:2]
    if spec.size is not None and max(h, w) > spec.size:
        scale = spec.size / max(h, w)
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, spec.quality])[1].tobytes()


def pack_folder(spec: PackSpec, limit: int | None = None) -> dict[str, np.ndarray]:
    """Each class folder's images (``limit`` of them a class, evenly spaced by name, if given) as one blob."""
    blobs, offsets, labels, names = [], [0], [], []
    classes = sorted(p.name for p in spec.source.iterdir() if p.is_dir())
    for label, cls in enumerate(classes):
        paths = sorted((spec.source / cls).iterdir())
        for path in paths[:: max(1, len(paths) // limit)][:limit] if limit else paths:
            blob = encode(path, spec)
            if blob is None:
                continue
            blobs.append(np.frombuffer(blob, np.uint8))
            offsets.append(offsets[-1] + len(blob))
            labels.append(label)
            names.append(path.name if spec.quality is None else path.stem)
    packed = {
        "blob": np.concatenate(blobs),
        "offsets": np.asarray(offsets, np.int64),
        "labels": np.asarray(labels, np.int32),
        "classes": np.asarray(classes),
        "names": np.char.encode(np.asarray(names), "utf-8"),  # bytes: 1 a character, not unicode's 4
        "ext": np.asarray("" if spec.quality is None else ".webp"),  # "": names carry their own extension
    }
    if spec.manifest:
        packed["manifest"] = manifest_rows(spec.source / "manifest.csv", classes, labels, names)
    return packed


def manifest_rows(path: Path, classes: list[str], labels: list[int], names: list[str]) -> np.ndarray:
    """manifest.csv's rows of the packed images (matched by class/stem), as CSV text with the original paths."""
    packed = {f"{classes[label]}/{name}" for label, name in zip(labels, names, strict=True)}
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [r for r in reader if r["path"].rsplit(".", 1)[0] in packed]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return np.frombuffer(out.getvalue().encode(), np.uint8)


def carried_bytes(out: Path) -> int:
    """What one device call would carry: tracked + untracked-not-ignored files, .whl and OUT."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")  # fmt: skip
    tree = sum((ROOT / p).stat().st_size for p in listed if p and (ROOT / p).is_file())
    extra = [p for folder in (ROOT / ".whl", out) if folder.is_dir() for p in folder.rglob("*") if p.is_file()]
    return tree + sum(p.stat().st_size for p in extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(".gpu/data"))
    parser.add_argument("--data", type=Path, default=SHARED, help="the shared data folder (default: ../shared/data)")
    parser.add_argument("--fer-quality", type=int, default=75, help="FER-2013 train's WebP quality (default: 75)")
    parser.add_argument("--no-fer", action="store_true", help="leave FER-2013 out")
    parser.add_argument("--gender", action="store_true", help="also pack gender/ (implied by the two below)")
    parser.add_argument("--gender-extra", action="store_true", help="also pack gender-extra/ (issue 19)")
    parser.add_argument("--gender-diverse", action="store_true", help="also pack gender-diverse/ + manifest")
    parser.add_argument("--gender-size", type=int, default=96, help="gender sets' longer side, px (default: 96)")
    parser.add_argument("--gray", action="store_true", help="gender sets in gray (the 48x48 gray gender model)")
    parser.add_argument("--gender-quality", type=int, default=75, help="gender sets' WebP quality (default: 75)")
    parser.add_argument("--limit", type=int, help="at most N images a class folder (smoke runs)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    specs = []
    if not args.no_fer:
        specs += [PackSpec("fer2013-train", args.data / "fer2013" / "train", args.fer_quality),
                  PackSpec("fer2013-val", args.data / "fer2013" / "val", None)]  # fmt: skip
    gender = dict(quality=args.gender_quality, size=args.gender_size, gray=args.gray)
    wanted = {"gender": args.gender or args.gender_extra or args.gender_diverse,
              "gender-extra": args.gender_extra, "gender-diverse": args.gender_diverse}  # fmt: skip
    specs += [PackSpec(name, args.data / name, **gender, manifest=name == "gender-diverse")
              for name, want in wanted.items() if want]  # fmt: skip
    total = 0
    for spec in specs:
        packed = pack_folder(spec, args.limit)
        path = args.out / f"{spec.name}.npz"
        np.savez_compressed(path, **packed)  # the names and the manifest shrink; the WebP blob does not
        total += path.stat().st_size
        what = "original bytes" if spec.quality is None else f"WebP {spec.quality}"
        shape = f", longer side {spec.size} px{' gray' if spec.gray else ''}" if spec.size else ""
        print(f"{spec.name}: {len(packed['labels'])} images, {what}{shape}: {path.stat().st_size / 1e6:.1f} MB")
    carried = carried_bytes(args.out)
    print(f"packed {total / 1e6:.1f} MB; a device call carrying the tree, .whl and {args.out}: "
          f"{carried / 2**20:.1f} of {LIMIT_BYTES / 2**20:.0f} MiB")  # fmt: skip
    if carried > LIMIT_BYTES:
        raise SystemExit(f"over the device tool's {LIMIT_BYTES / 2**20:.0f} MiB: lower --fer-quality or "
                         "--gender-quality, or pack fewer sets")  # fmt: skip


if __name__ == "__main__":
    main()
