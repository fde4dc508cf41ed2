"""Benchmark ``facesweep live`` end to end -- decode, detect, align, both models, view -- YuNet beside Haar.

    python bench/live.py                          # 2 and 4 faces x YuNet, Haar x --jsonl, view in a pty; 300 frames
    python bench/live.py --faces 4 --modes view --detectors yunet --repeat 3
    python bench/live.py --reference              # also the old model path: XLA, every face on every frame
    python bench/live.py --emotion-model runs/x/best --gender-model pretrained:gender
    python bench/live.py --faces 4 --modes view --detectors yunet --predict-hz 0 10 --repeat 3 \
        --base-tree /tmp/live-base               # and the same runs of another checkout (git worktree add), interleaved
    python bench/live.py --faces 4 --modes view --detectors yunet --predict-hz 0 --compare no-parallel-models \
        no-prefetch runtime=onnxruntime          # levers, each run right after the default's
    python bench/live.py --faces 4 --modes view --detectors yunet --predict-hz 0 10 --repeat 3 --real no \
        --compare precision=float32              # the shipped int8 graphs beside float32, interleaved

Videos: 640x480 MJPG made by ``facesweep.live.testvideo`` (drawn faces that both detectors find; exactly
``--faces`` a frame), and, when ``../shared/data/gender`` is there, ``bench/facevideo.py make`` (real faces of the
gender validation split on a panning background, 2-4 a frame, a new group every second: ``--hold 30``).
Models: the shipped ``pretrained:emotion`` and ``pretrained:gender`` unless given. Each run is a fresh
Python process running ``facesweep.live.session.run_session`` -- the CLI's code path -- either with ``--jsonl``
into /dev/null, or in the interactive view inside a pseudo-terminal (``script -qc ... /dev/null``, 120x40):
what a person watching the view gets, drawing included. The process records, per run: FPS and frame latency
(the loop's own summary), the detector's time per call (it runs in a worker thread beside the models), each
model's time per call and its mean batch, the CPU time per frame (all threads: load-independent), and the load
average at start. Prints the CPU model; run it when ``uptime`` shows the machine quiet, and read FPS against
the CPU per frame when it is not -- or give ``--base-tree`` a checkout of the code to compare with: each of its
runs follows the matching run of this tree, so both see the same load, and the ratio is what to quote.

The options are the CLI's defaults (``facesweep live``: TTA off, the models side by side) unless a flag says
otherwise; ``pred/fr`` in the table is the faces predicted per frame (4.00 with 4 faces at ``--predict-hz 0``).
"""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()  # before any heavy import: first-prediction time counts from here

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

MODES = ("jsonl", "view")
DETECTORS = ("yunet", "haar")


