"""`facesweep evaluate`: accuracy, macro-F1, a per-class table and the confusion matrix of a saved model.

    facesweep evaluate --model runs/train/emotion-20250101-120000 --data ~/fer2013 --split val
    facesweep evaluate --model pretrained:gender --data ~/gender_test --json     # a bare <class>/ folder
    facesweep evaluate --model runs/x/best --tta                                  # synthetic faces, flip TTA

The data is loaded for the model's own task, image size and channels. With no ``--split`` (or ``--split test``)
no split is made (``whole=True``): a folder with split folders keeps them, a bare folder of class folders becomes
one split named ``test``; the default split is ``test`` when there is one, else ``val``. ``--split val`` on a bare
folder makes the same seeded, stratified split as training (val fraction 0.2, seed 0), to score a model on the
images it was validated on. Flip TTA follows the model's own setting unless ``--tta``/``--no-tta`` say otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from facesweep.cli.common import add_command, stdout_console
from facesweep.errors import DataError

SUMMARY = "Accuracy, macro-F1, per-class table and confusion matrix of a saved model"
EXAMPLES = """
    facesweep evaluate --model runs/emotion/best --data ~/fer2013 --split val --json
    facesweep evaluate --model pretrained:gender --data ~/gender_test
"""
DEFAULT_SPLITS = ("test", "val")  # tried in this order when --split is not given


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
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


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


def evaluate_model(model: Any, images: Any, labels: Any, *, tta: bool | None = None) -> dict[str, Any]:
    """``classification_metrics`` of ``model`` on ``images``/``labels`` plus mean log-loss; the library half."""
    import numpy as np

    from facesweep.model.metrics import classification_metrics

    probs = model.predict(images, tta=tta)
    result = classification_metrics(labels, probs.argmax(axis=1), len(model.classes))
    picked = probs[np.arange(len(labels)), labels] if len(labels) else np.zeros(0)
    result["loss"] = float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0)))) if len(labels) else 0.0
    return result


def render_report(report: dict[str, Any]) -> RenderableType:
    """Headline, per-class table and confusion matrix (rows true, columns predicted) from the JSON report."""
    classes = report["classes"]
    head = (
        f"{report['model']} on {report['data_source']} [{report['split']}], n={report['n']:,}"
        f"{' (TTA)' if report['tta'] else ''}\n"
        f"accuracy {report['accuracy']:.4f}   macro-F1 {report['macro_f1']:.4f}   log-loss {report['loss']:.4f}"
    )
    per_class = Table(title="per class", title_justify="left")
    for col in ("class", "precision", "recall", "F1", "support"):
        per_class.add_column(col, justify="left" if col == "class" else "right")
    for row in report["per_class"]:
        per_class.add_row(
            row["name"], f"{row['precision']:.3f}", f"{row['recall']:.3f}", f"{row['f1']:.3f}", f"{row['support']:,}"
        )
    matrix = Table(title="confusion matrix (rows true, columns predicted)", title_justify="left")
    matrix.add_column("true \\ pred")
    for name in classes:
        matrix.add_column(name[:8], justify="right")
    for name, counts in zip(classes, report["confusion_matrix"], strict=True):
        matrix.add_row(name, *(f"{c:,}" for c in counts))
    return Group(Text(head), per_class, matrix)  # Text: no markup, so '[val]' stays literal


def run(args: argparse.Namespace) -> int:
    from facesweep.io import load_dataset
    from facesweep.model.artifacts import load_model

    model = load_model(args.model)
    config = model.config
    data = load_dataset(
        config.task,
        args.data,
        image_size=config.image_size,
        channels=config.channels,
        whole=args.split in (None, "test"),  # a named train/val split of a bare folder is made as in training
        progress=sys.stderr.isatty() and not args.json,
    )
    if tuple(data.classes) != tuple(model.classes):
        raise DataError(f"the data's classes {list(data.classes)} differ from the model's {list(model.classes)}")
    split_name = pick_split(data.splits, args.split)
    split = data.splits[split_name]
    if len(split) == 0:
        raise DataError(f"split {split_name!r} is empty")
    start = time.perf_counter()
    result = evaluate_model(model, split.images, split.labels, tta=args.tta)
    for row in result["per_class"]:
        row["name"] = model.classes[row["class"]]
    report = {
        "model": str(args.model),
        "task": config.task,
        "data": args.data,
        "data_source": data.source,
        "split": split_name,
        "tta": model.tta if args.tta is None else args.tta,
        "classes": list(model.classes),
        **result,
        "seconds": round(time.perf_counter() - start, 3),
    }
    if args.json:
        print(json.dumps(report))
    else:
        stdout_console().print(render_report(report))
    return 0
