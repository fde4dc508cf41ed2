"""The Optuna adapter: a study's ``FrozenTrial`` list -> plain ``TrialRecord`` objects the report reads.

    from facesweep.report.records import record_from_trial, study_design
    records = [record_from_trial(t) for t in study.get_trials(deepcopy=False)]

Only this module knows Optuna's trial objects; every key it reads comes from ``facesweep.sweep.schema`` (the one
module the sweep writes them with). Everything after this (statistics, answers, rendering) is a function of
records, so a test or a notebook can build them by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from facesweep.sweep import schema as keys
from facesweep.sweep.schema import CURVE_KEYS
from facesweep.verdicts.sequential import SeedPlan

__all__ = ["CURVE_KEYS", "StudyInfo", "TrialRecord", "record_from_trial", "study_info"]


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the report needs it, independent of Optuna (user attributes per ``facesweep.sweep.schema``)."""

    number: int
    state: str  # "complete" | "pruned" | "fail" | "running" | "waiting"
    value: float | None  # the study's objective (None unless complete)
    params: dict[str, Any] = field(default_factory=dict)  # sampled parameters (Config field names)
    config: dict[str, Any] = field(default_factory=dict)  # full Config.to_dict()
    curve: dict[str, list[float]] = field(default_factory=dict)  # per-epoch metrics, one entry per epoch run
    param_count: int | None = None
    train_seconds: float | None = None
    compile_seconds: float | None = None
    best_epoch: int | None = None  # 1-based
    stopped_early: bool = False
    artifact: str | None = None
    duration_seconds: float | None = None  # wall time Optuna recorded (start -> complete)
    started: float | None = None  # POSIX seconds
    finished: float | None = None  # POSIX seconds
    role: str = "search"  # "search" | "replicate" (a seed replicate of a search trial)
    replicate_of: int | None = None  # for replicates: the search trial's number
    replicate_seed: int | None = None  # for replicates: the seed it ran with
    assigned_depth: int | None = None  # the depth a balanced design enqueued it with (before it ran)

    @property
    def is_replicate(self) -> bool:
        return self.role == keys.ROLE_REPLICATE

    @property
    def depth(self) -> int | None:
        value = self.params.get("depth", self.config.get("depth", self.assigned_depth))
        return None if value is None else int(value)

    @property
    def epochs(self) -> int | None:
        """Epochs the trial was configured to run."""
        value = self.params.get("epochs", self.config.get("epochs"))
        return None if value is None else int(value)

    @property
    def epochs_run(self) -> int:
        return max((len(v) for v in self.curve.values()), default=0)

    def series(self, key: str) -> np.ndarray:
        return np.asarray([np.nan if v is None else v for v in self.curve.get(key, [])], dtype=np.float64)

    def at_epoch(self, key: str, epoch: int) -> float | None:
        """The curve's value at a 1-based epoch, None where missing or short."""
        values = self.curve.get(key, [])
        return _finite(values[epoch - 1]) if 1 <= epoch <= len(values) and values[epoch - 1] is not None else None

    def metrics_at(self, epoch: int | None) -> dict[str, float | None]:
        """Curve values at a 1-based epoch (None where the curve is missing or short)."""
        return {key: None if epoch is None else self.at_epoch(key, epoch) for key in CURVE_KEYS}


def record_from_trial(trial: Any) -> TrialRecord:
    """Turn an Optuna ``FrozenTrial`` into a ``TrialRecord`` (missing user attributes become None / empty)."""
    attrs = dict(trial.user_attrs)
    state = trial.state.name.lower()
    start, end = trial.datetime_start, trial.datetime_complete
    duration = (end - start).total_seconds() if start is not None and end is not None else None
    curve = attrs.get(keys.CURVE) or {}
    value = trial.value if state == "complete" and trial.values else None
    role = keys.role_of(attrs)
    return TrialRecord(
        number=int(trial.number),
        state=state,
        value=_finite(value),
        params=dict(trial.params),
        config=dict(attrs.get(keys.CONFIG) or {}),
        curve={k: list(v) for k, v in curve.items() if isinstance(v, list | tuple)},
        param_count=_int_or_none(attrs.get(keys.PARAM_COUNT)),
        train_seconds=_finite(attrs.get(keys.TRAIN_SECONDS)),
        compile_seconds=_finite(attrs.get(keys.COMPILE_SECONDS)),
        best_epoch=_int_or_none(attrs.get(keys.BEST_EPOCH)),
        stopped_early=bool(attrs.get(keys.STOPPED_EARLY, False)),
        artifact=attrs.get(keys.ARTIFACT),
        duration_seconds=duration,
        started=start.timestamp() if start is not None else None,
        finished=end.timestamp() if end is not None else None,
        role=role,
        replicate_of=keys.replicate_source(trial),
        replicate_seed=keys.replicate_seed(trial),
        assigned_depth=_int_or_none(attrs.get(keys.ASSIGNED_DEPTH)),
    )


@dataclass(frozen=True)
class StudyInfo:
    """The study's user attributes the report reads."""

    task: str | None = None
    metric: str = "val_accuracy"
    data: str | None = None
    data_source: str | None = None
    design: str = keys.DESIGN_TPE  # "balanced" | "tpe" (studies older than designs: "tpe")
    replicates: int = 0  # K seeds per depth asked for
    depths: list[int] | None = None  # the space's depths, shallowest first
    seed_plan: SeedPlan | None = None  # how the study spent seeds (None: no study attributes)


def study_info(attrs: dict[str, Any] | None) -> StudyInfo:
    attrs = attrs or {}
    return StudyInfo(
        task=attrs.get(keys.TASK),
        metric=str(attrs.get(keys.METRIC) or "val_accuracy"),
        data=attrs.get(keys.DATA),
        data_source=attrs.get(keys.DATA_SOURCE),
        design=keys.study_design(attrs),
        replicates=keys.study_replicates(attrs),
        depths=keys.study_depths(attrs),
        seed_plan=keys.study_seed_plan(attrs) if attrs else None,
    )


def search_records(records: list[TrialRecord]) -> list[TrialRecord]:
    """The search trials: what the sampler chose (replicates are never counted as search trials)."""
    return [r for r in records if not r.is_replicate]


def replicate_records(records: list[TrialRecord]) -> list[TrialRecord]:
    return [r for r in records if r.is_replicate]


def _finite(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
