"""`facesweep evaluate`: accuracy, macro-F1, a per-class table, the confusion matrix and a per-group audit.

    facesweep evaluate --model runs/train/emotion-20250101-120000 --data ~/fer2013 --split val
    facesweep evaluate --model pretrained:gender --data ~/only_women --json        # one class: its recall
    facesweep evaluate --model pretrained:emotion --data ~/ckplus --ignore-class contempt
    facesweep evaluate --model pretrained:gender --data ~/faces --groups attrs.csv # path,age_band,skin
    facesweep evaluate --model pretrained:gender --data ~/utkface/by_gender \\
        --groups-from-name '^(?P<age>\\d+)_\\d_(?P<race>\\d)_' --bin age=0,18,30,45,60,120

The data is loaded for the model's own task, image size and channels. With no ``--split`` (or ``--split test``)
no split is made (``whole=True``): a folder with split folders keeps them, a bare folder of class folders becomes
one split named ``test`` (one class folder is enough: accuracy is then that class's recall); the default split is
``test`` when there is one, else ``val``. ``--split val`` on a bare folder makes the same seeded, stratified
split as training (val fraction 0.2, seed 0). Flip TTA follows the model's own setting unless ``--tta``/
``--no-tta`` say otherwise. The scoring is ``facesweep.model.evaluate.evaluate`` (the report calls it too), the
audit ``facesweep.model.groups``, the tables ``facesweep.report.tables``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from facesweep.cli.common import (
    add_command,
    add_detect_arguments,
    crop_spec_from_args,
    faces_line,
    model_crop_template,
    stdout_console,
)
from facesweep.errors import DataError, UsageError
from facesweep.report.tables import confusion_table, group_table, per_class_table

SUMMARY = "Accuracy, macro-F1, per-class table, confusion matrix and per-group audit of a saved model"
EXAMPLES = """
    facesweep evaluate --model runs/emotion/best --data ~/fer2013 --split val --json
    facesweep evaluate --model pretrained:gender --data ~/only_women          # recall of 'woman'
    facesweep evaluate --model pretrained:emotion --data ~/ckplus --ignore-class contempt
    facesweep evaluate --model pretrained:gender --data ~/faces --groups attrs.csv --json
    facesweep evaluate --model pretrained:gender --data ~/photos --detect     # faces aligned as the model was trained
    facesweep evaluate --model pretrained:gender --data ~/utk --groups-from-name '^(?P<age>\\d+)_' --bin age=0,30,60,120
