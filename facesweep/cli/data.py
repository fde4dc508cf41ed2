"""`facesweep data`: class counts, shares and image sizes of a dataset (the report's EDA).

facesweep data                                   # the built-in synthetic faces
facesweep data --data ~/fer2013 --json           # one JSON object for scripts
facesweep data --task gender --data ~/gender     # shows the seeded stratified split it made
facesweep data --task gender --data ~/photos --detect --debug   # faces found / used whole / none (listed)
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

from facesweep.cli.common import add_command, add_detect_arguments, crop_spec_from_args, faces_line, stdout_console
from facesweep.io import load_dataset
from facesweep.io.summary import summarize_dataset
from facesweep.tasks import TASKS

SUMMARY = "Show class counts, shares and image sizes of a dataset (the report's EDA)"
EXAMPLES = """
    facesweep data
    facesweep data --data ~/fer2013 --json
    facesweep data --task gender --data ~/gender --val-fraction 0.25 --seed 1
    facesweep data --task emotion --data ~/ckplus --detect --json
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "data", SUMMARY, EXAMPLES, run)
    parser.add_argument("--task", choices=sorted(TASKS), default="emotion", help="task preset (default: emotion)")
    parser.add_argument(
        "--data", metavar="PATH", help="image folders or a FER-2013 CSV (default: the built-in synthetic faces)"
    )
    parser.add_argument(
        "--val-fraction", type=float, default=0.2, metavar="F", help="val share when a split is made (default 0.2)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the stratified split (default 0)")
    parser.add_argument("--no-cache", action="store_true", help="decode again instead of using the cache")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    add_detect_arguments(parser)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    dataset = load_dataset(
        args.task,
        args.data,
        val_fraction=args.val_fraction,
        seed=args.seed,
        cache=not args.no_cache,
        progress=sys.stderr.isatty(),
        detect=crop_spec_from_args(args),
    )
    summary = summarize_dataset(dataset)
    faces = dataset.info.get("faces")
    if faces is not None:
        summary["faces"] = {k: v for k, v in faces.items() if k != "none_paths" or args.sub_debug}
        for path in faces["none_paths"] if args.sub_debug else ():
            print(f"facesweep data: no face: {path}", file=sys.stderr)
    summary["data"] = args.data
    summary["load_seconds"] = round(time.perf_counter() - start, 3)
    if summary["skipped"]["count"]:
        print(f"facesweep data: warning: {skipped_line(summary['skipped'])}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    else:
        stdout_console().print(render_summary(summary))
    return 0


def skipped_line(skipped: dict[str, Any]) -> str:
    shown = ", ".join(skipped["first"])
    more = f" (first {len(skipped['first'])} shown)" if skipped["count"] > len(skipped["first"]) else ""
    return f"skipped {skipped['count']} unreadable file(s): {shown}{more}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def _range(axis: dict[str, float]) -> str:
    return f"{axis['min']}..{axis['max']} (median {axis['median']:g})"


def render_summary(summary: dict[str, Any]) -> RenderableType:
    """The EDA as rich renderables; a pure function of the summary dict."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("task", summary["task"])
    facts.add_row("source", f"{summary['source']}  (cache {summary['cache']}, {summary['load_seconds']:.2f} s)")
    facts.add_row("model input", "x".join(str(v) for v in summary["input_shape"]) + "  (height x width x channels)")
    raw = summary["raw_sizes"]
    if raw:
        facts.add_row("stored width", _range(raw["width"]))
        facts.add_row("stored height", _range(raw["height"]))
        facts.add_row("stored channels", ", ".join(f"{c}: {n:,} images" for c, n in raw["channels"].items()))
    made = summary["split_made"]
    if made:
        base = "all images" if made["from"] == "all" else "train"
        facts.add_row(
            "split made",
            f"seeded stratified: val = {100 * made['val_fraction']:g}% of {base} per class, seed {made['seed']} "
            "(--val-fraction, --seed)",
        )
    elif summary["layout"] != "synthetic":
        facts.add_row("splits", f"as given: {', '.join(summary['splits'])}")
    if summary["missing_classes"]:
        facts.add_row("no images", Text(", ".join(summary["missing_classes"]), style="yellow"))
    if summary["skipped"]["count"]:
        facts.add_row("skipped", Text(skipped_line(summary["skipped"]), style="yellow"))
    if summary.get("faces"):
        facts.add_row("faces", faces_line(summary["faces"]))

    table = Table(show_footer=True)
    table.add_column("class", footer="total\nimbalance (max/min)")
    for name, split in summary["splits"].items():
        table.add_column(name, justify="right", footer=f"{split['total']:,}\n{_ratio(split['imbalance'])}")
        table.add_column("share", justify="right", footer="100.0%\n", style="dim")
    for cls in next(iter(summary["splits"].values()))["counts"]:
        cells = []
        for split in summary["splits"].values():
            cells += [f"{split['counts'][cls]:,}", f"{100 * split['shares'][cls]:.1f}%"]
        table.add_row(cls, *cells)
    return Group(facts, table)
