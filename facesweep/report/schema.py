"""``facesweep report --json``: one JSON object for every study in the report.

Schema ``facesweep.report/1`` (keys always present; numbers are null where undefined)::

    {"schema": "facesweep.report/1",
     "storage": "postgresql://user:***@host/db",          # password redacted
     "studies": [{
       "study": str, "task": str|null, "metric": str, "data": str|null, "data_source": str|null,
       "summary": {"counts": {"complete", "pruned", "fail", "running", "waiting": int},
                   "n_trials": int, "total_seconds", "train_seconds", "span_seconds": float,
                   "best": TRIAL|null},
       "depth_table": [TRIAL, ...],                          # best completed trial per depth, shallowest first
       "complexity": {"question", "verdict": "yes"|"up to depth k"|"no clear effect"|"worse"|"cannot answer",
                      "strength": "strong"|"moderate"|"weak"|null, "sentence": str, "depth_k": int|null,
                      "rule": str,
                      "by_depth": [GROUP], "by_params": [GROUP],
                      "spearman_depth": CORR, "spearman_params": CORR,
                      "spearman_depth_le_k": CORR|null, "spearman_depth_ge_k": CORR|null,
                      "importances": IMPORTANCES},
       "epochs": {"question", "verdict": "yes"|"up to epoch k"|"no clear effect"|"cannot answer",
                  "sentence": str, "epoch_k": int|null, "rule": str,
                  "peak_epoch": {"n", "epochs": [int], "median", "q1", "q3", "n_at_last", "histogram": {epoch: n}},
                  "doubling_gains": [{"epoch", "n", "median_gain", "q1", "q3"}],
                  "overfitting": {"n_checked", "n_onset", "onsets": {trial: epoch}, "median_onset",
                                  "epochs_after_onset"},
                  "early_stopping": {"planned_epochs", "run_epochs", "n_stopped_early", "saved_by_early_stopping",
                                     "n_pruned", "saved_by_pruning", "n_full", "after_peak_full",
                                     "median_after_peak_full"},
                  "spearman_epochs": CORR, "importances": IMPORTANCES},
       "best_model": {"trial", "artifact", "split", "source", "classes": [str], "n", "accuracy", "macro_f1",
                      "per_class": [{"class", "name", "precision", "recall", "f1", "support"}],
                      "confusion_matrix": [[int]],                     # rows true, columns predicted
                      "skipped": str|null}|null}]}

    TRIAL = {"trial", "depth", "value", "val_accuracy", "val_loss", "val_macro_f1", "best_epoch", "epochs_run",
             "epochs", "train_seconds", "param_count", "params": {...}, "config": {...}, "artifact"}
    GROUP = {"label", "key", "n_complete", "n_pruned", "best", "median"}
    CORR = {"x", "n", "rho", "low", "high", "n_boot"}                 # Spearman, bootstrap 95% interval
    IMPORTANCES = {"evaluator": str, "values": {param: float}|null, "note": str|null}
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from facesweep.report.analysis import Correlation, StudyReport, TrialMetrics

SCHEMA = "facesweep.report/1"
COMPLEXITY_RULE = (
    "over completed trials: 'up to depth k' if medians flatten (within 0.01) from depth k < deepest after rising "
    ">= 0.02, with Spearman 95% CI > 0 for depth <= k and not > 0 for depth >= k; else 'yes' if rho > 0.3 and its "
    "95% bootstrap CI excludes 0; 'worse' if rho < -0.3 and CI < 0; else 'no clear effect'; 'cannot answer' with "
    "< 5 completed trials or a single depth"
)
EPOCHS_RULE = (
    "over all learning curves: g(e) = median of metric(2e) - metric(e) over >= 3 curves; 'yes' if the last "
    "measurable doubling gains > 0.01; 'up to epoch k' if an earlier one did and later ones do not (k = 2e of the "
    "last gaining doubling); else 'no clear effect'"
)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf -> null, dict keys -> str, tuples -> lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _trial(t: TrialMetrics | None) -> dict[str, Any] | None:
    if t is None:
        return None
    out = dataclasses.asdict(t)
    out["trial"] = out.pop("number")
    return out


def _corr(c: Correlation | None) -> dict[str, Any] | None:
    return None if c is None else dataclasses.asdict(c)


def study_to_json(report: StudyReport) -> dict[str, Any]:
    s, c, e = report.summary, report.complexity, report.epochs
    importances = dataclasses.asdict(report.importances)
    out = {
        "study": report.name,
        "task": report.task,
        "metric": report.metric,
        "data": report.data,
        "data_source": report.data_source,
        "summary": {
            "counts": s.counts,
            "n_trials": s.n_trials,
            "total_seconds": s.total_seconds,
            "train_seconds": s.train_seconds,
            "span_seconds": s.span_seconds,
            "best": _trial(s.best),
        },
        "depth_table": [_trial(t) for t in report.depth_table],
        "complexity": {
            "question": "Does a more complex (deeper) model predict better?",
            "verdict": c.verdict,
            "strength": c.strength,
            "sentence": c.sentence,
            "depth_k": c.depth_k,
            "rule": COMPLEXITY_RULE,
            "by_depth": [dataclasses.asdict(g) for g in c.by_depth],
            "by_params": [dataclasses.asdict(g) for g in c.by_params],
            "spearman_depth": _corr(c.rho_depth),
            "spearman_params": _corr(c.rho_params),
            "spearman_depth_le_k": _corr(c.rho_below_k),
            "spearman_depth_ge_k": _corr(c.rho_above_k),
            "importances": importances,
        },
        "epochs": {
            "question": "Does training for more epochs predict better?",
            "verdict": e.verdict,
            "sentence": e.sentence,
            "epoch_k": e.epoch_k,
            "rule": EPOCHS_RULE,
            "peak_epoch": dataclasses.asdict(e.peak),
            "doubling_gains": [dataclasses.asdict(g) for g in e.gains],
            "overfitting": dataclasses.asdict(e.overfitting),
            "early_stopping": dataclasses.asdict(e.early_stopping),
            "spearman_epochs": _corr(e.rho_epochs),
            "importances": importances,
        },
        "best_model": dataclasses.asdict(report.best_model) if report.best_model is not None else None,
    }
    return _clean(out)


def report_to_json(reports: Sequence[StudyReport], storage: str) -> dict[str, Any]:
    """The ``--json`` object; ``storage`` must already be redacted."""
    return {"schema": SCHEMA, "storage": storage, "studies": [study_to_json(r) for r in reports]}
