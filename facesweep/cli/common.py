"""Helpers shared by the command modules: subcommand registration, consoles, common flags."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from typing import Any

from rich.console import Console


def add_command(
    sub: argparse._SubParsersAction,
    name: str,
    summary: str,
    examples: str,
    run: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    """Register one subcommand with a one-line summary, an examples epilog and its ``run`` function."""
    parser = sub.add_parser(
        name,
        help=summary,
        description=summary,
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip("\n"), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", dest="sub_debug", action="store_true", help="show tracebacks for errors")
    parser.set_defaults(run=run)
    return parser


def stdout_console() -> Console:
    return Console(highlight=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


# -- face detection flags (data, train, evaluate) -------------------------------------------------------------
def add_detect_arguments(parser: argparse.ArgumentParser, *, template_from: bool = True) -> None:
    """``--detect`` and its options: run every image through the face crop path (``facesweep.faces.crop``)."""
    group = parser.add_argument_group("faces (--detect)")
    group.add_argument(
        "--detect",
        action="store_true",
        help="find the largest face in each image and align it on the crop template (bundled YuNet); images "
        "with no face are dropped and counted (a crop-sized image with none is used whole)",
    )
    group.add_argument(
        "--detector", choices=("yunet", "haar"), help="face detector (implies --detect; default: yunet)"
    )
    group.add_argument("--detector-model", metavar="ONNX", help="another YuNet ONNX file (implies --detect)")
    group.add_argument(
        "--detect-score", type=float, default=0.6, metavar="S", help="YuNet score threshold (default: 0.6)"
    )
    if template_from:
        group.add_argument(
            "--template-from",
            metavar="MODEL",
            help="align on this model's crop template (DIR or pretrained:NAME) instead of the one measured on "
            "the training split",
        )


def crop_spec_from_args(args: argparse.Namespace, template: Any = None) -> Any:
    """The ``detect=`` value for ``load_dataset``: ``None`` without ``--detect``, else a ``CropSpec`` whose
    template is ``--template-from``'s, else ``template`` (e.g. the evaluated model's ``crop_template``), else
    ``None`` (measured on the training split)."""
    detector, model = getattr(args, "detector", None), getattr(args, "detector_model", None)
    if not (getattr(args, "detect", False) or detector or model):
        return None
    from facesweep.errors import UsageError
    from facesweep.faces.crop import CropSpec

    score = getattr(args, "detect_score", 0.6)
    if not 0.0 < score < 1.0:
        raise UsageError(f"--detect-score must be in (0, 1), got {score}")
    if getattr(args, "template_from", None):
        template = model_crop_template(args.template_from)
    return CropSpec(detector=detector or "yunet", detector_model=model, score_threshold=score, template=template)


def model_crop_template(ref: str) -> Any:
    """A model's crop template from its config.json (``DEFAULT_TEMPLATE`` when it stores none), without loading
    its weights."""
    import json

    from facesweep.errors import CheckpointError
    from facesweep.faces.align import DEFAULT_TEMPLATE, Template
    from facesweep.model.artifacts import CONFIG_FILE, resolve_ref
    from facesweep.model.inference import parse_inference

    path = resolve_ref(ref) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"no model at {ref} ({path} is missing)")
    try:
        meta = json.loads(path.read_text())
    except ValueError as exc:
        raise CheckpointError(f"{path}: unreadable crop template ({exc})") from None
    crop = parse_inference(meta, str(path))["crop"]  # CheckpointError naming the file when malformed
    return Template.from_dict(crop["template"]) if crop else DEFAULT_TEMPLATE


def faces_line(faces: dict) -> str:
    """One line for ``dataset.info["faces"]``: the face / whole / none counts and where the template came from."""
    counts = faces["counts"]
    template = faces["template"]
    origin = ("measured on " if faces.get("template_measured") else "from ") + (template.get("source") or "a model")
    return (
        f"{counts['face']:,} face, {counts['whole']:,} whole (no face found on a crop-sized image), "
        f"{counts['none']:,} none (no face: dropped); detector {faces['detector']['name']}, template {origin}"
    )
