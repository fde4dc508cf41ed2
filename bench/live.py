"""Benchmark ``facesweep live`` end to end: decode, detect, crop, both models, render.

    python bench/live.py                     # 640x480 test video, 2 drawn faces, 300 frames, untrained models
    python bench/live.py --emotion-model runs/x/best --gender-model runs/y/best --frames 600 --repeat 3
    python bench/live.py --render every      # re-render the view on every frame (worst case)

Prepares a generated video (``facesweep.live.testvideo``) and, unless models are given, untrained models of the
report's architectures (``seed-emotion-1`` at 48x48 gray, ``seed-gender`` at 96x96 RGB) saved with
``save_model``: latency depends on the architecture, not on the weights. Each run is a fresh Python process
that runs ``facesweep.live.session.run_session`` -- the CLI's code path -- with the view rendered to a terminal
console writing to /dev/null, so the first-prediction time counts imports, model loading and compilation.
Prints FPS, per-frame latency percentiles and a per-stage breakdown (medians over runs with ``--repeat``).
"""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()  # before any heavy import: first-prediction time counts from here

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402


def prepare(workdir: Path, frames: int, faces: int) -> tuple[Path, Path, Path]:
    """The test video and two untrained models of realistic architectures."""
    import jax

    from facesweep.live.testvideo import write_test_video
    from facesweep.model.artifacts import TrainedModel, save_model
    from facesweep.model.cnn import init_variables, model_for
    from facesweep.model.presets import get_preset
    from facesweep.tasks import get_task

    video = write_test_video(workdir / "faces.avi", frames=frames, faces=faces).path
    dirs = []
    for task, preset in (("emotion", "seed-emotion-1"), ("gender", "seed-gender")):
        config = get_preset(preset)
        variables = init_variables(model_for(config), jax.random.key(0))
        model = TrainedModel(config, get_task(task).classes, variables)
        dirs.append(save_model(workdir / task, model, extra={"untrained": True, "preset": preset}))
    return video, dirs[0], dirs[1]


def child(args: argparse.Namespace) -> None:
    """One measured run, in a fresh process; prints one JSON line."""
    import io

    import numpy as np
    from rich.console import Console

    from facesweep.live import loop, session

    stages: dict[str, list[float]] = {"detect": [], "models": [], "render": []}

    def timed(name: str, fn):  # noqa: ANN001, ANN202 - bench-only wrapper
        def wrapper(*a, **k):  # noqa: ANN002, ANN003, ANN202
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                stages[name].append((time.perf_counter() - t0) * 1e3)

        return wrapper

    make_detector = session.make_detector

    def make_timed_detector(*a, **k):  # noqa: ANN002, ANN003, ANN202
        detector = make_detector(*a, **k)
        detector.detect = timed("detect", detector.detect)
        return detector

    session.make_detector = make_timed_detector
    loop.predict_crops = timed("models", loop.predict_crops)
    from rich.live import Live

    Live.update = timed("render", Live.update)  # building the renderables and drawing them
    if args.render == "every":
        session.VIEW_HZ = 1e9

    cpu = {}
    run = loop.LiveLoop.run

    def measured_run(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        c0, w0 = time.process_time(), time.perf_counter()
        try:
            return run(self, *a, **k)
        finally:
            cpu["cpu_s"], cpu["wall_s"] = time.process_time() - c0, time.perf_counter() - w0

    loop.LiveLoop.run = measured_run
    console = Console(file=io.StringIO(), force_terminal=True, width=100, color_system="truecolor")
    options = session.LiveOptions(
        source=args.video,
        emotion_model=args.emotion_model,
        gender_model=args.gender_model,
        frames=args.frames,
        preview=args.preview,
        jsonl=None,
    )
    summary = session.run_session(options, console=console, start=PROCESS_START)
    face_counts = [f.frames for f in summary.faces]
    result = {
        "frames": summary.frames,
        "fps": summary.mean_fps,
        "latency_p50_ms": summary.latency_p50_ms,
        "latency_p95_ms": summary.latency_p95_ms,
        "first_prediction_s": summary.first_prediction_s,
        "faces": face_counts,
        "stages_p50_ms": {k: float(np.percentile(v, 50)) if v else None for k, v in stages.items()},
        "stages_p95_ms": {k: float(np.percentile(v, 95)) if v else None for k, v in stages.items()},
        "stage_calls": {k: len(v) for k, v in stages.items()},
        "cpu_ms_per_frame": cpu["cpu_s"] * 1e3 / max(1, summary.frames),  # all threads, load-independent
        "load_avg": os.getloadavg()[0],
        "read_p50_ms": summary.read_p50_ms,
        "frame_p95_ms": summary.frame_p95_ms,
    }
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300, help="frames per run (default 300)")
    parser.add_argument("--faces", type=int, default=2, help="faces in the generated video (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs; medians are reported (default 1)")
    parser.add_argument("--emotion-model", help="artifact dir (default: untrained seed-emotion-1)")
    parser.add_argument("--gender-model", help="artifact dir (default: untrained seed-gender)")
    parser.add_argument("--render", choices=("throttled", "every"), default="throttled",
                        help="view refresh: the CLI's 12 Hz (default) or every frame")
    parser.add_argument("--preview", action="store_true", help="include the half-block preview in the view")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--video", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    with tempfile.TemporaryDirectory(prefix="facesweep-bench-live-") as tmp:
        video, emotion, gender = prepare(Path(tmp), args.frames, args.faces)
        cmd = [sys.executable, __file__, "--child", "--video", str(video), "--frames", str(args.frames),
               "--emotion-model", args.emotion_model or str(emotion),
               "--gender-model", args.gender_model or str(gender),
               "--render", args.render] + (["--preview"] if args.preview else [])
        runs = []
        # A fresh compile cache: run 1 starts cold (XLA compiles), later runs reuse it as a second start would.
        env = dict(os.environ, FACESWEEP_CACHE_DIR=str(Path(tmp) / "cache"))
        for i in range(args.repeat):
            out = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if out.returncode != 0:
                sys.exit(f"run {i + 1} failed:\n{out.stderr}")
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"run {i + 1}: " + json.dumps(runs[-1]))

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print()
    print(f"facesweep live benchmark: 640x480 MJPG video, {args.faces} faces, {args.frames} frames, "
          f"view refresh {args.render}{' + preview' if args.preview else ''}, {len(runs)} run(s), "
          f"models {'given' if args.emotion_model else 'untrained seed-emotion-1 + seed-gender'}")
    print(f"  FPS (end to end)        {med('fps'):.1f}")
    print(f"  frame latency p50       {med('latency_p50_ms'):.1f} ms")
    print(f"  frame latency p95       {med('latency_p95_ms'):.1f} ms")
    print(f"  decode p50              {med('read_p50_ms'):.1f} ms   (read + process p95 {med('frame_p95_ms'):.1f} ms)")
    print(f"  CPU per frame           {med('cpu_ms_per_frame'):.1f} ms, all threads (load average {med('load_avg'):.1f}"
          f" on {os.cpu_count()} cores from other work)")
    firsts = ", ".join(f"{r['first_prediction_s']:.2f}" for r in runs)
    print(f"  first prediction        {firsts} s after process start (run 1: cold compile cache)")
    for stage in ("detect", "models", "render"):
        p50 = statistics.median(r["stages_p50_ms"][stage] or 0 for r in runs)
        p95 = statistics.median(r["stages_p95_ms"][stage] or 0 for r in runs)
        calls = statistics.median(r["stage_calls"][stage] for r in runs)
        print(f"  {stage:<8} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({calls:.0f} calls)")


if __name__ == "__main__":
    main()
