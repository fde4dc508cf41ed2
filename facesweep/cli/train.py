"""`facesweep train`: train one CNN (a preset or explicit depth/width) and save it as an artifact.

    facesweep train --preset seed-emotion-1 --data ~/fer2013 --epochs 30 --patience 5
    facesweep train --task gender --data ~/gender --depth 5 --width 32 --dense 128 --epochs 20
    facesweep train --epochs 3 --json            # the built-in synthetic faces; one JSON object on stdout

Progress: an epoch bar with the running loss/accuracy, one line per epoch, compile time reported apart; plain
lines when stdout is not a terminal. Ctrl-C stops after saving the best epoch so far (exit 130).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from facesweep.cli.common import add_command, add_detect_arguments, crop_spec_from_args, faces_line, stdout_console
from facesweep.errors import UsageError
from facesweep.model.config import Config, config_for_task, flag_fields
from facesweep.tasks import TASKS

SUMMARY = "Train one CNN (a preset or explicit depth/width) and save it as an artifact"
EXAMPLES = """
    facesweep train --task emotion --preset seed-emotion-1 --data ~/fer2013 --epochs 30
    facesweep train --task gender --data ~/gender --depth 5 --width 32 --dense 128 --epochs 20 --patience 4
    facesweep train --epochs 3 --json
    facesweep train --task gender --data ~/gender --detect --epochs 20    # on aligned faces; the template is kept
    facesweep train --task gender --data ~/gender --image-size 48 --channels 1 --init-from pretrained:emotion \
      --depth 4 --width 64 --max-width 256 --convs-per-block 2 --dense 256 --epochs 40 --lr 5e-4
    facesweep train --task gender --data ~/utk --epochs 10 --select worst-group \
      --groups-from-name '^(?P<age>\\d+)_\\d_(?P<race>\\d)_' --bin age=0,18,30,45,60,120   # keep the fairest epoch
"""

# flag dest -> Config field for every flag that overrides a field, from the field's metadata (Config is the one place)
OVERRIDES = {f.metadata["flag"].removeprefix("--").replace("-", "_"): f.name for f in flag_fields()}
STEP_REFRESH = 10  # fetch the running loss from the device every this many steps (each fetch waits for it)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "train", SUMMARY, EXAMPLES, run)
    p.add_argument("--task", choices=sorted(TASKS), help="task (default: the preset's, else emotion)")
    p.add_argument("--data", metavar="PATH", help="image folders or a FER-2013 CSV (default: synthetic faces)")
    p.add_argument("--preset", metavar="NAME", help="a named architecture, e.g. seed-emotion-1 (flags override it)")
    arch = p.add_argument_group("architecture (override the preset or the task default)")
    tr = p.add_argument_group("training")
    for spec in flag_fields():  # every Config field's flag, type and help come from its metadata
        add_field_flag(arch if spec.metadata["architecture"] else tr, spec)
    tr.add_argument(
        "--init-from",
        metavar="MODEL",
        help="fine-tune from a model (DIR or pretrained:NAME): same-shape layers are copied, the rest start fresh",
    )
    sel = p.add_argument_group("epoch selection (default: the last epoch, or the best by --monitor with --patience)")
    sel.add_argument("--select", choices=("last", "worst-group"), default="last",
                     help="worst-group: keep the epoch whose worst validation group scores best "
                          "(needs --groups-from-name or --groups)")  # fmt: skip
    groups = sel.add_mutually_exclusive_group()
    groups.add_argument(
        "--groups-from-name",
        metavar="REGEX",
        help="groups from validation file names, as evaluate's, e.g. '^(?P<age>\\d+)_' (UTKFace)",
    )
    groups.add_argument("--groups", metavar="FILE.csv", help="groups from a CSV of image paths and attribute columns")
    sel.add_argument(
        "--bin",
        action="append",
        default=[],
        metavar="ATTR=EDGES",
        help="group a numeric attribute into bands, e.g. age=0,18,30,45,60,120 (repeatable)",
    )
    sel.add_argument(
        "--select-metric",
        choices=("recall", "accuracy"),
        default="recall",
        help="worst class recall within a group (default) or worst group accuracy",
    )
    sel.add_argument(
        "--min-group",
        type=int,
        default=10,
        metavar="N",
        help="images a group (recall: a group's class) needs to be scored (default 10)",
    )
    out = p.add_argument_group("output")
    out.add_argument("--out", metavar="DIR", help="artifact directory (default runs/train/<task>-<timestamp>)")
    out.add_argument("--half", action="store_true", help="save float16 weights (half the size)")
    out.add_argument("--json", action="store_true", help="print one JSON object instead of progress")
    add_detect_arguments(p)


def add_field_flag(group: argparse._ArgumentGroup, spec: dataclasses.Field) -> None:
    """The flag of one ``Config`` field: type from its default; a bool ``--no-x`` flag stores False."""
    meta = spec.metadata
    default = spec.default
    if isinstance(default, bool):
        group.add_argument(meta["flag"], action="store_const", const=not default, help=meta["help"])
        return
    kind = None if isinstance(default, tuple) else type(default)  # dense stays a string such as "256,512"
    group.add_argument(meta["flag"], type=kind, metavar=meta["metavar"], choices=meta["choices"], help=meta["help"])


def build_config(args: argparse.Namespace) -> Config:
    """The run's config: preset (or task default), then every flag given; validated."""
    from facesweep.model.presets import get_preset

    if args.preset:
        config = get_preset(args.preset)
        if args.task and args.task != config.task:
            raise UsageError(f"--task {args.task} does not match preset {args.preset!r} (task {config.task})")
    else:
        config = config_for_task(args.task or "emotion")
    overrides: dict[str, Any] = {
        field: getattr(args, dest) for dest, field in OVERRIDES.items() if getattr(args, dest) is not None
    }
    return dataclasses.replace(config, **overrides).validate()


