"""What a study is asked to do (``StudyOptions``, checked by ``check_options``) and what it reports back
(``StudySummary``): plain data, no Optuna calls.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facesweep.errors import UsageError
from facesweep.sweep import schema
from facesweep.sweep.schema import DESIGNS
from facesweep.sweep.space import SearchSpace
from facesweep.sweep.storage import DEFAULT_HEARTBEAT, default_storage_url
from facesweep.verdicts.rules import MIN_EFFECT
from facesweep.verdicts.sequential import DEFAULT_MAX_SEEDS, DEFAULT_START, SeedPlan

METRICS = ("val_accuracy", "val_macro_f1")
PRUNERS = ("auto", "depth-median", "hyperband", "median", "none")
# The default synthetic sweep trains on this many of the 7000 synthetic train images (val stays whole) so that
# `facesweep study --trials 30`, seeds until decided included, fits in about ten minutes on a 2-core CPU (1,000
# with batch 64 left some seeds at chance: too few updates).
SYNTHETIC_TRAIN_LIMIT = 2000




@dataclass(frozen=True)
class StudyOptions:
    task: str = "emotion"  # "emotion" | "gender"
    data: str | None = None  # dataset path; None = the embedded synthetic set
    trials: int = 30  # search trials wanted in storage, in total: complete + pruned (failed ones are re-run)
    timeout: float | None = None  # seconds after which this worker starts no new trial
    storage: str | None = None  # Optuna storage URL; None = sqlite:///<workdir>/facesweep.db
    study_name: str | None = None  # None = "<task>-<data name>", e.g. emotion-synthetic
    metric: str = "val_accuracy"  # "val_accuracy" | "val_macro_f1"; maximized
    pruner: str = "auto"  # "auto" (depth-median for balanced, hyperband for tpe) | "depth-median" | "hyperband" |
    #                       "median" | "none"
    design: str = "balanced"  # "balanced": depth assigned in equal shares | "tpe": the sampler picks it
    replicates: int | None = None  # a fixed K seeds per depth's best config; None = seeds until decided (balanced),
    #                                0 (tpe)
    max_seeds: int = DEFAULT_MAX_SEEDS  # seeds per depth at most, seeds until decided
    min_effect: float = MIN_EFFECT  # metric units: the smallest difference worth having (the no-gain band)
    space: SearchSpace | None = None  # None = default_space(task, data size)
    seed: int = 0  # sampler seed (per trial: seed and trial number) and Config.seed
    workdir: Path = Path(".")  # holds facesweep.db and runs/<study>/
    keep: int = 5  # models kept on disk (top-k by metric)
    jobs: int = 1  # trials at once in this process (threads); ~1.2x on a 2-core CPU, not reproducible
    heartbeat: int = DEFAULT_HEARTBEAT  # seconds between heartbeats; a trial is stale after 3 missed
    synthetic_size: tuple[int, int] | None = None  # (n_train, n_val) of the synthetic set; None = the default
    train_limit: int | None = -1  # train on at most this many images (fixed seeded subset); None = all,
    #                               -1 = SYNTHETIC_TRAIN_LIMIT for the default synthetic set, all for real data

    def resolved_storage(self) -> str:
        return self.storage or default_storage_url(self.workdir)

    def resolved_name(self) -> str:
        return self.study_name or default_study_name(self.task, self.data)

    def resolved_pruner(self) -> str:
        if self.pruner != "auto":
            return self.pruner
        return "depth-median" if self.design == schema.DESIGN_BALANCED else "hyperband"

    def resolved_seed_plan(self) -> SeedPlan | None:
        """The fixed ``--replicates K``, seeds until decided (balanced default), or None (no replicates)."""
        if self.replicates is not None:
            return SeedPlan.fixed(self.replicates, self.min_effect) if self.replicates > 0 else None
        if self.design != schema.DESIGN_BALANCED:
            return None
        return SeedPlan(max_seeds=self.max_seeds, min_effect=self.min_effect)


@dataclass
class StudySummary:
    study_name: str
    storage: str  # redacted
    task: str
    metric: str
    target: int  # search trials wanted (complete + pruned)
    complete: int  # complete search trials in storage (replicates not counted)
    pruned: int
    failed: int  # trials that gave way to another worker's ("surplus", never trained) not counted
    run_complete: int  # search trials finished by this worker in this run
    run_pruned: int
    run_failed: int
    design: str  # "balanced" | "tpe"
    complete_by_depth: dict[int, int]  # complete search trials per depth
    replicates: int  # seeds per depth's best configuration in the first round (0: none)
    replicates_target: int  # seeds planned over the depths with a complete search trial (grows by rounds)
    replicates_complete: int  # complete replicates of those sources in storage
    run_replicates: int  # replicates completed by this worker in this run
    best: dict | None  # number, value, params, artifact
    best_dir: str | None  # runs/<study>/best when it exists
    wall_seconds: float
    data_seconds: float  # loading the data, once
    train_seconds: float  # inside train calls (compile + epochs) of this worker's trials
    messages: list[str] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)  # the verdicts as the report will lead with them (seeded studies)
    decided: bool | None = None  # both verdicts decided; None without seed replicates

    @property
    def overhead_seconds(self) -> float:
        """Sweep overhead: storage, sampling, reporting, artifacts (wall minus data loading and training)."""
        return max(0.0, self.wall_seconds - self.data_seconds - self.train_seconds)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["overhead_seconds"] = round(self.overhead_seconds, 3)
        out["overhead_fraction"] = round(self.overhead_seconds / self.wall_seconds, 4) if self.wall_seconds else 0.0
        for key in ("wall_seconds", "data_seconds", "train_seconds"):
            out[key] = round(out[key], 3)
        return out



def default_study_name(task: str, data: str | None) -> str:
    """``emotion-synthetic``, ``emotion-fer2013`` (from ``../shared/data/fer2013`` or ``fer2013.csv``)."""
    if data is None:
        return f"{task}-synthetic"
    path = Path(data)
    name = path.stem if path.suffix.lower() == ".csv" else path.resolve().name
    return f"{task}-" + (re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-") or "data")



def check_options(options: StudyOptions) -> None:
    if options.trials < 1:
        raise UsageError(f"--trials must be >= 1, got {options.trials}")
    if options.metric not in METRICS:
        raise UsageError(f"unknown metric {options.metric!r}; choose one of: {', '.join(METRICS)}")
    if options.pruner not in PRUNERS:
        raise UsageError(f"unknown pruner {options.pruner!r}; choose one of: {', '.join(PRUNERS)}")
    if options.keep < 1:
        raise UsageError(f"--keep must be >= 1 (the best model is always kept), got {options.keep}")
    if options.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {options.jobs}")
    if options.heartbeat < 1:
        raise UsageError(f"--heartbeat must be >= 1 second, got {options.heartbeat}")
    if options.timeout is not None and options.timeout <= 0:
        raise UsageError(f"--timeout must be > 0 seconds, got {options.timeout}")
    if options.design not in DESIGNS:
        raise UsageError(f"unknown design {options.design!r}; choose one of: {', '.join(DESIGNS)}")
    if options.replicates is not None and options.replicates < 0:
        raise UsageError(f"--replicates must be >= 0, got {options.replicates}")
    if options.max_seeds < DEFAULT_START:
        raise UsageError(f"--max-seeds must be >= {DEFAULT_START} (the first round), got {options.max_seeds}")
    if not 0 < options.min_effect < 1:
        raise UsageError(f"--min-effect must be between 0 and 100 points, got {100 * options.min_effect:g}")
