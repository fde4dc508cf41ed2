"""bench/gpu's data packing: what the GPU machine unpacks is what facesweep reads here, and gender-diverse splits
the same way there as here (bench/cpu/split_diverse.py), so the device's validation split is ours."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _shared(root: Path) -> None:
    """A tiny ../shared/data: FER-2013 (48 px gray), gender/, gender-diverse (UTKFace names, a manifest)."""
    rng = np.random.default_rng(0)
    for part in ("train", "val"):
        for cls in ("happy", "sad"):
            (root / "fer2013" / part / cls).mkdir(parents=True)
            for i in range(3):
                cv2.imwrite(str(root / "fer2013" / part / cls / f"{i}.jpg"), rng.integers(0, 255, (48, 48), np.uint8))
    rows = []
    for gender, code in (("man", 0), ("woman", 1)):
        (root / "gender" / gender).mkdir(parents=True)
        cv2.imwrite(str(root / "gender" / gender / "a.jpg"), rng.integers(0, 255, (200, 160, 3), np.uint8))
        (root / "gender-diverse" / gender).mkdir(parents=True)
        for i in range(12):
            age, race = (20, 70)[i % 2], (i // 2) % 2  # 4 cells of 3 a gender: every cell has a val image
            name = f"{age}_{code}_{race}_2017011{i:02d}.jpg"
            cv2.imwrite(str(root / "gender-diverse" / gender / name), rng.integers(0, 255, (96, 80, 3), np.uint8))
            rows.append({"path": f"{gender}/{name}", "age": age, "gender": gender, "race": race, "source": name})
    with open(root / "gender-diverse" / "manifest.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_packed_sets_unpack_to_folders_and_split_as_here(tmp_path):
    shared, packed, data = tmp_path / "shared", tmp_path / "packed", tmp_path / "data"
    _shared(shared)
    run = subprocess.run(
        [sys.executable, str(BENCH / "gpu" / "pack_data.py"), "--data", str(shared), "--out", str(packed),
         "--gender-diverse", "--gender-size", "48", "--gray", "--limit", "10"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "gender-diverse: 20 images, WebP 75, longer side 48 px gray" in run.stdout
    assert "of 64 MiB" in run.stdout.splitlines()[-1]
    written = _module(BENCH / "gpu" / "unpack_data.py").unpack(packed, data)
    assert written == {"fer2013-train": 6, "fer2013-val": 6, "gender": 2, "gender-diverse": 20}

    # FER-2013 val travels as its original bytes; the gender sets as gray WebP, longer side 48, aspect kept.
    for path in (shared / "fer2013" / "val").rglob("*.jpg"):
        assert (data / path.relative_to(shared)).read_bytes() == path.read_bytes()
    image = cv2.imread(str(next((data / "gender-diverse" / "woman").glob("*.webp"))), cv2.IMREAD_UNCHANGED)
    assert image.shape[:2] == (48, 40)  # WebP decodes to 3 equal channels: the loaders' gray is the packed gray
    assert np.array_equal(image[..., 0], image[..., 2])

    # The manifest keeps the packed rows, renamed to the packed files; the split there is the split here.
    split = _module(BENCH / "cpu" / "split_diverse.py").write_split
    with open(data / "gender-diverse" / "manifest.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 20 and all((data / "gender-diverse" / r["path"]).is_file() for r in rows)
    kept = {r["path"].rsplit(".", 1)[0] for r in rows}
    original = tmp_path / "original"
    (original / "man").mkdir(parents=True)
    (original / "woman").mkdir()
    with open(shared / "gender-diverse" / "manifest.csv", newline="") as handle:
        source = [r for r in csv.DictReader(handle) if r["path"].rsplit(".", 1)[0] in kept]
    for r in source:
        (original / r["path"]).symlink_to(shared / "gender-diverse" / r["path"])
    with open(original / "manifest.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(source[0]))
        writer.writeheader()
        writer.writerows(source)
    here = split(original, tmp_path / "split-here")
    there = split(data / "gender-diverse", tmp_path / "split-there")
    assert here["n"] == there["n"] and here["n"]["val"] >= 4
    stems = [sorted(p.stem for p in (tmp_path / d / "val").rglob("*.*")) for d in ("split-here", "split-there")]
    assert stems[0] == stems[1]
