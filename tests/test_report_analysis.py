"""The report's answers and statistics on studies of known structure (tests/test_report_studies.py builds them)."""

from __future__ import annotations

import numpy as np
import pytest

from facesweep.report.analysis import (
    TrialRecord,
    analyze_records,
    analyze_study,
    bootstrap_spearman,
    overfit_onset,
    rank_average,
    record_from_trial,
    spearman,
)
from tests.test_report_studies import build_study, depth_flat, depth_helps, depth_plateau, epochs_overfit, saturating


def report_of(study):
    return analyze_study(study.study_name, study.trials, study_attrs=study.user_attrs, n_boot=500)


# -- statistics ------------------------------------------------------------------------------------------------
def test_ranks_average_ties_and_spearman_match_scipy() -> None:
    assert rank_average(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(1)
    x = rng.integers(1, 6, 40).astype(float)
    y = x * 0.1 + rng.normal(0, 0.2, 40)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


def test_bootstrap_interval_is_seeded_and_brackets_rho() -> None:
    rng = np.random.default_rng(2)
    x = np.repeat([1, 2, 3, 4, 5], 6).astype(float)
    y = x + rng.normal(0, 1.5, x.size)
    a = bootstrap_spearman(x, y, name="depth", n_boot=400, seed=0)
    b = bootstrap_spearman(x, y, name="depth", n_boot=400, seed=0)
    assert a == b
    assert a.low < a.rho < a.high
    assert bootstrap_spearman([1, 1, 1, 1], [1, 2, 3, 4], name="depth").rho is None  # constant x


# -- question 1: complexity --------------------------------------------------------------------------------------
def test_depth_truly_helps_gives_yes_with_a_strong_interval_above_zero() -> None:
    report = report_of(depth_helps(prune_every=4))
    c = report.complexity
    assert c.verdict == "yes" and c.strength == "strong"
    assert c.rho_depth.rho > 0.8 and c.rho_depth.low > 0.3
    assert c.rho_params.rho > 0.8
    medians = [g.median for g in c.by_depth]
    assert medians == sorted(medians)
    assert [g.n_pruned for g in c.by_depth] == [1, 1, 2, 2, 1]  # trials 3, 7, ..., 27
    assert c.sentence.startswith("Yes (strong)") and f"{c.rho_depth.rho:+.2f}" in c.sentence
    assert report.importances.evaluator == "PED-ANOVA"
    assert next(iter(report.importances.values)) == "depth"  # the most important parameter
    assert [row.depth for row in report.depth_table] == [1, 2, 3, 4, 5]


def test_depth_without_effect_gives_no_clear_effect() -> None:
    c = report_of(depth_flat()).complexity
    assert c.verdict == "no clear effect"
    assert c.rho_depth.low < 0 < c.rho_depth.high
    assert c.sentence.startswith("No clear effect of depth")


def test_depth_that_helps_then_plateaus_gives_up_to_depth_k() -> None:
    c = report_of(depth_plateau()).complexity
    assert c.verdict == "up to depth k" and c.depth_k == 3
    assert c.headline == "up to depth 3, then no"
    assert c.rho_below_k.low > 0
    assert not c.rho_above_k.low > 0
    assert c.sentence.startswith("Up to depth 3, then no")


def test_single_depth_cannot_answer_and_says_what_to_run() -> None:
    study = build_study(saturating(lambda d: 0.5), depths=[3], epochs=[4, 8], n_trials=10)
    report = report_of(study)
    assert report.complexity.verdict == "cannot answer"
    assert "every completed trial has depth 3" in report.complexity.sentence
    assert "run facesweep study with a depth range" in report.complexity.sentence
    assert report.epochs.verdict != "cannot answer"  # the curves still speak to epochs


def test_too_few_trials_for_correlation_and_importances() -> None:
    report = report_of(depth_helps(n_trials=4))
    assert report.complexity.verdict == "cannot answer"
    assert "only 4 completed trial(s)" in report.complexity.sentence
    assert report.importances.values is None and "needs >= 8 completed trials" in report.importances.note


# -- question 2: epochs --------------------------------------------------------------------------------------------
def test_later_epochs_overfit_gives_up_to_epoch_8() -> None:
    report = report_of(epochs_overfit())
    e = report.epochs
    assert e.verdict == "up to epoch k" and e.epoch_k == 8
    assert e.peak.median == 8
    gains = {g.epoch: g.median_gain for g in e.gains}
    assert gains[4] > 0.05 and gains[8] < -0.01 and gains[16] < -0.01
    assert e.overfitting.n_onset >= 0.6 * e.overfitting.n_checked
    assert e.overfitting.median_onset == pytest.approx(8, abs=1)
    assert e.early_stopping.median_after_peak_full >= 8
    assert "later epochs overfit" in e.sentence and e.sentence.startswith("Up to epoch 8, then no")


def test_epochs_still_helping_gives_yes() -> None:
    study = build_study(saturating(lambda d: 0.35 + 0.05 * d, tau=12), depths=[1, 2, 3], epochs=[4, 8, 16], n_trials=18)
    e = report_of(study).epochs
    assert e.verdict == "yes" and e.sentence.startswith("Yes: more epochs still help")
    assert e.gains[-1].epoch == 8 and e.gains[-1].median_gain > 0.01


def test_pruned_curves_count_toward_the_epochs_question() -> None:
    report = report_of(depth_helps(prune_every=4))
    pruned = [r for r in report.records if r.state == "pruned"]
    assert report.epochs.peak.n == len(report.records)  # every trial's curve, pruned included
    assert report.epochs.early_stopping.n_pruned == len(pruned)
    assert report.epochs.early_stopping.saved_by_pruning == sum(r.epochs - 2 for r in pruned)


def test_no_complete_trial_still_answers_epochs_from_pruned_curves() -> None:
    study = depth_helps(n_trials=12, prune_every=1, prune_after=6)
    report = report_of(study)
    assert report.summary.counts["complete"] == 0 and report.summary.best is None
    assert report.depth_table == []
    assert report.complexity.verdict == "cannot answer"
    assert report.epochs.peak.n == 12 and report.epochs.gains  # curves of pruned trials
    assert report.epochs.verdict in ("yes", "up to epoch k")


def test_overfit_onset_rule() -> None:
    def record(val: list[float], train: list[float]) -> TrialRecord:
        return TrialRecord(0, "complete", 0.5, curve={"val_loss": val, "train_loss": train})

    assert overfit_onset(record([1.0, 0.8, 0.9, 0.95, 1.0], [1.0, 0.9, 0.8, 0.7, 0.6])) == 2
    assert overfit_onset(record([1.0, 0.8, 0.805, 0.95, 1.0], [1.0, 0.9, 0.8, 0.7, 0.6])) is None  # < 1% rise
    assert overfit_onset(record([1.0, 0.8, 0.9, 0.95], [1.0, 0.9, 0.95, 1.0])) is None  # train loss rises too
    assert overfit_onset(record([1.0, 0.9, 0.8, 0.85], [1.0, 0.9, 0.8, 0.7])) is None  # one epoch of rise only


# -- summary -----------------------------------------------------------------------------------------------------
def test_summary_counts_every_state_and_takes_best_epoch_metrics() -> None:
    study = depth_helps(prune_every=4, fail=1, running=1)
    report = report_of(study)
    s = report.summary
    assert s.counts == {"complete": 23, "pruned": 7, "fail": 1, "running": 1, "waiting": 0}
    assert s.best.number == study.best_trial.number and s.best.value == study.best_value
    record = record_from_trial(study.best_trial)
    epoch = study.best_trial.user_attrs["best_epoch"]
    assert s.best.val_loss == record.curve["val_loss"][epoch - 1]
    assert s.best.param_count == 2000 * 4**s.best.depth


def test_plain_records_work_without_optuna_distributions() -> None:
    records = [record_from_trial(t) for t in depth_helps().trials]
    report = analyze_records("plain", records, study_attrs={"metric": "val_accuracy"}, n_boot=200)
    assert report.complexity.verdict == "yes"
    assert report.importances.values is None
