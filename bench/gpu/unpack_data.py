"""Write the packed sets from pack_data.py back out as class folders (see pack_data.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

LAYOUT = {"fer2013-train": "fer2013/train", "fer2013-val": "fer2013/val", "gender": "gender"}


def main(src: Path, dst: Path) -> None:
    for name, rel in LAYOUT.items():
        path = src / f"{name}.npz"
        if not path.exists():
            continue
        with np.load(path, allow_pickle=False) as packed:
            blob, offsets, labels = packed["blob"], packed["offsets"], packed["labels"]
            classes, names, ext = packed["classes"], packed["names"], str(packed["ext"])
        for cls in classes:
            (dst / rel / str(cls)).mkdir(parents=True, exist_ok=True)
        for i, label in enumerate(labels):
            data = blob[offsets[i] : offsets[i + 1]]
            if ext == ".webp":  # lossless in transit; PNG on disk so every loader reads it
                cv2.imwrite(
                    str(dst / rel / str(classes[label]) / f"{names[i]}.png"), cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
                )
            else:
                (dst / rel / str(classes[label]) / f"{names[i]}{ext}").write_bytes(data.tobytes())
        print(f"{name}: {len(labels)} files -> {dst / rel}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
