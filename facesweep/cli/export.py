"""`facesweep export`: a saved model as one self-contained ONNX file, checked in OpenCV before it is written.

    facesweep export --model pretrained:emotion --out emotion.onnx
    facesweep export --model runs/x/best --out model.onnx --data ~/fer2013/val --json

The graph takes float32 (N, C, H, W) raw pixels 0..255 (gray, or RGB) and returns softmax probabilities; class
names, input size, channels, colour, the TTA default and config.json's ``inference`` are in its metadata
(``facesweep.model.export`` explains the graph). Before the file is written, OpenCV's ``cv2.dnn`` loads the bytes
and runs them on a batch of zeros, and the largest probability difference from ``predict`` on a few images
(synthetic faces unless ``--data`` is given) is measured in cv2.dnn and, when installed, ONNX Runtime; over 1e-4
is an error (exit 4) and nothing is written.

``--int8 --calib DATA`` builds the model's calibrated 8-bit graph instead (``facesweep.model.export.export_int8``:
activation ranges from 512 images of DATA's training split, never a validation folder) and writes it beside the
params as ``model.int8.onnx`` (or ``--out``), where ``facesweep live`` runs it by default.
"""

from __future__ import annotations

import argparse
import json
import textwrap
import time
from typing import Any

from rich.table import Table

from facesweep.cli.common import add_command, stdout_console

SUMMARY = "Export a saved model to a self-contained ONNX file (checked in cv2.dnn and against predict)"
# Running the file outside facesweep: the README's "Export to ONNX" shows this same code, and a test runs it.
RUN_SNIPPET = """\
import cv2, numpy as np, onnxruntime as ort
session = ort.InferenceSession("emotion.onnx")
face = cv2.resize(cv2.imread("face.png", cv2.IMREAD_GRAYSCALE), (48, 48), interpolation=cv2.INTER_AREA)
probs = session.run(None, {"images": face[None, None].astype(np.float32)})[0][0]
"""
EXAMPLES = f"""
    facesweep export --model pretrained:emotion --out emotion.onnx
    facesweep export --model runs/train/gender-20250101-120000 --out gender.onnx --json
    facesweep export --model pretrained:emotion --out e.onnx --data ~/fer2013/val --images 256
    facesweep export --model runs/x/best --int8 --calib ~/fer2013    8-bit graph beside the params, for live

    run emotion.onnx outside facesweep (ONNX Runtime, a gray face cut out of a photo):
{textwrap.indent(RUN_SNIPPET, "      ")}"""


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "export", SUMMARY, EXAMPLES, run)
    p.add_argument("--model", required=True, metavar="DIR|pretrained:NAME", help="artifact directory or pretrained")
    p.add_argument("--out", metavar="FILE",
                   help="the .onnx file to write (replaced atomically); with --int8 default DIR/model.int8.onnx")
    p.add_argument("--int8", action="store_true",
                   help="build the calibrated 8-bit graph (ONNX Runtime static quantization) that live runs")
    p.add_argument("--calib", metavar="DATA",
                   help="with --int8: the data set whose training split calibrates it (required with --int8)")
    p.add_argument("--calib-images", type=int, default=512, metavar="N",
                   help="with --int8: training images to calibrate on (default 512)")
    p.add_argument("--data", metavar="PATH", help="images to check the export on (default: synthetic faces)")
    p.add_argument("--images", type=int, default=32, metavar="N", help="how many images to check on (default 32)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run(args: argparse.Namespace) -> int:
    from facesweep.errors import UsageError
    from facesweep.model.export import export_int8, export_model

    if args.int8 != (args.calib is not None):
        raise UsageError("--int8 needs --calib DATA (its training images)" if args.int8 else "--calib goes with --int8")
    if not args.int8 and args.out is None:
        raise UsageError("--out FILE is required (the .onnx file to write)")
    start = time.perf_counter()
    if args.int8:
        report = export_int8(args.model, args.calib, args.out, data=args.data, images=args.images,
                             calib_images=args.calib_images)  # fmt: skip
    else:
        report = export_model(args.model, args.out, data=args.data, images=args.images)
    report["seconds"] = round(time.perf_counter() - start, 3)
    if args.json:
        print(json.dumps(report))
    else:
        stdout_console().print(render_int8(report) if args.int8 else render_export(report))
    return 0


def _diff(value: float | None) -> str:
    return "not installed" if value is None else f"{value:.1e}"


def render_export(report: dict[str, Any]) -> Table:
    """The export's facts as a two-column table (a pure function of the report)."""
    meta = report["metadata"]
    table = Table(title=f"exported {report['model']} -> {report['out']}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    types = ", ".join(f"{name} x{count}" for name, count in report["node_types"].items())
    size = meta["image_size"]
    diffs = report["max_abs_diff"]
    checked = (
        f"cv2.dnn {_diff(diffs['cv2_dnn'])}, onnxruntime {_diff(diffs['onnxruntime'])} on {report['images']} "
        f"images ({report['images_source']}); limit {report['tolerance']:g}"
    )
    rows = [
        ("size", f"{report['bytes'] / 1e6:.2f} MB ({report['parameters']:,} weights, float32, one file)"),
        ("nodes", f"{report['nodes']} (opset {report['opset']}): {types}"),
        ("input", f"images: float32 (N, {meta['channels']}, {size}, {size}), {meta['color']}, raw pixels 0..255"),
        ("output", f"probabilities: (N, {len(meta['classes'])}) over {', '.join(meta['classes'])}"),
        ("TTA default", "flip-average (run the mirrored image too)" if meta["tta"] else "off"),
        ("max |p - predict|", checked),
        ("seconds", f"{report['seconds']:.1f}"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


def render_int8(report: dict[str, Any]) -> Table:
    """The 8-bit export's facts as a two-column table (a pure function of the report)."""
    meta = report["metadata"]
    table = Table(title=f"int8 {report['model']} -> {report['out']}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("size", f"{report['bytes'] / 1e6:.2f} MB ({report['quantize_nodes']} quantized tensors)"),
        ("quantization", meta["quantization"]),
        ("calibration", report["calibration"]),
        ("vs float32", f"top-1 agrees on {report['top1_agreement']:.1%} of {report['images']} images "
                       f"({report['images_source']}); max |p - predict| {report['max_abs_diff']:.3f}"),
        ("seconds", f"{report['seconds']:.1f}"),
    ]  # fmt: skip
    for key, value in rows:
        table.add_row(key, value)
    return table
