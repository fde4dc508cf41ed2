"""The report of one study: does depth help, do epochs help? A pure function of its trials.

    from facesweep.report.analysis import analyze_study
    report = analyze_study(study.study_name, study.get_trials(), study_attrs=study.user_attrs)
    report.answers_from_replicates, report.replicates.complexity.sentence, report.complexity.sentence

The parts, one purpose each:
- ``records``: the Optuna adapter (``FrozenTrial`` -> ``TrialRecord``, keys from ``facesweep.sweep.schema``);
- ``verdicts`` (one layer down, shared with the study): intervals, the replicate rules, seeds until decided;
- ``rules``: every decision rule, one definition for the code and the printed text;
- ``replicates``: the answers from seed replicates (designed studies) -- the report's verdicts when present;
- ``search``: the answers from the search trials alone -- the labelled fallback without replicates, and the
  supporting evidence (Spearman, importances, tables) with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from facesweep.report.records import (
    CURVE_KEYS,
    TrialRecord,
    record_from_trial,
    replicate_records,
    search_records,
    study_info,
)
from facesweep.report.replicates import ReplicateAnswers, answer_replicates
from facesweep.report.rules import MIN_IMPORTANCE_TRIALS
from facesweep.report.search import (
    ComplexityAnswer,
    EpochsAnswer,
    GroupStat,
    Importances,
    Summary,
    TrialMetrics,
    answer_complexity,
    answer_epochs,
    depth_table,
    fmt_corr,
    format_count,
    overfit_onset,
    param_importances,
    summarize,
)
from facesweep.verdicts.stats import N_BOOT, SEED, Correlation, bootstrap_spearman, rank_average, spearman

__all__ = [
    "CURVE_KEYS", "MIN_IMPORTANCE_TRIALS", "N_BOOT", "SEED", "ComplexityAnswer", "Correlation", "EpochsAnswer",
    "GroupStat", "Importances", "StudyReport", "Summary", "TrialMetrics", "TrialRecord", "analyze_records",
    "analyze_study", "bootstrap_spearman", "fmt_corr", "format_count", "overfit_onset", "rank_average",
    "record_from_trial", "spearman",
]  # fmt: skip


@dataclass(frozen=True)
class StudyReport:
    name: str
    task: str | None
    metric: str
    data: str | None
    data_source: str | None
    summary: Summary
    depth_table: list[TrialMetrics]
    complexity: ComplexityAnswer  # from the search trials (fallback / supporting evidence)
    epochs: EpochsAnswer  # from the search trials (fallback / supporting evidence)
    importances: Importances
    records: list[TrialRecord]
    best_model: Any = None  # facesweep.report.best_model.BestModelEvaluation, filled in by the caller
    design: str = "tpe"  # "balanced" | "tpe" (older studies: "tpe")
    replicates: ReplicateAnswers | None = None  # the answers with the noise in view; None without replicates
    replicates_wanted: int = 0  # K the study asked for (0: none, or a study made before designs)

    @property
    def answers_from_replicates(self) -> bool:
        return self.replicates is not None

    @property
    def search_records(self) -> list[TrialRecord]:
        return search_records(self.records)

    @property
    def replicate_records(self) -> list[TrialRecord]:
        return replicate_records(self.records)


def analyze_records(
    name: str,
    records: Sequence[TrialRecord],
    *,
    study_attrs: dict[str, Any] | None = None,
    importances: Importances | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> StudyReport:
    """The report for plain records (importances passed in, or marked as not computed)."""
    info = study_info(study_attrs)
    records = sorted(records, key=lambda r: r.number)
    search = search_records(records)  # replicates are never counted as search trials
    return StudyReport(
        name=name,
        task=info.task,
        metric=info.metric,
        data=info.data,
        data_source=info.data_source,
        summary=summarize(records, info.metric),
        depth_table=depth_table(search, info.metric),
        complexity=answer_complexity(search, info.metric, n_boot=n_boot, seed=seed),
        epochs=answer_epochs(search, info.metric, n_boot=n_boot, seed=seed),
        importances=importances or Importances("none", None, "not computed (plain records carry no distributions)"),
        records=list(records),
        design=info.design,
        replicates=answer_replicates(records, info.metric, info.seed_plan),
        replicates_wanted=info.replicates,
    )


def analyze_study(
    name: str,
    trials: Sequence[Any],
    *,
    study_attrs: dict[str, Any] | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> StudyReport:
    """The report for a study's ``FrozenTrial`` list and its user attributes."""
    records = [record_from_trial(t) for t in trials]
    search_numbers = {r.number for r in search_records(records)}
    return analyze_records(
        name,
        records,
        study_attrs=study_attrs,
        importances=param_importances([t for t in trials if t.number in search_numbers], seed=seed),
        n_boot=n_boot,
        seed=seed,
    )
