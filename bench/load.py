"""Cold and warm load times of FER-2013 (and the synthetic set) through ``facesweep.io.load_dataset``.

    python bench/load.py                       # ../shared/data/fer2013, 5 warm runs
    python bench/load.py --data PATH --warm 7

Cold = an empty cache dir (a fresh temporary ``FACESWEEP_CACHE_DIR``), so every image is decoded; the OS
page cache is not dropped, so "cold" measures decoding, not the disk. Warm = the median of ``--warm`` loads
that hit the cache. Each load runs in a fresh process so imports and earlier loads do not flatter it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013"

_ONE_LOAD = """
import json, sys, time
start = time.perf_counter()
from facesweep.io import load_dataset
imported = time.perf_counter()
data = load_dataset(sys.argv[1], None if sys.argv[2] == "-" else sys.argv[2])
done = time.perf_counter()
print(json.dumps({"load_s": done - imported, "import_s": imported - start, "cache": data.info["cache"],
                  "sizes": {name: len(split) for name, split in data.splits.items()}}))
"""


def time_one_load(task: str, data: str, cache_dir: str) -> dict:
    env = dict(os.environ, FACESWEEP_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", _ONE_LOAD, task, data], env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr.strip().splitlines()[-1])
    return json.loads(out.stdout)


def bench(task: str, data: str, warm_runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="facesweep-bench-cache-") as cache_dir:
        cold = time_one_load(task, data, cache_dir)
        assert cold["cache"] == "miss", cold
        warm = [time_one_load(task, data, cache_dir) for _ in range(warm_runs)]
        assert all(w["cache"] == "hit" for w in warm), warm
    return {
        "task": task,
        "data": data,
        "sizes": cold["sizes"],
        "cold_s": round(cold["load_s"], 2),
        "warm_median_s": round(statistics.median(w["load_s"] for w in warm), 3),
        "warm_runs": warm_runs,
        "import_s": round(statistics.median(w["import_s"] for w in warm), 2),
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder or CSV to load (default: FER-2013)")
    parser.add_argument("--task", default="emotion")
    parser.add_argument("--warm", type=int, default=5, help="warm loads; the median is reported")
    parser.add_argument("--synthetic", action="store_true", help="also time drawing the synthetic set")
    args = parser.parse_args()
    rows = [bench(args.task, args.data, args.warm)]
    if args.synthetic:
        rows.append(bench(args.task, "-", args.warm))
    for row in rows:
        print(
            f"{row['task']:8} {row['data']}: {row['sizes']}  cold {row['cold_s']:.2f} s  "
            f"warm {row['warm_median_s']:.3f} s (median of {row['warm_runs']})  "
            f"[import {row['import_s']:.2f} s, {row['cpus']} CPUs]"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
