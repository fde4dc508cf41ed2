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
    facesweep live --source clip.mp4 --detector haar --min-face 80     the Haar cascade instead of YuNet
    facesweep live --source 0 --predict-hz 0            predict every face on every frame
    facesweep live --source 0 --precision float32      the float32 models instead of the shipped 8-bit graphs
    facesweep live --source 0 --precision float32 --runtime xla        float32 in XLA instead of cv2.dnn
    facesweep live --source clip.mp4 --realtime        play the file at its own frame rate (labels are the same)
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
    p.add_argument(
        "--detector", choices=("yunet", "haar"), default="yunet",
        help="face detector: the bundled YuNet (default; 5 landmarks, aligned crops) or OpenCV's Haar cascade",
    )
    p.add_argument("--detector-model", metavar="ONNX", help="another YuNet ONNX file (implies --detector yunet)")
    p.add_argument(
        "--min-face", type=int, metavar="PX", help="smallest face, frame pixels (default: YuNet 32, Haar 64)"
    )
    p.add_argument(
        "--detect-width", type=int, metavar="PX",
        help="detect on a copy this wide (default: YuNet 320, Haar 240); wider finds smaller faces, slower",
    )
    p.add_argument(
        "--detect-every", type=int, metavar="N",
        help="detect every N-th frame while faces are tracked, the tracker in between "
        "(default: YuNet 2, Haar 4; detection runs beside the models on the second core)",
    )
    p.add_argument(
        "--predict-hz", type=float, default=10.0, metavar="HZ",
        help="model predictions per face per second of the source's time (a file's frame timestamps, the wall "
        "clock for a camera), at once for a new face, a jumped box or a new person in a box; the probabilities "
        "are carried (smoothed) in between (default: 10; 0 = every face on every frame)",
    )
    p.add_argument(
        "--realtime", action="store_true",
        help="play a video file or image list at its own frame rate instead of as fast as possible "
        "(the labels do not change: predictions are scheduled in the source's time)",
    )
    p.add_argument(
        "--fps", type=float, metavar="FPS",
        help="the source's frame rate for the schedule: overrides a video's own; image lists default to 1",
    )
    p.add_argument(
        "--view-hz", type=float, default=10.0, metavar="HZ",
        help="view redraws per second, from their own thread whatever the frame rate (default: 10)",
    )
    p.add_argument(
        "--precision", choices=("int8", "float32"), default="int8",
        help="int8 (default): a model that ships a calibrated 8-bit graph (both pretrained ones; `facesweep export "
        "--int8` builds one) runs it in ONNX Runtime, ~3.7x less CPU; float32: the full-precision path everywhere "
        "(--runtime). Models without an int8 graph always run float32; the start-up line says which",
    )
    p.add_argument(
        "--runtime", choices=("opencv", "onnxruntime", "xla"), default="opencv",
        help="where float32 models run: their exported graph in OpenCV's cv2.dnn (default; XLA where a model "
        "cannot be exported), in ONNX Runtime or in XLA",
    )
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
        detect_width=args.detect_width,
        detect_every=args.detect_every,
        predict_hz=args.predict_hz,
        runtime=args.runtime,
        precision=args.precision,
        realtime=args.realtime,
        fps=args.fps,
        view_hz=args.view_hz,
        tta=args.tta,
    )
    run_session(options, start=start)
    return 0
