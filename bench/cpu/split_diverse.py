"""Make the seeded gender-diverse train/val split, stratified by gender x age band x race code (issue 19).

    python bench/cpu/split_diverse.py                       # -> runs/data/gender-diverse/{train,val}/{man,woman}/

``load_dataset``'s own split of a bare folder is stratified by class only; the group audit needs every
(gender, age band, race code) cell in both parts, so this split draws ``round(0.2 * n)`` of each cell (seed 0,
at least one of a cell of two or more) into val. The images are not copied: the split is a tree of symbolic
links into ``../shared/data/gender-diverse`` that keeps UTKFace's file names, so ``facesweep evaluate --data
runs/data/gender-diverse --split val --groups-from-name ...`` audits it and ``load_dataset`` reads its
``train/``/``val/`` folders as given. Same seed, same data -> the same split (``split.json`` lists its counts).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np

from facesweep.io.split import stratified_split
from facesweep.model.select import AGE_EDGES

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gender-diverse"
OUT = Path(__file__).resolve().parents[2] / "runs" / "data" / "gender-diverse"


def age_band(age: int) -> str:
    k = int(np.searchsorted(AGE_EDGES, age, side="right")) - 1
    return f"{AGE_EDGES[k]}-{AGE_EDGES[k + 1] - 1}"


def write_split(data: Path, out: Path, val_fraction: float = 0.2, seed: int = 0) -> dict:
    """Write the split of ``data`` (a gender-diverse folder with manifest.csv) under ``out``; return its summary."""
    with open(data / "manifest.csv", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: r["path"])
    cells = [f"{r['gender']}|{age_band(int(r['age']))}|{r['race']}" for r in rows]
    codes = np.unique(cells, return_inverse=True)[1]
    train, val = stratified_split(codes, val_fraction, seed)
    counts: dict[str, Counter] = {}
    for part, index in (("train", train), ("val", val)):
        counts[part] = Counter(cells[i].rsplit("|", 1)[0] for i in index)
        for i in index:
            link = out / part / rows[i]["path"]
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.is_symlink() or link.exists():
                link.unlink()
            os.symlink((data / rows[i]["path"]).resolve(), link)
    summary = {"data": str(data), "seed": seed, "val_fraction": val_fraction,
               "strata": "gender x age band x race code", "age_edges": list(AGE_EDGES),
               "n": {p: int(len(ix)) for p, ix in (("train", train), ("val", val))},
               "gender_x_age_band": {p: dict(sorted(c.items())) for p, c in counts.items()}}  # fmt: skip
    (out / "split.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--val-fraction", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    summary = write_split(args.data, args.out, args.val_fraction, args.seed)
    print(json.dumps(summary["n"]), json.dumps(summary["gender_x_age_band"]["val"]))

if __name__ == "__main__":
    main()
