"""Pack ../shared/data into two small files that fit the GPU machine's 64 MiB transfer limit.

    python bench/gpu/pack_data.py --out .gpu/data          # here, once
    python bench/gpu/unpack_data.py .gpu/data /tmp/data    # there: folders `facesweep --data` reads

FER-2013 train/ is re-encoded as JPEG quality 90 (mean absolute pixel error 2.5 of 255; the originals are 60 MB).
val/ is stored losslessly (WebP, written back as PNG there) so model selection sees the real PublicTest pixels.
Reported accuracies are always re-measured here, on the original files. The gender set is resized to 96 px (the
gender task's input size) at JPEG quality 90.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def pack_folder(root: Path, quality: int | None, size: int | None, flags: int) -> dict[str, np.ndarray]:
    blobs, offsets, labels, names = [], [0], [], []
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    for label, cls in enumerate(classes):
        for path in sorted((root / cls).iterdir()):
            image = cv2.imread(str(path), flags)
            if image is None:
                continue
            if size is not None:
                image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
            ext, params = (
                (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101])
                if quality is None
                else (".jpg", [cv2.IMWRITE_JPEG_QUALITY, quality])
            )
            blob = cv2.imencode(ext, image, params)[1].tobytes()
            blobs.append(np.frombuffer(blob, np.uint8))
            offsets.append(offsets[-1] + len(blob))
            labels.append(label)
            names.append(path.stem)
    return {
        "blob": np.concatenate(blobs),
        "offsets": np.asarray(offsets, np.int64),
        "labels": np.asarray(labels, np.int32),
        "classes": np.asarray(classes),
        "names": np.asarray(names),
        "ext": np.asarray(".webp" if quality is None else ".jpg"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(".gpu/data"))
    parser.add_argument("--fer-quality", type=int, default=90)
    parser.add_argument("--gender", action="store_true", help="also pack the gender set")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [
        ("fer2013-train", SHARED / "fer2013" / "train", args.fer_quality, None, cv2.IMREAD_GRAYSCALE),
        ("fer2013-val", SHARED / "fer2013" / "val", None, None, cv2.IMREAD_GRAYSCALE),
    ]
    if args.gender:
        jobs.append(("gender", SHARED / "gender", 90, 96, cv2.IMREAD_COLOR))
    for name, root, quality, size, flags in jobs:
        packed = pack_folder(root, quality, size, flags)
        np.savez(args.out / f"{name}.npz", **packed)
        print(f"{name}: {len(packed['labels'])} images, {packed['blob'].nbytes / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