def format_epoch(record: dict, epochs: int) -> str:
    """One line per epoch: the same numbers the history holds."""
    width = len(str(epochs))
    return (
        f"epoch {record['epoch']:>{width}}/{epochs}  "
        f"train loss {record['train_loss']:.4f} acc {record['train_accuracy']:.3f}  "
        f"val loss {record['val_loss']:.4f} acc {record['val_accuracy']:.3f} macro-F1 {record['val_macro_f1']:.3f}  "
        f"lr {record['learning_rate']:.2e}  {record['epoch_seconds']:.1f}s"
        + (f"  worst group {record['select_score']:.3f}" if "select_score" in record else "")
    )


def format_summary(result: Any, path: Path) -> str:
    best = result.history[result.best_epoch - 1] if result.best_epoch else None
    how = "interrupted" if result.interrupted else "stopped early" if result.stopped_early else "done"
    lines = [
        f"{how}: {len(result.history)} epoch(s) in {result.train_seconds:.1f}s "
        f"(+ {result.compile_seconds:.1f}s compile), {result.param_count:,} parameters",
    ]
    if best is not None:
        lines.append(
            f"best epoch {result.best_epoch}: val acc {best['val_accuracy']:.3f}, macro-F1 {best['val_macro_f1']:.3f}"
        )
    lines.append(f"saved {path}")
    return "\n".join(lines)


class _ProgressView:
    """Epoch bar + per-epoch lines on a TTY; plain lines otherwise. Rendering only; the engine owns state."""

    def __init__(self, console: Console, config: Config) -> None:
        self.console = console
        self.epochs = config.epochs
        self.live = console.is_terminal
        self.bar: Progress | None = None
        self.handle: Any = None
        self.running: dict[str, float] = {}

    def __enter__(self) -> _ProgressView:
        if self.live:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[stats]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def on_compile(self, seconds: float) -> None:
        self.console.print(f"compiled train and eval steps in {seconds:.1f}s" if seconds else "steps already compiled")

    def on_step(self, epoch: int, step: int, total: int, metrics: dict) -> None:
        if self.bar is None:
            return
        if self.handle is None or step == 1:
            if self.handle is not None:
                self.bar.remove_task(self.handle)
            self.handle = self.bar.add_task(f"epoch {epoch}/{self.epochs}", total=total, stats="")
            self.running = {}
        if step % STEP_REFRESH == 0 or step == total:
            # Exponential running mean of the sampled steps; float() waits for the device, hence sparingly.
            for key in ("loss", "accuracy"):
                value = float(metrics[key])
                self.running[key] = value if key not in self.running else 0.8 * self.running[key] + 0.2 * value
            stats = f"loss {self.running['loss']:.4f} acc {self.running['accuracy']:.3f}"
            self.bar.update(self.handle, completed=step, stats=stats)
        else:
            self.bar.update(self.handle, completed=step)

    def on_epoch(self, epoch: int, record: dict) -> None:
        self.console.print(format_epoch(record, self.epochs), soft_wrap=True)


