"""`facesweep live`: Camera or video -> per-face expression and gender, as live text in the terminal."""

from __future__ import annotations

import argparse
import time

from facesweep.cli.common import add_command

SUMMARY = "Camera or video -> per-face expression and gender, as live text in the terminal"
EXAMPLES = """
    facesweep live --source 0                          camera 0; Ctrl-C stops and prints the summary
    facesweep live --source clip.mp4 --preview         a video, with a half-block preview of the frame
    facesweep live --source 'shots/*.jpg' --jsonl      a slideshow; one JSON object per frame, no view
    facesweep live --source clip.mp4 --record faces.csv --frames 300
    facesweep live --emotion-model runs/emotion-x/best --gender-model pretrained:gender
    python -m facesweep.live.testvideo /tmp/faces.avi   a test video of drawn faces (no camera needed)
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "live", SUMMARY, EXAMPLES, run)
    p.add_argument("--source", default="0", help="camera index, video file, stream URL, image, folder or quoted glob")
    p.add_argument("--emotion-model", metavar="DIR", help="expression model (default: best trial, then pretrained)")
    p.add_argument("--gender-model", metavar="DIR", help="gender model (default: best trial, then pretrained)")
    p.add_argument("--storage", metavar="URL", help="Optuna storage for the defaults (default: sqlite:///facesweep.db)")
    p.add_argument("--frames", type=int, metavar="N", help="stop after N frames")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument(
        "--jsonl",
        nargs="?",
        const="-",
        metavar="FILE",
        help="one JSON object per frame to stdout (no view), or to FILE (the view stays); "
        "on by default when stdout is not a terminal",
    )
    p.add_argument("--record", metavar="CSV", help="write one row per face per frame to CSV")
    p.add_argument("--preview", action="store_true", help="show the frame as coloured half blocks with the boxes")
    p.add_argument("--detector", choices=("haar", "yunet"), default="haar", help="face detector (default: haar)")
    p.add_argument("--detector-model", metavar="ONNX", help="YuNet ONNX file (implies --detector yunet)")
    p.add_argument("--min-face", type=int, default=64, metavar="PX", help="smallest face in pixels (default: 64)")
    p.add_argument(
        "--tta",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="average each prediction with its mirror image (default: off -- it doubles the model time, and the "
        "per-face average over frames already smooths)",
    )


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    from facesweep.live.session import LiveOptions, run_session

    options = LiveOptions(
        source=args.source,
        emotion_model=args.emotion_model,
        gender_model=args.gender_model,
        storage=args.storage,
        frames=args.frames,
        duration=args.duration,
        jsonl=args.jsonl,
        record=args.record,
        preview=args.preview,
        detector=args.detector,
        detector_model=args.detector_model,
        min_face=args.min_face,
        tta=args.tta,
    )
    run_session(options, start=start)
    return 0
