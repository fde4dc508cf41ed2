"""Write the packed sets from pack_data.py back out as the class folders `facesweep --data` reads (see pack_data.py).

    python bench/gpu/unpack_data.py .gpu/data /tmp/data

Bytes are written as packed (the loaders read WebP); gender-diverse also gets its manifest.csv, its paths renamed
to the packed files, so ``bench/cpu/split_diverse.py``'s split of it is the split made here of the originals.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

LAYOUT = {
    "fer2013-train": "fer2013/train",
    "fer2013-val": "fer2013/val",
    "gender": "gender",
    "gender-extra": "gender-extra",
    "gender-diverse": "gender-diverse",
}


def unpack(src: Path, dst: Path) -> dict[str, int]:
    """Unpack every packed set found in ``src`` under ``dst``; return the images written per set."""
    written = {}
    for name, rel in LAYOUT.items():
        path = src / f"{name}.npz"
        if not path.exists():
            continue
        with np.load(path, allow_pickle=False) as packed:
            blob, offsets, labels = packed["blob"], packed["offsets"], packed["labels"]
            classes, ext = packed["classes"], str(packed["ext"])
            names = np.char.decode(packed["names"], "utf-8")
            manifest = packed["manifest"].tobytes().decode() if "manifest" in packed else None
        for cls in classes:
            (dst / rel / str(cls)).mkdir(parents=True, exist_ok=True)
        for i, label in enumerate(labels):
            (dst / rel / str(classes[label]) / f"{names[i]}{ext}").write_bytes(blob[offsets[i] : offsets[i + 1]])
        if manifest is not None:
            lines = manifest.splitlines()
            renamed = [lines[0]] + [_with_ext(line, ext) for line in lines[1:]]
            (dst / rel / "manifest.csv").write_text("\n".join(renamed) + "\n")
        written[name] = len(labels)
        print(f"{name}: {len(labels)} files -> {dst / rel}")
    return written


def _with_ext(row: str, ext: str) -> str:
    """A manifest row whose first field (the path) names the packed file's extension."""
    path, rest = row.split(",", 1)
    return f"{path.rsplit('.', 1)[0]}{ext}," + rest if ext else row


if __name__ == "__main__":
    unpack(Path(sys.argv[1]), Path(sys.argv[2]))