def selection_hook(args: argparse.Namespace, config: Config, data: Any) -> tuple[Any, list]:
    """``(score_epoch, worst groups seen)`` for ``--select worst-group``, ``(None, [])`` otherwise; the groups are
    read and checked here, before anything compiles (a one-line ``DataError`` when they cannot be)."""
    if args.select != "worst-group":
        if args.groups_from_name or args.groups or args.bin:
            raise UsageError("--groups-from-name, --groups and --bin need --select worst-group")
        return None, []
    from facesweep.cli.evaluate import parse_bins
    from facesweep.model.select import read_groups, worst_group_scorer

    if not (args.groups_from_name or args.groups):
        raise UsageError("--select worst-group needs --groups-from-name REGEX or --groups FILE.csv")
    if args.min_group < 1:
        raise UsageError(f"--min-group must be 1 or more, got {args.min_group}")
    attrs, _ = read_groups(data.val.paths, pattern=args.groups_from_name, csv=args.groups,
                           bins=parse_bins(args.bin), root=args.data)  # fmt: skip
    seen: list = []
    scorer = worst_group_scorer(
        config,
        data.classes,
        data.val,
        attrs,
        metric=args.select_metric,
        min_group=args.min_group,
        on_score=lambda epoch, worst, _: seen.append(worst),
    )
    return scorer, seen


def run(args: argparse.Namespace) -> int:
    from facesweep.io import load_dataset
    from facesweep.model.artifacts import save_model
    from facesweep.model.train import train_and_evaluate

    config = build_config(args)
    console = stdout_console()
    data = load_dataset(
        config.task,
        args.data,
        seed=config.seed,
        image_size=config.image_size,
        channels=config.channels,
        progress=sys.stderr.isatty() and not args.json,
        detect=crop_spec_from_args(args),
    )
    faces = data.info.get("faces")
    out = Path(args.out) if args.out else Path("runs") / "train" / f"{config.task}-{time.strftime('%Y%m%d-%H%M%S')}"
    if not args.json:
        console.print(
            f"training {args.preset or 'custom'} on {data.source}: {len(data.train):,} train / {len(data.val):,} val, "
            f"depth {config.depth} widths {'/'.join(map(str, config.block_widths()))} "
            f"dense {','.join(map(str, config.dense)) or 'none'}, {config.epochs} epochs",
            soft_wrap=True,
        )
        if faces is not None:
            console.print(f"faces: {faces_line(faces)}", soft_wrap=True)
    initial = None
    if args.init_from:
        from facesweep.model.artifacts import load_model
        from facesweep.model.train import transfer_variables

        initial = transfer_variables(load_model(args.init_from).variables, config, seed=config.seed)
    score_epoch, worst_seen = selection_hook(args, config, data)
    if args.json:
        result = train_and_evaluate(config, data, stop_on_interrupt=True, initial_variables=initial,
                                    score_epoch=score_epoch)  # fmt: skip
    else:
        with _ProgressView(console, config) as view:
            result = train_and_evaluate(
                config,
                data,
                on_epoch=view.on_epoch,
                on_step=view.on_step,
                on_compile=view.on_compile,
                stop_on_interrupt=True,
                initial_variables=initial,
                score_epoch=score_epoch,
            )
    extra = {
        "command": "train",
        "preset": args.preset,
        "init_from": args.init_from,
        "data": args.data,
        "data_source": data.source,
        "best_epoch": result.best_epoch,
        "select": args.select,
        "worst_group": worst_seen[result.best_epoch - 1].describe() if worst_seen and result.best_epoch else None,
        "stopped_early": result.stopped_early,
        "interrupted": result.interrupted,
        "compile_seconds": result.compile_seconds,
        "train_seconds": result.train_seconds,
        "param_count": result.param_count,
    }
    if faces is not None:  # the crop the model learned from: live and --detect align faces the same way
        result.model.crop = {"template": faces["template"], "detector": faces["detector"]["name"]}
        extra["faces"] = faces["counts"]
    path = save_model(out, result.model, result.history, extra, dtype="float16" if args.half else "float32")
    if args.json:
        print(json.dumps({"artifact": str(path), "task": config.task, "config": config.to_dict(),
                          "history": result.history, **extra}))  # fmt: skip
    else:
        console.print(format_summary(result, path), soft_wrap=True)
        if extra["worst_group"]:
            console.print(f"chosen by its worst validation group: {extra['worst_group']}", soft_wrap=True)
    if result.interrupted:
        print("facesweep train: interrupted; kept the best epoch so far", file=sys.stderr)
        return 130
    return 0