"""
DEFAULT_SPLITS = ("test", "val")  # tried in this order when --split is not given
SKIPPED_SHOWN = 5  # unreadable files named in the text output (all of them are in --json)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "evaluate", SUMMARY, EXAMPLES, run)
    p.add_argument("--model", required=True, metavar="DIR|pretrained:NAME", help="artifact directory or pretrained")
    p.add_argument("--data", metavar="PATH", help="image folders or a FER-2013 CSV (default: synthetic faces)")
    p.add_argument("--split", metavar="NAME", help="split to score (default: test if present, else val)")
    p.add_argument(
        "--tta",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average with the horizontally flipped image (default: the model's own setting)",
    )
    p.add_argument("--ignore-class", action="append", default=[], metavar="NAME",
                   help="leave this class folder out (repeatable), e.g. CK+'s contempt")  # fmt: skip
    audit = p.add_mutually_exclusive_group()
    audit.add_argument("--groups", metavar="FILE.csv",
                       help="per-group audit: a CSV of image paths (relative to --data) and attribute columns, "
                            "e.g. path,age_band,skin")  # fmt: skip
    audit.add_argument("--groups-from-name", metavar="REGEX",
                       help="per-group audit from file names: a regex with named groups, "
                            "e.g. '^(?P<age>\\d+)_(?P<gender>\\d)_' (UTKFace)")  # fmt: skip
    p.add_argument("--bin", action="append", default=[], metavar="ATTR=EDGES",
                   help="group a numeric attribute into bands, e.g. age=0,18,30,45,60,120 (repeatable)")  # fmt: skip
    p.add_argument(
        "--min-group",
        type=int,
        default=10,
        metavar="N",
        help="images a group needs to be named an attribute's worst (default 10; all are listed)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    add_detect_arguments(p)


def pick_split(splits: dict, wanted: str | None) -> str:
    """The requested split, or the first of DEFAULT_SPLITS present; DataError listing the choices otherwise."""
    if wanted is not None:
        if wanted not in splits:
            raise DataError(f"no split {wanted!r} in this data; choose one of: {', '.join(splits)}")
        return wanted
    for name in DEFAULT_SPLITS:
        if name in splits:
            return name
    raise DataError(f"no test or val split in this data; pass --split (one of: {', '.join(splits)})")


def parse_bins(specs: list[str]) -> dict[str, list[float]]:
    """``["age=0,18,30"]`` -> ``{"age": [0, 18, 30]}``; UsageError naming the bad spec."""
    bins = {}
    for spec in specs:
        name, _, edges = spec.partition("=")
        try:
            values = [float(e) for e in edges.split(",")]
        except ValueError:
            values = []
        if not name or len(values) < 2:
            raise UsageError(f"--bin expects ATTR=EDGE,EDGE[,...] such as age=0,18,30,60, got {spec!r}")
        bins[name] = values
    return bins


def read_attributes(args: argparse.Namespace, split: Any, data_source: str) -> tuple[list, Any] | None:
    """Per image of ``split`` its attributes and how the rows matched, or ``None`` without --groups /
    --groups-from-name; read before the model runs, so a bad CSV or regex fails fast."""
    from facesweep.model.groups import attributes_from_csv, attributes_from_names, bin_attribute

    bins = parse_bins(args.bin)
    if not (args.groups or args.groups_from_name):
        if bins:
            raise UsageError("--bin needs --groups or --groups-from-name")
        return None
    if split.paths is None:
        raise UsageError(f"a per-group audit needs an image folder (per-image paths); {data_source} has none")
    if args.groups:
        attrs, match = attributes_from_csv(args.groups, split.paths, root=args.data)
    else:
        attrs, match = attributes_from_names(args.groups_from_name, split.paths)
    for name, edges in bins.items():
        if not any(name in a for a in attrs):
            raise UsageError(f"--bin {name}: no attribute named {name!r}")
        attrs = bin_attribute(attrs, name, edges)
    return attrs, match


def _headline(report: dict[str, Any]) -> str:
    present = report["present_classes"]
    macro = f"macro-F1 {report['macro_f1']:.4f}"
    if len(present) < len(report["classes"]):
        macro += f" ({report['macro_f1_present']:.4f} over the {len(present)} class(es) present)"
    lines = [
        f"{report['model']} on {report['data_source']} [{report['split']}], n={report['n']:,}"
        f"{' (TTA)' if report['tta'] else ''}",
        f"accuracy {report['accuracy']:.4f}   {macro}   log-loss {report['loss']:.4f}",
    ]
    if len(present) == 1:
        lines.append(f"one class in the data ({present[0]}): accuracy is its recall")
    if report["faces"] is not None:
        lines.append(f"faces: {faces_line(report['faces'])}")
    if report["ignored_classes"]:
        lines.append(f"class folders left out: {', '.join(report['ignored_classes'])}")
    skipped = report["skipped"]
    if skipped["count"]:
        shown = ", ".join(skipped["files"][:SKIPPED_SHOWN])
        more = f" (first {SKIPPED_SHOWN} shown; all in --json)" if skipped["count"] > SKIPPED_SHOWN else ""
        lines.append(f"skipped {skipped['count']} unreadable file(s), not scored: {shown}{more}")
    return "\n".join(lines)


def _groups_text(groups: dict[str, Any]) -> str:
    lines = [f"per-group audit from {groups['source']}: {groups['n']:,} images, overall accuracy "
             f"{groups['overall_accuracy']:.4f}; intervals: {groups['n_boot']} bootstrap resamples, "
             f"seed {groups['seed']}"]  # fmt: skip
    for a in groups["attributes"]:
        w = a["worst"]
        worst = (
            f"worst group {w['value']!r} accuracy {w['accuracy']:.4f}, gap {w['gap']:+.4f} to overall"
            if w
            else f"no group of {groups['min_group']}+ images to name the worst"
        )
        missing = f"; {a['n_missing']} image(s) without a value" if a["n_missing"] else ""
        lines.append(f"{a['name']}: {worst}{missing}")  # fmt: skip
    for key, what in (("images_without_row", "image(s) without attributes"),
                      ("unmatched_rows", "row(s) matching no scored image")):  # fmt: skip
        if groups[key]["count"]:
            lines.append(f"{groups[key]['count']} {what}, e.g. {', '.join(groups[key]['first'])}")
    if groups["duplicate_rows"]:
        lines.append(f"{groups['duplicate_rows']} duplicate row(s) ignored (the first row of an image is used)")
    return "\n".join(lines)


def render_report(report: dict[str, Any]) -> RenderableType:
    """Headline, per-class table, confusion matrix (rows true, columns predicted) and the group tables."""
    parts: list[RenderableType] = [Text(_headline(report))]  # Text: no markup, so '[val]' stays literal
    parts.append(per_class_table(report["per_class"], title="per class").to_rich())
    parts.append(confusion_table(report["classes"], report["confusion_matrix"],
                                 title="confusion matrix (rows true, columns predicted)").to_rich())  # fmt: skip
    groups = report.get("groups")
    if groups:
        parts.append(Text(_groups_text(groups)))
        parts += [group_table(a, report["classes"], groups["confidence"]).to_rich() for a in groups["attributes"]]
    return Group(*parts)


def _load(args: argparse.Namespace, config: Any) -> Any:
    from facesweep.io import load_dataset

    detect = None
    if args.detect or args.detector or args.detector_model:  # align on the model's own template unless told
        detect = crop_spec_from_args(args, template=None if args.template_from else model_crop_template(args.model))
    try:
        return load_dataset(
            config.task,
            args.data,
            image_size=config.image_size,
            channels=config.channels,
            whole=args.split in (None, "test"),  # a named train/val split of a bare folder is made as in training
            progress=sys.stderr.isatty() and not args.json,
            ignore_classes=args.ignore_class,
            detect=detect,
        )
    except DataError as exc:
        hint = getattr(exc, "task_hint", None)
        if hint:  # the task comes from the model here, not from a --task flag
            text = str(exc).replace(f"did you mean --task {hint}?", f"these look like {hint} classes: use a {hint} "
                                    f"model (e.g. --model pretrained:{hint})")  # fmt: skip
            raise DataError(text) from None
        raise


def run(args: argparse.Namespace) -> int:
    from facesweep.model.artifacts import load_model
    from facesweep.model.evaluate import evaluate

    model = load_model(args.model)
    config = model.config
    data = _load(args, config)
    if tuple(data.classes) != tuple(model.classes):
        raise DataError(f"the data's classes {list(data.classes)} differ from the model's {list(model.classes)}")
    split_name = pick_split(data.splits, args.split)
    split = data.splits[split_name]
    if len(split) == 0:
        raise DataError(f"split {split_name!r} is empty")
    attributes = read_attributes(args, split, data.source)
    evaluation = evaluate(model, split, tta=args.tta, skipped=data.skipped)
    groups = None
    if attributes is not None:
        from facesweep.model.groups import audit_groups

        groups = audit_groups(evaluation, attributes[0], match=attributes[1], min_group=args.min_group).to_dict()
    report = {
        "model": str(args.model),
        "task": config.task,
        "data": args.data,
        "data_source": data.source,
        "split": split_name,
        "ignored_classes": list(args.ignore_class),
        "faces": data.info.get("faces"),  # with --detect: face/whole/none counts; none_paths were not scored
        **evaluation.to_dict(),
        "groups": groups,
    }
    if args.json:
        print(json.dumps(report))
    else:
        stdout_console().print(render_report(report))
    return 0
