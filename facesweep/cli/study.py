"""`facesweep study`: Optuna sweep over depth, epochs and more; resumable, SQLite or PostgreSQL.

Parses flags, calls ``facesweep.sweep.run_study``, shows progress (a live table on a terminal, one line per trial
otherwise) and prints a summary (``--json``: one object on stdout). Ctrl-C exits 130 with storage consistent.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facesweep.cli.common import add_command, stderr_console, stdout_console
from facesweep.errors import UsageError
from facesweep.verdicts.rules import MIN_EFFECT
from facesweep.verdicts.sequential import DEFAULT_MAX_SEEDS

SUMMARY = "Optuna sweep over depth, epochs and more; balanced depths, seed replicates; resumable, SQLite or PostgreSQL"
EXAMPLES = """
    facesweep study --trials 30                                  synthetic faces, ./facesweep.db, ./runs/; then
                                                                 seeds until both answers are decided
    facesweep study --max-seeds 21 --min-effect 0.5              more seeds allowed; half a point is worth having
    facesweep study --trials 40 --replicates 5                   10 trials per depth 1..4, then a fixed 5 seeds
    facesweep study --design tpe --trials 50                     the sampler picks depths too: just the best model
    facesweep study --task emotion --data ~/fer2013 --trials 50 --metric val_macro_f1
    facesweep study --space space.toml --pruner median           e.g. [depth] low=1 high=4 / [epochs] value=3
    facesweep study --storage postgresql://user:pw@db/facesweep  run this on several machines: one shared study
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "study", SUMMARY, EXAMPLES, run)
    parser.add_argument("--task", choices=("emotion", "gender"), default="emotion", help="default: emotion")
    parser.add_argument("--data", help="dataset folder or FER-2013 CSV (default: the built-in synthetic faces)")
    parser.add_argument("--trials", type=int, default=30,
                        help="search trials to finish (complete or pruned), replicates not counted (default: 30)")
    parser.add_argument("--design", choices=("balanced", "tpe"), default="balanced",
                        help="balanced (default): every depth of the space gets an equal share of the trials, TPE "
                        "tunes the rest; tpe: the sampler picks the depth too (best model, uneven depths)")
    parser.add_argument("--replicates", type=int, metavar="K",
                        help="a fixed design: after the search, re-train each depth's best configuration with K "
                        "more seeds (full epochs, no pruning or early stopping), read once; 0 = off (default for "
                        "balanced: seeds until decided, see --max-seeds; for tpe: 0)")
    parser.add_argument("--max-seeds", type=int, default=DEFAULT_MAX_SEEDS, metavar="N",
                        help="seeds until decided: 3 seeds per depth's best configuration, then rounds of 2 more "
                        "for the depths whose step or epoch verdict is still open, at most N per depth (default: "
                        f"{DEFAULT_MAX_SEEDS}); the intervals are spent over the planned rounds, so stopping early "
                        "keeps them valid")  # fmt: skip
    parser.add_argument("--min-effect", type=float, default=100 * MIN_EFFECT, metavar="POINTS",
                        help="the smallest difference worth having, in points of the metric: a step whose interval "
                        f"lies below it is 'no gain' (default: {100 * MIN_EFFECT:g})")  # fmt: skip
    parser.add_argument("--timeout", type=float,
                        help="seconds after which no new trial starts (also the time budget of the seed rounds)")
    parser.add_argument("--storage", help="Optuna storage URL (default: sqlite:///WORKDIR/facesweep.db)")
    parser.add_argument("--study-name", help="default: TASK-DATA, e.g. emotion-synthetic, emotion-fer2013")
    parser.add_argument("--metric", choices=("val_accuracy", "val_macro_f1"), default="val_accuracy")
    parser.add_argument("--pruner", choices=("auto", "depth-median", "hyperband", "median", "none"), default="auto",
                        help="auto (default): depth-median for balanced (a trial is compared with its own depth's, "
                        "after that depth has 5 complete), hyperband for tpe")
    parser.add_argument("--space", type=Path, help="TOML file overriding the search space")
    parser.add_argument("--seed", type=int, default=0, help="sampler and training seed (default: 0)")
    parser.add_argument("--workdir", type=Path, default=Path("."), help="holds facesweep.db and runs/ (default: .)")
    parser.add_argument("--keep", type=int, default=5, help="models kept on disk, best first (default: 5)")
    parser.add_argument("--jobs", type=int, default=1, help="trials at once in this process (pays on a GPU)")
    parser.add_argument("--heartbeat", type=int, default=10, metavar="S",
                        help="seconds between a trial's heartbeats; a killed worker's trial fails after 3x this")
    parser.add_argument("--train-limit", type=int, metavar="N",
                        help="train on a fixed subset of N train images (default: 2000 for the synthetic set, "
                        "all for real data; 0 = all)")
    parser.add_argument("--json", action="store_true", help="print a summary object on stdout")
    # For tests and quick tries: the synthetic set's size, "N_TRAIN,N_VAL".
    parser.add_argument("--synthetic-size", help=argparse.SUPPRESS)


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        n_train, n_val = (int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--synthetic-size must be N_TRAIN,N_VAL, got {text!r}") from None
    return n_train, n_val


def run(args: argparse.Namespace) -> int:
    import optuna

    from facesweep.model.config import config_for_task
    from facesweep.sweep import StudyOptions, load_space, run_study
    from facesweep.sweep.progress import LiveReporter, PlainReporter
    from facesweep.sweep.progress import format_seconds as fmt

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space(args.space, config_for_task(args.task)) if args.space else None
    options = StudyOptions(
        task=args.task, data=args.data, trials=args.trials, timeout=args.timeout, storage=args.storage,
        study_name=args.study_name, metric=args.metric, pruner=args.pruner, space=space, seed=args.seed,
        design=args.design, replicates=args.replicates, max_seeds=args.max_seeds, min_effect=args.min_effect / 100,
        workdir=args.workdir, keep=args.keep, jobs=args.jobs, heartbeat=args.heartbeat,
        synthetic_size=_parse_size(args.synthetic_size),
        train_limit=-1 if args.train_limit is None else (args.train_limit or None),
    )  # fmt: skip
    out, err = stdout_console(), stderr_console()
    if args.json:
        reporter = PlainReporter(err)
    elif out.is_terminal:
        reporter = LiveReporter(out)
    else:
        reporter = PlainReporter(out)
    summary = run_study(options, reporter=reporter, notify=lambda m: err.print(m, markup=False, highlight=False))
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
        return 0
    overhead = summary.overhead_seconds / summary.wall_seconds if summary.wall_seconds else 0.0
    out.print(
        f"{summary.study_name}: {summary.complete + summary.pruned} of {summary.target} trials done "
        f"({summary.complete} complete, {summary.pruned} pruned, {summary.failed} failed); "
        f"this run {fmt(summary.wall_seconds)}, training {fmt(summary.train_seconds)}, "
        f"sweep overhead {100 * overhead:.1f}%",
        markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip
    by_depth = ", ".join(f"{d}: {n}" for d, n in summary.complete_by_depth.items())
    replicates = (f"; seed replicates {summary.replicates_complete} of {summary.replicates_target} planned "
                  f"({summary.replicates} per depth to start)") if summary.replicates else ""  # fmt: skip
    out.print(f"design {summary.design}: complete trials by depth {by_depth}{replicates}",
              markup=False, highlight=False, soft_wrap=True)  # fmt: skip
    if summary.lead:
        state = "decided" if summary.decided else "still open (more seeds: --max-seeds, or run again)"
        out.print(f"answers {state}: deeper? {summary.lead[0]}; more epochs? {summary.lead[1]} "
                  "(facesweep report shows the numbers)", markup=False, highlight=False, soft_wrap=True)  # fmt: skip
    if summary.best is not None:
        params = " ".join(f"{k}={v}" for k, v in summary.best["params"].items())
        where = f" -> {summary.best_dir}" if summary.best_dir else ""
        out.print(
            f"best: trial {summary.best['number']} {summary.metric}={summary.best['value']:.4f} {params}{where}",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
    return 0
