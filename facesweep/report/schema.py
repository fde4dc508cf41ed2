"""``facesweep report --json``: one JSON object for every study in the report.

Schema ``facesweep.report/3`` (keys always present; numbers are null where undefined). Changes from /2: per study
``lead`` (the two one-line answers the terminal report starts with), ``seed_plan`` (how the study spent seeds: start,
step, max_seeds, min_effect, looks) and ``decided``; ``seed_noise.delta`` is now the smallest difference worth
having (``--min-effect``), not the seed noise; ``complexity``/``epochs`` gain ``decided``; ``adjacent`` gains
``seeds_to_decide``; ``replicate_curves`` gains ``last_gain``. Changes from /1: per study ``design``,
``answers_from`` and ``seed_noise``; answers from seed replicates when the study has them, the search-trial answer
in their ``search`` object. Metric differences are in metric units (0.031 = 3.1 points)::

    {"schema": "facesweep.report/3",
     "storage": "postgresql://user:***@host/db",          # password redacted
     "studies": [{
       "study": str, "task": str|null, "metric": str, "data": str|null, "data_source": str|null,
       "design": "balanced"|"tpe",                           # "tpe" for studies made before designs
       "answers_from": "replicates"|"search trials",
       "lead": [str, str],                                   # "Deeper: ...", "More epochs: ..." one line each
       "decided": bool,                                      # both answers decided (not "not shown either way")
       "seed_plan": {"start", "step", "max_seeds", "looks": int, "min_effect": float}|null,
       "seed_noise": {"sd": float, "df": int, "groups": int, "values": int,   # pooled SD over replicate groups
                      "delta": float}|null,                   # the smallest difference worth having
       "summary": {"counts": {"complete", "pruned", "fail", "running", "waiting": int},
                   "n_trials": int, "n_replicates": int, "total_seconds", "train_seconds", "span_seconds": float,
                   "best": TRIAL|null},
       "depth_table": [TRIAL, ...],                          # best completed search trial per depth
       "complexity": {"question", "verdict": str, "headline": str, "sentence": str, "rule": str,
                      "depth_k": int|null, "decided": bool,
                      # verdict from replicates: "yes"|"up to depth k"|"at least up to depth k"|"worse"|"no gain"|
                      #   "not shown either way"|"cannot answer"; without them, the search verdict below
                      "replicates": [{"depth", "source_trial", "n", "epochs", "mean", "low", "high",
                                      "values": [float], "trials": [int], "seeds": [int]}],   # [] without
                      "adjacent": [{"shallower", "deeper", "epoch", "diff", "low", "high", "call",
                                    "seeds_to_decide": int|null}],   # open steps: seeds per depth at this estimate
                      "excluded_depths": [int],               # fewer than 3 replicate values
                      "power": {"seeds": int, "detectable_step": float,   # the noisiest step: what it shows with 80%
                                "step": float, "seeds_for_step": int|null}|null,   # power; seeds a step of
                                                                      #   min_effect needs (null: over 10,000)
                      "search": SEARCH_COMPLEXITY},
       "epochs": {"question", "verdict": str, "headline": str, "sentence": str, "rule": str, "epoch_k": int|null,
                  "decided": bool,
                  # from replicates: "yes"|"up to epoch k"|"no gain"|"depends on depth"|"not shown either way"|
                  #   "cannot answer"
                  "replicate_curves": [{"depth", "n", "epochs": [{"epoch", "mean", "low", "high"}],
                                        "plateau_epoch": int|null, "verdict": str,
                                        "gain_to_plateau": DIFF|null, "gain_after_plateau": DIFF|null,
                                        "last_gain": DIFF|null,
                                        "overfit": "yes"|"no"|"cannot tell", "val_loss_min_epoch": int|null,
                                        "val_loss_rise": DIFF|null}],
                  "plateau_epoch": {depth: int|null},
                  "overfitting": str|null,                    # the replicate overfitting sentence
                  "search": SEARCH_EPOCHS},
       "best_model": {"trial", "artifact", "split", "source", "classes": [str], "n", "accuracy", "macro_f1",
                      "per_class": [{"class", "name", "precision", "recall", "f1", "support"}],
                      "confusion_matrix": [[int]],                     # rows true, columns predicted
                      "skipped": str|null}|null}]}

    SEARCH_COMPLEXITY = {"verdict": "yes"|"up to depth k"|"no clear effect"|"worse"|"cannot answer",
                         "strength": "strong"|"moderate"|"weak"|null, "headline", "sentence", "depth_k", "rule",
                         "by_depth": [GROUP], "by_params": [GROUP], "spearman_depth": CORR,
                         "spearman_params": CORR, "spearman_depth_le_k": CORR|null,
                         "spearman_depth_ge_k": CORR|null, "importances": IMPORTANCES}
    SEARCH_EPOCHS = {"verdict": "yes"|"up to epoch k"|"no clear effect"|"cannot answer", "headline", "sentence",
                     "epoch_k", "rule",
                     "peak_epoch": {"n", "epochs": [int], "median", "q1", "q3", "n_at_last", "histogram": {e: n}},
                     "doubling_gains": [{"epoch", "n", "median_gain", "q1", "q3"}],
                     "overfitting": {"n_checked", "n_onset", "onsets": {trial: epoch}, "median_onset",
                                     "epochs_after_onset", "n_curves"},
                     "early_stopping": {"planned_epochs", "run_epochs", "n_stopped_early", "saved_by_early_stopping",
                                        "n_pruned", "saved_by_pruning", "n_full", "after_peak_full",
                                        "median_after_peak_full"},
                     "spearman_epochs": CORR, "importances": IMPORTANCES}
    TRIAL = {"trial", "depth", "value", "val_accuracy", "val_loss", "val_macro_f1", "best_epoch", "epochs_run",
             "epochs", "train_seconds", "param_count", "params": {...}, "config": {...}, "artifact"}
    GROUP = {"label", "key", "n_complete", "n_pruned", "best", "median"}
    CORR = {"x", "n", "rho", "low", "high", "n_boot", "n_used", "p_value"}   # Spearman, BCa bootstrap 95% CI,
                                                                              # permutation p (exact up to n = 8)
    DIFF = {"estimate", "low", "high", "n", "df", "level", "family"}         # t interval (paired for epochs)
    IMPORTANCES = {"evaluator": str, "values": {param: float}|null, "note": str|null}

The rules themselves (the "rule" strings) are defined once in ``facesweep.report.rules``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from facesweep.report import rules
from facesweep.report.analysis import StudyReport
from facesweep.report.document import COMPLEXITY_QUESTION, EPOCHS_QUESTION, lead_lines
from facesweep.report.search import Correlation, TrialMetrics
from facesweep.verdicts.stats import Interval

SCHEMA = "facesweep.report/3"


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


def _diff(i: Interval | None) -> dict[str, Any] | None:
    return None if i is None else dataclasses.asdict(i)


def _search_complexity(report: StudyReport) -> dict[str, Any]:
    c = report.complexity
    return {
        "verdict": c.verdict,
        "strength": c.strength,
        "headline": c.headline,
        "sentence": c.sentence,
        "depth_k": c.depth_k,
        "rule": rules.COMPLEXITY_FALLBACK_RULE,
        "by_depth": [dataclasses.asdict(g) for g in c.by_depth],
        "by_params": [dataclasses.asdict(g) for g in c.by_params],
        "spearman_depth": _corr(c.rho_depth),
        "spearman_params": _corr(c.rho_params),
        "spearman_depth_le_k": _corr(c.rho_below_k),
        "spearman_depth_ge_k": _corr(c.rho_above_k),
        "importances": dataclasses.asdict(report.importances),
    }


def _search_epochs(report: StudyReport) -> dict[str, Any]:
    e = report.epochs
    return {
        "verdict": e.verdict,
        "headline": e.headline,
        "sentence": e.sentence,
        "epoch_k": e.epoch_k,
        "rule": rules.EPOCHS_FALLBACK_RULE,
        "peak_epoch": dataclasses.asdict(e.peak),
        "doubling_gains": [dataclasses.asdict(g) for g in e.gains],
        "overfitting": dataclasses.asdict(e.overfitting),
        "early_stopping": dataclasses.asdict(e.early_stopping),
        "spearman_epochs": _corr(e.rho_epochs),
        "importances": dataclasses.asdict(report.importances),
    }


def _complexity(report: StudyReport) -> dict[str, Any]:
    search = _search_complexity(report)
    rep = report.replicates
    if rep is None:
        top = {k: search[k] for k in ("verdict", "headline", "sentence", "rule", "depth_k")}
        return {"question": COMPLEXITY_QUESTION, **top, "replicates": [], "adjacent": [], "excluded_depths": [],
                "power": None, "search": search}  # fmt: skip
    c = rep.complexity
    return {
        "question": COMPLEXITY_QUESTION,
        "verdict": c.verdict,
        "headline": c.headline,
        "sentence": c.sentence,
        "rule": rules.COMPLEXITY_REPLICATE_RULE,
        "depth_k": c.depth_k,
        "decided": c.decided,
        "replicates": [
            {"depth": d.depth, "source_trial": d.source_trial, "n": d.n, "epochs": d.epochs, "mean": d.mean.estimate,
             "low": d.mean.low, "high": d.mean.high, "values": d.values, "trials": d.trials, "seeds": d.seeds}
            for d in c.depths
        ],
        "adjacent": [
            {"shallower": s.shallower, "deeper": s.deeper, "epoch": s.epoch, "diff": s.diff.estimate,
             "low": s.diff.low, "high": s.diff.high, "call": s.call, "seeds_to_decide": s.seeds_to_decide}
            for s in c.steps
        ],
        "excluded_depths": c.excluded,
        "power": None if c.power is None else {
            "seeds": c.power.seeds, "detectable_step": c.power.detectable_step, "step": c.power.step,
            "seeds_for_step": c.power.seeds_for_step,
        },
        "search": search,
    }  # fmt: skip


def _epochs(report: StudyReport) -> dict[str, Any]:
    search = _search_epochs(report)
    rep = report.replicates
    if rep is None:
        top = {k: search[k] for k in ("verdict", "headline", "sentence", "rule", "epoch_k")}
        return {"question": EPOCHS_QUESTION, **top, "replicate_curves": [], "plateau_epoch": {}, "overfitting": None,
                "search": search}  # fmt: skip
    e = rep.epochs
    return {
        "question": EPOCHS_QUESTION,
        "verdict": e.verdict,
        "headline": e.headline,
        "sentence": e.sentence,
        "rule": rules.EPOCHS_REPLICATE_RULE,
        "epoch_k": e.epoch_k,
        "decided": e.decided,
        "replicate_curves": [
            {"depth": d.depth, "n": d.n, "epochs": [dataclasses.asdict(b) for b in d.bands],
             "plateau_epoch": d.plateau_epoch, "verdict": d.verdict, "gain_to_plateau": _diff(d.gain_to_plateau),
             "gain_after_plateau": _diff(d.gain_after_plateau), "last_gain": _diff(d.last_gain), "overfit": d.overfit,
             "val_loss_min_epoch": d.val_loss_min_epoch, "val_loss_rise": _diff(d.val_loss_rise)}
            for d in e.depths
        ],
        "plateau_epoch": {d.depth: d.plateau_epoch for d in e.depths},
        "overfitting": e.overfit_sentence,
        "search": search,
    }  # fmt: skip


def study_to_json(report: StudyReport) -> dict[str, Any]:
    s, rep = report.summary, report.replicates
    noise = None
    if rep is not None and rep.noise.sd is not None:
        noise = {**dataclasses.asdict(rep.noise), "delta": rep.complexity.delta}
    out = {
        "study": report.name,
        "task": report.task,
        "metric": report.metric,
        "data": report.data,
        "data_source": report.data_source,
        "design": report.design,
        "answers_from": "replicates" if rep is not None else "search trials",
        "lead": lead_lines(report),
        "decided": rep is not None and rep.decided,
        "seed_plan": rep.plan.to_dict() if rep is not None else None,
        "seed_noise": noise,
        "summary": {
            "counts": s.counts,
            "n_trials": s.n_trials,
            "n_replicates": len(report.replicate_records),
            "total_seconds": s.total_seconds,
            "train_seconds": s.train_seconds,
            "span_seconds": s.span_seconds,
            "best": _trial(s.best),
        },
        "depth_table": [_trial(t) for t in report.depth_table],
        "complexity": _complexity(report),
        "epochs": _epochs(report),
        "best_model": dataclasses.asdict(report.best_model) if report.best_model is not None else None,
    }
    return _clean(out)


def report_to_json(reports: Sequence[StudyReport], storage: str) -> dict[str, Any]:
    """The ``--json`` object; ``storage`` must already be redacted."""
    return {"schema": SCHEMA, "storage": storage, "studies": [study_to_json(r) for r in reports]}
