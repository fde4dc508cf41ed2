"""Inference latency of the shipped models: XLA ``predict`` vs the exported ONNX graph in ONNX Runtime and in
OpenCV's ``cv2.dnn``, at batch 1, 2 and 4, in one process.

    pip install -e '.[bench]'                       # torch, unused here (onnxruntime is a core dependency)
    python bench/onnx_latency.py                    # both shipped models, 200 calls per runtime and batch
    python bench/onnx_latency.py --models emotion --calls 100 --batches 1 4 --json

Each call is timed end to end as a caller sees it: uint8 ``(N, 48, 48, 1)`` in, float32 probabilities out
(``predict`` includes its host-device copies; the ONNX runtimes include the NHWC uint8 -> NCHW float32 input
conversion). No TTA anywhere: this is the network's cost (with a model's flip TTA, double the batch). The three
runtimes take turns call by call, in a rotating order, so load spikes on a shared machine hit all of them alike;
each gets ``--warmup`` calls per batch size first (XLA compiles there). Reported: median and p95 milliseconds per
call, and each runtime's median as a ratio of XLA's in the same run. Threads: each runtime's default (XLA and
ONNX Runtime use every core; cv2.dnn ``cv2.getNumThreads()``), printed with the CPU model.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

from facesweep.io.synthetic import synthetic_raw  # noqa: E402
from facesweep.model.artifacts import load_model  # noqa: E402
from facesweep.model.export import INPUT_NAME, OpenCVPredictor, onnx_bytes, to_onnx_input  # noqa: E402
from facesweep.tasks import get_task  # noqa: E402

RUNTIMES = ("xla", "onnxruntime", "cv2.dnn")


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        out = ""
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def runners(name: str) -> dict:
    """One callable per runtime, each ``uint8 (N, H, W, C) -> float32 (N, K)`` probabilities, for ``name``."""
    import onnxruntime as ort

    model = load_model(f"pretrained:{name}")
    session = ort.InferenceSession(onnx_bytes(model), providers=["CPUExecutionProvider"])
    predictor = OpenCVPredictor(model, tta=False)
    return {
        "xla": lambda x: model.predict(x, tta=False),
        "onnxruntime": lambda x: session.run(None, {INPUT_NAME: to_onnx_input(x)})[0],
        "cv2.dnn": lambda x: predictor.predict(x, tta=False),
    }


def measure(name: str, batches: list[int], calls: int, warmup: int) -> list[dict]:
    fns = runners(name)
    task = get_task(name, image_size=48, channels=1)
    faces = synthetic_raw(task, n_train=0, n_val=max(batches) * 8, seed=0).images
    rows = []
    for batch in batches:
        inputs = [faces[i * batch : (i + 1) * batch] for i in range(8)]
        reference = fns["xla"](inputs[0])
        for runtime, fn in fns.items():
            for i in range(warmup):
                fn(inputs[i % 8])
            assert np.abs(fn(inputs[0]) - reference).max() < 1e-4, f"{runtime} disagrees with predict"
        times: dict[str, list[float]] = {r: [] for r in fns}
        for i in range(calls):
            order = RUNTIMES[i % 3 :] + RUNTIMES[: i % 3]  # rotate who goes first
            for runtime in order:
                x = inputs[i % 8]
                start = time.perf_counter()
                fns[runtime](x)
                times[runtime].append((time.perf_counter() - start) * 1e3)
        xla_median = statistics.median(times["xla"])
        for runtime in RUNTIMES:
            ms = np.array(times[runtime])
            rows.append({
                "model": name, "batch": batch, "runtime": runtime, "calls": calls,
                "median_ms": round(float(np.median(ms)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
                "ratio_to_xla": round(float(np.median(ms)) / xla_median, 2),
            })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["emotion", "gender"], choices=["emotion", "gender"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--calls", type=int, default=200, help="timed calls per runtime and batch size")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per runtime and batch size first")
    parser.add_argument("--json", action="store_true", help="also print the rows as one JSON object")
    args = parser.parse_args()

    import onnxruntime as ort

    env = {
        "cpu": cpu_model(),
        "cores": __import__("os").cpu_count(),
        "versions": {"jax": jax.__version__, "onnxruntime": ort.__version__, "opencv": cv2.__version__},
        "cv2_threads": cv2.getNumThreads(),
        "backend": jax.default_backend(),
    }
    print(f"CPU: {env['cpu']} ({env['cores']} cores); jax {jax.__version__} ({env['backend']}), "
          f"onnxruntime {ort.__version__}, OpenCV {cv2.__version__} ({env['cv2_threads']} threads)")  # fmt: skip
    start = time.perf_counter()
    rows = [row for name in args.models for row in measure(name, args.batches, args.calls, args.warmup)]
    print(f"{'model':8} {'batch':>5} {'runtime':12} {'median ms':>10} {'p95 ms':>8} {'x XLA':>6}")
    for row in rows:
        print(f"{row['model']:8} {row['batch']:>5} {row['runtime']:12} {row['median_ms']:>10.2f} "
              f"{row['p95_ms']:>8.2f} {row['ratio_to_xla']:>6.2f}")  # fmt: skip
    print(f"({args.calls} calls each, runtimes interleaved; {time.perf_counter() - start:.0f} s)")
    if args.json:
        print(json.dumps({**env, "calls": args.calls, "rows": rows}))


if __name__ == "__main__":
    main()