def cpu_model() -> str:
    """``/proc/cpuinfo``'s model name with its family and model numbers (a virtual CPU's name can be bare)."""
    try:
        info: dict[str, str] = {}
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
        if "model name" in info:
            family = f" (family {info['cpu family']} model {info['model']})" if "cpu family" in info else ""
            return f"{info['model name']}{family}, {os.cpu_count()} cores"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def child(args: argparse.Namespace) -> None:
    """One measured run, in a fresh process; writes one JSON object to ``args.result``."""
    import io

    import numpy as np
    from rich.console import Console

    from facesweep.live import loop, session

    load_at_start = os.getloadavg()[0]
    detect_ms: list[float] = []
    model_ms: dict[str, list[float]] = {}
    batches: dict[str, list[int]] = {}

    make_detector = session.make_detector

    def make_timed_detector(*a, **k):  # noqa: ANN002, ANN003, ANN202 - bench-only wrapper
        detector = make_detector(*a, **k)
        detect = detector.detect

        def timed(frame):  # noqa: ANN001, ANN202
            t0 = time.perf_counter()
            try:
                return detect(frame)
            finally:
                detect_ms.append((time.perf_counter() - t0) * 1e3)

        detector.detect = timed
        return detector

    session.make_detector = make_timed_detector
    try:  # since the loop's split the models are called from facesweep.live.heads
        from facesweep.live import heads as calls
    except ImportError:
        calls = loop
    predict_inputs = calls.predict_inputs

    def timed_predict_inputs(head, inputs):  # noqa: ANN001, ANN202
        t0 = time.perf_counter()
        try:
            return predict_inputs(head, inputs)
        finally:
            if len(inputs):
                model_ms.setdefault(head.task, []).append((time.perf_counter() - t0) * 1e3)
                batches.setdefault(head.task, []).append(len(inputs))

    calls.predict_inputs = timed_predict_inputs
    cpu = {}
    run = loop.LiveLoop.run

    def measured_run(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        c0, w0 = time.process_time(), time.perf_counter()
        try:
            return run(self, *a, **k)
        finally:
            cpu["cpu_s"], cpu["wall_s"] = time.process_time() - c0, time.perf_counter() - w0

    loop.LiveLoop.run = measured_run
    if args.mode == "view":
        console = Console(highlight=False)  # stdout is the pseudo-terminal
        if not console.is_terminal:
            sys.exit("--mode view needs a terminal (the parent runs it under `script`)")
        stdout = None
    else:
        stdout = io.StringIO() if args.keep_jsonl else open(os.devnull, "w")  # noqa: SIM115
        console = Console(file=stdout, highlight=False)
    import dataclasses

    wanted = dict(
        source=args.video,
        emotion_model=args.emotion_model,
        gender_model=args.gender_model,
        frames=args.frames,
        jsonl="-" if args.mode == "jsonl" else None,
        detector=args.detector,
        runtime=args.runtime,
        precision=args.precision,
        predict_hz=args.predict_hz,
        detect_every=args.detect_every,
        tta=args.tta,
        parallel_models=args.parallel_models,
        prefetch=args.prefetch,
    )
    known = {f.name for f in dataclasses.fields(session.LiveOptions)}  # an older tree has fewer options
    options = session.LiveOptions(**{k: v for k, v in wanted.items() if k in known})
    summary = session.run_session(options, console=console, stdout=stdout, start=PROCESS_START)

    def p(values: list[float], q: float) -> float | None:
        return float(np.percentile(values, q)) if values else None

    result = {
        "frames": summary.frames,
        "fps": summary.mean_fps,
        "latency_p50_ms": summary.latency_p50_ms,
        "latency_p95_ms": summary.latency_p95_ms,
        "frame_p95_ms": summary.frame_p95_ms,
        "read_p50_ms": summary.read_p50_ms,
        "first_prediction_s": summary.first_prediction_s,
        "faces": [f.frames for f in summary.faces],
        "predictions_per_frame": summary.predictions / max(1, summary.frames),
        "detect_p50_ms": p(detect_ms, 50),
        "detect_calls": len(detect_ms),
        "model_p50_ms": {task: p(v, 50) for task, v in model_ms.items()},
        "model_calls": {task: len(v) for task, v in model_ms.items()},
        "model_mean_batch": {task: float(np.mean(v)) for task, v in batches.items()},
        "cpu_ms_per_frame": cpu["cpu_s"] * 1e3 / max(1, summary.frames),  # all threads
        "load_at_start": load_at_start,
    }
    Path(args.result).write_text(json.dumps(result))


def run_once(base: list[str], mode: str, result: Path, env: dict[str, str]) -> dict:
    cmd = [*base, "--mode", mode, "--result", str(result)]
    if mode == "view":
        script = shutil.which("script")
        if script is None:
            sys.exit("the view runs need `script` (util-linux) to make a pseudo-terminal")
        cmd = [script, "-qec", shlex.join(cmd), os.devnull]
        env = dict(env, COLUMNS="120", LINES="40", TERM=env.get("TERM", "xterm-256color"))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if out.returncode != 0 or not result.is_file():
        tail = (out.stderr or out.stdout)[-2000:]
        sys.exit(f"run failed ({' '.join(cmd[:8])} ...):\n{tail}")
    return json.loads(result.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300, help="frames per run (default 300 = 10 s of video)")
    parser.add_argument("--faces", type=int, nargs="+", default=[2, 4], help="faces per frame (default: 2 4)")
    parser.add_argument("--real", choices=("auto", "no"), default="auto",
                        help="also the real-face video of bench/facevideo.py (default: when the data is there)")
    parser.add_argument("--detectors", nargs="+", choices=DETECTORS, default=list(DETECTORS))
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration; medians (default 1)")
    parser.add_argument("--emotion-model", default="pretrained:emotion")
    parser.add_argument("--gender-model", default="pretrained:gender")
    parser.add_argument("--runtime", choices=("opencv", "onnxruntime", "xla"), default="opencv")
    parser.add_argument("--precision", choices=("int8", "float32"), default="int8",
                        help="int8 graphs where a model ships one (default, as the CLI) or float32 throughout")
    parser.add_argument("--predict-hz", type=float, nargs="+", default=[10.0],
                        help="per face, one or more rates (default 10, the CLI's; 0 = every face every frame)")
    parser.add_argument("--tta", action=argparse.BooleanOptionalAction, default=False,
                        help="flip TTA in the models (default: off, as the CLI)")
    parser.add_argument("--parallel-models", action=argparse.BooleanOptionalAction, default=True,
                        help="the two models side by side in two threads (default: on, as the CLI)")
    parser.add_argument("--prefetch", action=argparse.BooleanOptionalAction, default=True,
                        help="decode the next frames in a thread (default: on, as the CLI)")
    parser.add_argument("--compare", nargs="+", default=[], metavar="FLAG",
                        help="also run this tree with each of these flags (no leading dashes), interleaved: "
                        "no-parallel-models no-prefetch runtime=onnxruntime precision=float32")
    parser.add_argument("--base-tree", type=Path,
                        help="also run each configuration on this checkout (PYTHONPATH), right after this tree's run")
    parser.add_argument("--detect-every", type=int, help="default: the CLI's per-detector default")
    parser.add_argument("--reference", action="store_true",
                        help="also run the old model path (XLA, every face on every frame) for each configuration")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--video", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--detector", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--tta-child", dest="tta_child", help=argparse.SUPPRESS)
    parser.add_argument("--keep-jsonl", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.predict_hz = args.predict_hz[0]
        args.tta = {"on": True, "off": False, "model": None}[args.tta_child or "off"]
        child(args)
        return

    from facesweep.live.testvideo import write_test_video

    print(f"CPU: {cpu_model()}; load average at start {os.getloadavg()[0]:.2f} "
          f"(1 min; other work on the machine slows every number but 'CPU/frame')")
    trees = [("new", str(Path(__file__).resolve().parents[1]))]
    if args.base_tree:
        trees.append(("base", str(args.base_tree.resolve())))
    variants = [(tree, path, args.runtime, hz, []) for hz in args.predict_hz for tree, path in trees]
    variants += [(flag.split("=")[-1][:9], trees[0][1], args.runtime, hz, ["--" + flag.split("=")[0],
                  *flag.split("=")[1:]]) for hz in args.predict_hz for flag in args.compare]  # fmt: skip
    if args.reference:
        variants.append(("reference", trees[0][1], "xla", 0.0, ["--precision", "float32"]))
    rows = []
    with tempfile.TemporaryDirectory(prefix="facesweep-bench-live-") as tmp:
        env = dict(os.environ, FACESWEEP_CACHE_DIR=str(Path(tmp) / "cache"))
        videos = [(str(faces), write_test_video(Path(tmp) / f"faces{faces}.avi", frames=args.frames, faces=faces).path)
                  for faces in args.faces]
        gender = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gender"
        if args.real == "auto" and gender.is_dir():
            real = Path(tmp) / "real.avi"
            images = max(8, args.frames // 30 * 3 + 3)  # ~3 faces a group, a group a second
            subprocess.run([sys.executable, str(Path(__file__).with_name("facevideo.py")), "make", "--task", "gender",
                            "--out", str(real), "--hold", "30", "--images", str(images)], check=True,
                           capture_output=True)
            videos.append(("2-4r", real))
        for faces, video in videos:
            for detector in args.detectors:
                for mode in args.modes:
                    runs: dict[tuple, list[dict]] = {}
                    for i in range(args.repeat):  # interleaved: each tree's i-th run right after the other's
                        for name, path, runtime, hz, extra in variants:
                            base = [sys.executable, __file__, "--child", "--video", str(video), "--frames",
                                    str(args.frames), "--emotion-model", args.emotion_model, "--gender-model",
                                    args.gender_model, "--detector", detector, "--runtime", runtime,
                                    "--precision", args.precision,
                                    "--predict-hz", str(hz), "--tta-child", "on" if args.tta else "off",
                                    "--parallel-models" if args.parallel_models else "--no-parallel-models",
                                    "--prefetch" if args.prefetch else "--no-prefetch"]
                            if args.detect_every:
                                base += ["--detect-every", str(args.detect_every)]
                            base += extra  # later flags win: --runtime onnxruntime, --no-prefetch, ...
                            tree_env = dict(env, PYTHONPATH=path + os.pathsep + env.get("PYTHONPATH", ""))
                            result = Path(tmp) / f"r{len(rows)}-{name}-{hz}-{i}.json"
                            runs.setdefault((name, hz), []).append(run_once(base, mode, result, tree_env))
                    for (name, hz), done in runs.items():
                        rows.append(((faces, detector, name, hz, mode), done))
                        print(f"  done: {faces} faces, {detector}, {name}, {hz:g} Hz, {mode}: "
                              f"{statistics.median(r['fps'] for r in done):.1f} fps", flush=True)

    def med(runs: list[dict], key: str, task: str | None = None) -> float:
        values = [(r[key].get(task) if task else r[key]) for r in runs]
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else float("nan")

    print()
    print(f"facesweep live, 640x480 MJPG, {args.frames} frames, models {args.emotion_model} + {args.gender_model}; "
          f"precision {args.precision} (int8 where a model ships a graph), float32 runtime {args.runtime}, "
          f"TTA {'on' if args.tta else 'off'}, models "
          f"{'side by side' if args.parallel_models else 'one after the other'}, prefetch "
          f"{'on' if args.prefetch else 'off'}; new = this tree"
          + (f", base = {args.base_tree}" if args.base_tree else "")
          + ("; reference = XLA, every face every frame" if args.reference else "")
          + f"; medians of {args.repeat} run(s); faces '2-4r': real gender-val faces (bench/facevideo.py)")
    header = (f"{'faces':>5} {'detector':<8} {'path':<9} {'Hz':>3} {'mode':<5} {'FPS':>6} {'p50 ms':>7} {'p95 ms':>7} "
              f"{'detect ms':>9} {'expr ms':>7} {'gend ms':>7} {'batch':>5} {'pred/fr':>7} {'CPU/fr':>7} {'load':>5}")
    print(header)
    print("-" * len(header))
    for (faces, detector, name, hz, mode), runs in rows:
        print(f"{faces:>5} {detector:<8} {name:<9} {hz:>3g} {mode:<5} {med(runs, 'fps'):>6.1f} "
              f"{med(runs, 'latency_p50_ms'):>7.1f} {med(runs, 'latency_p95_ms'):>7.1f} "
              f"{med(runs, 'detect_p50_ms'):>9.1f} {med(runs, 'model_p50_ms', 'emotion'):>7.1f} "
              f"{med(runs, 'model_p50_ms', 'gender'):>7.1f} {med(runs, 'model_mean_batch', 'emotion'):>5.2f} "
              f"{med(runs, 'predictions_per_frame'):>7.2f} {med(runs, 'cpu_ms_per_frame'):>7.1f} "
              f"{med(runs, 'load_at_start'):>5.1f}")
    print("FPS, p50/p95: end to end per frame (the loop's summary); detect ms: p50 per call (worker thread); "
          "expr/gend ms: p50 per model call; batch: mean faces per call; pred/fr: faces predicted per frame; "
          "CPU/fr: ms of CPU per frame, all threads; load: 1-min load average when the run started")


if __name__ == "__main__":
    main()
