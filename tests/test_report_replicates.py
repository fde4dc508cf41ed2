"""Replicate-based answers on designed studies of known structure (built through Optuna ask/tell), the statistics
under them, the fixed fallback rules, and JSON facesweep.report/3. Run: ``pytest tests/test_report_replicates.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from rich.console import Console

from facesweep.report import rules
from facesweep.report.analysis import analyze_records, analyze_study
from facesweep.report.markdown import render_markdown
from facesweep.report.records import TrialRecord
from facesweep.report.render import render_report
from facesweep.report.schema import SCHEMA, report_to_json
from facesweep.report.search import group_by_params, overfitting
from facesweep.verdicts.replicates import Replicate, compare_depths, group_replicates
from facesweep.verdicts.stats import (
    bootstrap_spearman,
    diff_interval,
    mean_interval,
    paired_interval,
    permutation_p,
    pooled_noise,
)
from tests.test_report_studies import add_replicates, build_study, designed
from tests.test_report_studies import overfitting as overfit_curve


def report_of(study):
    return analyze_study(study.study_name, study.trials, study_attrs=study.user_attrs, n_boot=300)


# -- statistics ------------------------------------------------------------------------------------------------
def test_t_intervals_match_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    x, y = [0.61, 0.63, 0.60], [0.65, 0.66, 0.62, 0.64]
    m = mean_interval(x)
    low, high = stats.t.interval(0.95, 2, loc=np.mean(x), scale=stats.sem(x))
    assert (m.low, m.high, m.n, m.df) == (pytest.approx(low), pytest.approx(high), 3, 2.0)
    welch = stats.ttest_ind(y, x, equal_var=False).confidence_interval(0.95)
    d = diff_interval(x, y)
    assert (d.low, d.high) == (pytest.approx(welch.low), pytest.approx(welch.high))
    noise = pooled_noise([x, y])
    assert noise.df == 5 and noise.sd == pytest.approx(math.sqrt((np.var(x, ddof=1) * 2 + np.var(y, ddof=1) * 3) / 5))
    wide = diff_interval(x, y, family=3)  # Bonferroni over 3 comparisons: wider
    three = stats.ttest_ind(y, x, equal_var=False).confidence_interval(1 - 0.05 / 3)
    assert (wide.low, wide.high, wide.family) == (pytest.approx(three.low), pytest.approx(three.high), 3)
    p = paired_interval([0.5, 0.6, 0.55], [0.52, 0.63, 0.56])
    assert p.estimate == pytest.approx(0.02) and p.n == 3
    assert not mean_interval([0.5]).defined and pooled_noise([[0.5], [0.6]]).sd is None


def test_perfect_separation_at_tiny_n_is_not_evidence() -> None:
    """The FER headline's shape: 3 trials at depth 3, 2 at depth 4, every deeper one better -> exact p = 0.2."""
    x, y = [3, 3, 3, 4, 4], [0.60, 0.605, 0.61, 0.615, 0.62]
    assert permutation_p(x, y) == pytest.approx(0.2)
    c = bootstrap_spearman(x, y, name="depth", n_boot=500)
    assert c.p_value == pytest.approx(0.2) and not rules.correlation_above(c.low, c.p_value)
    assert c.n_used <= c.n_boot  # resamples with a constant column are dropped and counted


def test_bca_interval_is_wider_below_than_percentile_on_a_skewed_sample() -> None:
    rng = np.random.default_rng(3)
    x = np.repeat([1.0, 2, 3, 4, 5], 3)
    y = x * 0.02 + rng.normal(0, 0.03, x.size)
    c = bootstrap_spearman(x, y, name="depth", n_boot=2000)
    assert c.low < c.rho < c.high and c.n_used == 2000
    assert c.p_value is not None and 0 < c.p_value < 1


# -- the four named cases, through Optuna studies ----------------------------------------------------------------
def test_true_effect_is_found_with_every_step_a_gain() -> None:
    rep = report_of(designed(lambda d: 0.40 + 0.03 * d)).replicates
    c = rep.complexity
    assert c.verdict == "yes" and c.headline == "yes" and [s.call for s in c.steps] == ["gain"] * 3
    assert all(s.diff.estimate == pytest.approx(0.03, abs=0.012) for s in c.steps)
    assert [d.n for d in c.depths] == [3, 3, 3, 3] and c.steps[0].diff.family == 3
    assert "seed noise SD" in c.sentence and "(95% CI, simultaneous" in c.sentence
    assert rep.noise.sd == pytest.approx(0.005, rel=0.6)


def test_no_effect_is_never_a_gain_and_needs_evidence_for_no_gain() -> None:
    c = report_of(designed(lambda d: 0.5)).replicates.complexity
    assert c.verdict in (rules.NOT_SHOWN, rules.NO_GAIN) and rules.GAIN not in [s.call for s in c.steps]
    many = report_of(designed(lambda d: 0.5, noise=0.002, k=12)).replicates.complexity  # tight: positive evidence
    # tight seeds decide every step, and none by as much as the smallest difference worth having (a 0.2-point
    # difference between depths can still read as a real gain or loss: that is what 'gain' means)
    assert many.decided and many.delta == rules.MIN_EFFECT and all(s.diff.high < many.delta for s in many.steps)
    assert "smallest difference worth having 1.0 point(s)" in many.sentence


def test_effect_smaller_than_the_noise_is_not_shown_either_way() -> None:
    c = report_of(designed(lambda d: 0.5 + 0.002 * d, noise=0.02)).replicates.complexity
    assert c.verdict == rules.NOT_SHOWN and c.delta == rules.MIN_EFFECT  # the band is the user's, not the noise
    assert c.sentence.startswith("Not shown either way") and "seeds per depth at this estimate" in c.sentence


def test_rise_then_fall_gives_up_to_depth_k_then_worse() -> None:
    plateau = {1: 0.40, 2: 0.45, 3: 0.50, 4: 0.44}
    c = report_of(designed(plateau.__getitem__)).replicates.complexity
    assert [s.call for s in c.steps] == ["gain", "gain", "loss"]
    assert c.verdict == "up to depth k" and c.depth_k == 3 and c.headline == "up to depth 3, then no"
    assert c.sentence.startswith("Deeper helps up to depth 3, then worse")


def test_depth_with_fewer_than_three_values_gives_no_verdict() -> None:
    c = report_of(designed(lambda d: 0.40 + 0.03 * d, missing={4: 1})).replicates.complexity
    assert c.excluded == [4] and [s.deeper for s in c.steps] == [2, 3]
    assert "depth(s) 4 left out (< 3 replicate values)" in c.sentence
    one = report_of(designed(lambda d: 0.5, depths=(2, 3), missing={3: 2})).replicates.complexity
    assert one.verdict == "cannot answer"


def test_depths_are_compared_at_a_matched_epoch() -> None:
    fn_study = build_study(overfit_curve(30), depths=[1, 2], epochs=[6], n_trials=2)
    study = add_replicates(fn_study, overfit_curve(30), k=3)
    trials = [t for t in study.trials if t.params["depth"] == 2]
    assert trials  # depth 2 ran 6 epochs like depth 1: matched epoch 6
    c = report_of(study).replicates.complexity
    assert c.steps[0].epoch == 6


# -- epochs ------------------------------------------------------------------------------------------------------
def test_plateau_epoch_and_overfitting_from_replicate_curves() -> None:
    study = add_replicates(build_study(overfit_curve(8), depths=[2, 3], epochs=[24], n_trials=2), overfit_curve(8),
                           k=8)  # fmt: skip
    e = report_of(study).replicates.epochs
    for row in e.depths:  # the plateau is the peak: every later epoch gains less than the smallest worthwhile step
        assert row.plateau_epoch is not None and 7 <= row.plateau_epoch <= 9
        assert row.verdict == "up to epoch k" and row.overfit == "yes" and row.val_loss_min_epoch in (7, 8, 9)
        assert len(row.bands) == 24 and row.bands[0].low < row.bands[0].mean < row.bands[0].high
    assert e.verdict == "up to epoch k" and e.epoch_k == max(r.plateau_epoch for r in e.depths)
    assert "overfitting at depth 2, 3" in e.overfit_sentence


def test_short_curves_cannot_tell_overfitting() -> None:
    study = add_replicates(build_study(overfit_curve(8), depths=[2, 3], epochs=[9], n_trials=2), overfit_curve(8))
    e = report_of(study).replicates.epochs
    assert {r.overfit for r in e.depths} == {"cannot tell"}
    assert "fewer than 2 epochs after it" in e.overfit_sentence


# -- the fixed fallback rules ------------------------------------------------------------------------------------
def _rec(n: int, depth: int, value: float, **kw) -> TrialRecord:
    return TrialRecord(n, "complete", value, params={"depth": depth, "epochs": 4}, **kw)


def test_fallback_plateau_needs_the_flattening_it_states() -> None:
    """Medians rise to depth 3 then fall steeply at depth 5: not 'deeper models add nothing'."""
    values = {1: 0.40, 2: 0.45, 3: 0.50, 4: 0.495, 5: 0.30}
    records = [_rec(i, d, values[d] + 0.001 * (i % 3)) for i, d in enumerate([1, 2, 3, 4, 5] * 4)]
    c = analyze_records("s", records, n_boot=300).complexity
    assert c.verdict != "up to depth k"


def test_fallback_missing_interval_above_k_is_not_read_as_no() -> None:
    """3/1/1 trials at depths 1/2/3 used to give 'up to depth 2, then no (strong)' beside 'rho undefined'."""
    records = [_rec(0, 1, 0.40), _rec(1, 1, 0.41), _rec(2, 1, 0.42), _rec(3, 2, 0.50), _rec(4, 3, 0.50)]
    c = analyze_records("s", records, n_boot=300).complexity
    assert c.verdict != "up to depth k"


def test_parameter_bins_are_labelled_with_real_counts() -> None:
    counts = [151, 160, 900, 950, 5000, 5200, 120_000, 128_000]
    records = [_rec(i, 1, 0.5, param_count=pc) for i, pc in enumerate(counts)]
    labels = [g.label for g in group_by_params(records)]
    assert labels == ["151-160", "900-950", "5k-5.2k", "120k-128k"]  # never "150-..." from 10**log10(151)


def test_overfitting_counts_only_judgeable_curves() -> None:
    flat = {"val_loss": [1.0, 0.9, 0.8], "train_loss": [1.0, 0.9, 0.8]}  # minimum at the last epoch
    turned = {"val_loss": [1.0, 0.8, 0.9, 0.95], "train_loss": [1.0, 0.9, 0.8, 0.7]}
    records = [_rec(0, 1, 0.5, curve=flat), _rec(1, 1, 0.5, curve=turned)]
    o = overfitting(records)
    assert (o.n_curves, o.n_checked, o.n_onset) == (2, 1, 1)


# -- report output -----------------------------------------------------------------------------------------------
def test_json_v3_and_both_renderings_of_a_designed_study() -> None:
    report = report_of(designed(lambda d: 0.40 + 0.03 * min(d, 3)))
    doc = report_to_json([report], "sqlite:///x.db")
    assert doc["schema"] == SCHEMA == "facesweep.report/3"
    study = doc["studies"][0]
    assert study["design"] == "balanced" and study["answers_from"] == "replicates"
    assert set(study["seed_noise"]) == {"sd", "df", "groups", "values", "delta"} and study["seed_noise"]["df"] == 8
    c = study["complexity"]
    assert [r["depth"] for r in c["replicates"]] == [1, 2, 3, 4]
    assert set(c["replicates"][0]) >= {"depth", "source_trial", "n", "mean", "low", "high", "values"}
    assert len(c["replicates"][0]["values"]) == 3
    assert [(a["shallower"], a["deeper"]) for a in c["adjacent"]] == [(1, 2), (2, 3), (3, 4)]
    assert set(c["adjacent"][0]) >= {"shallower", "deeper", "diff", "low", "high"}
    assert c["search"]["verdict"] in ("yes", "up to depth k", "no clear effect")  # supporting evidence kept
    e = study["epochs"]
    assert set(e["replicate_curves"][0]) >= {"depth", "n", "epochs"} and len(e["replicate_curves"]) == 4
    assert set(e["replicate_curves"][0]["epochs"][0]) == {"epoch", "mean", "low", "high"}
    assert set(e["plateau_epoch"]) == {"1", "2", "3", "4"}
    assert study["summary"]["n_replicates"] == 12
    assert study["lead"][0].startswith("Deeper: ") and study["lead"][1].startswith("More epochs: ")
    assert study["seed_plan"] == {"start": 3, "step": 0, "max_seeds": 3, "min_effect": 0.01, "looks": 1}
    assert study["decided"] == (c["decided"] and e["decided"])

    console = Console(record=True, width=120, color_system=None)
    console.print(render_report(report))
    text = console.export_text()
    markdown = render_markdown([report], storage="sqlite:///x.db")
    for phrase in ("Seed noise (one configuration, seeds only)", "Seed replicates of the best configuration",
                   "Adjacent depths at a matched epoch", "Replicate curves per depth", "Supporting evidence",
                   report.replicates.complexity.headline):  # fmt: skip
        assert phrase in text and phrase in markdown, phrase
    assert "search trials only" not in text and "cannot separate" not in markdown


def test_replicate_plots_are_written(tmp_path) -> None:
    from facesweep.report.plots import write_plots

    report = report_of(designed(lambda d: 0.40 + 0.03 * d))
    paths = write_plots(report, tmp_path)
    for key in ("replicates_by_depth", "replicate_curves"):
        assert paths[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_curves_flat_from_the_first_epoch_are_no_gain() -> None:
    from facesweep.verdicts.replicates import DepthReplicates, depth_epochs
    from facesweep.verdicts.sequential import SeedPlan
    from facesweep.verdicts.stats import mean_interval

    rng = np.random.default_rng(0)
    curves = 0.5 + rng.normal(0, 0.001, (4, 6))
    d = DepthReplicates(2, 0, [1, 2, 3, 4], [1, 2, 3, 4], 6, curves[:, -1].tolist(), mean_interval(curves[:, -1]),
                        curves, np.ones_like(curves))  # fmt: skip
    row = depth_epochs(d, SeedPlan.fixed(4))
    assert row.plateau_epoch == 1 and row.verdict == rules.NO_GAIN
    assert "no gain worth having after epoch 1" in row.sentence and row.overfit == "no"


def test_replicates_asked_for_but_not_finished_say_so() -> None:
    study = build_study(overfit_curve(8), depths=[1, 2], epochs=[6], n_trials=6)
    study.set_user_attr("design", "balanced")
    study.set_user_attr("replicates", 3)
    report = report_of(study)
    assert report.replicates is None and report.replicates_wanted == 3
    text = render_markdown([report], storage="sqlite:///x.db")
    assert "asked for 3 seed replicates per depth but none has finished yet" in text
    assert "(search trials only)" in text


def test_power_hint_matches_a_simulation_and_plans_seeds() -> None:
    """The detectable step is the true difference that the step's simultaneous Welch interval (its two depths' own
    seed SDs) shows as a gain 80% of the time -- checked by simulation through diff_interval -- and seeds_needed
    inverts it."""
    from facesweep.verdicts.stats import POWER, detectable_step, diff_interval, seeds_needed

    sd_a, sd_b, n, family = 0.03, 0.01, 6, 3
    step = detectable_step(sd_a, sd_b, n, family=family)
    rng = np.random.default_rng(0)
    shown = [diff_interval(rng.normal(0, sd_a, n), rng.normal(step, sd_b, n), family=family).low > 0
             for _ in range(4000)]  # fmt: skip
    assert abs(np.mean(shown) - POWER) < 0.04
    assert seeds_needed(sd_a, sd_b, step, family=family) == n  # the n that gives this step is the n it asks for
    assert (seeds_needed(sd_a, sd_b, 2 * step, family=family) < n
            < seeds_needed(sd_a, sd_b, step / 2, family=family))  # fmt: skip
    assert seeds_needed(1.0, 1.0, 1e-6) is None  # beyond 10,000: said, not looped forever


def test_power_hint_plans_from_the_noisiest_step() -> None:
    """One noisy depth: the hint's seeds are those of the step that depth is in, not of a pooled noise."""
    from facesweep.verdicts.replicates import power_hint
    from facesweep.verdicts.sequential import SeedPlan
    from facesweep.verdicts.stats import seeds_needed

    rng = np.random.default_rng(1)
    rows = []
    for depth, (mean, sd) in {2: (0.80, 0.04), 3: (0.90, 0.004), 4: (0.92, 0.004)}.items():
        for k in range(5):
            v = mean + sd * rng.standard_normal()
            rows.append(Replicate(10 * depth + k, depth, depth, k, [v - 0.1, v]))
    depths = group_replicates(rows)
    plan = SeedPlan.fixed(5)
    steps = compare_depths(depths, plan)
    hint = power_hint(depths, steps, plan)
    sd = {d.depth: float(np.std(d.values, ddof=1)) for d in depths}
    assert hint.seeds_for_step == seeds_needed(sd[2], sd[3], plan.min_effect, family=2)
    assert hint.seeds_for_step > seeds_needed(sd[3], sd[4], plan.min_effect, family=2)


# -- the lead and the text charts -------------------------------------------------------------------------------
def test_depth_and_curve_charts_are_exact_text() -> None:
    from facesweep.report.charts import CurvePanel, DepthRow, curve_chart, depth_chart

    rows = [DepthRow(1, 0.70, 0.68, 0.72, 3), DepthRow(2, 0.80, 0.79, 0.81, 5)]
    assert depth_chart(rows, width=20) == [
        "         68.0            81.0  (points)",
        "depth 1  ├──●──┤               70.0 (68.0 to 72.0), 3 seeds",
        "depth 2                  ├─●┤  80.0 (79.0 to 81.0), 5 seeds",
    ]
    panels = [CurvePanel(1, 3, [0.5, 0.6, 0.7], [0.45, 0.55, 0.68], [0.55, 0.65, 0.72]),
              CurvePanel(2, 3, [0.6, 0.7, 0.75], [None, 0.69, 0.74], [None, 0.71, 0.76])]  # fmt: skip
    lines = curve_chart(panels, height=5)
    assert lines[0].split() == ["depth", "1", "(3)", "depth", "2", "(3)"]
    assert lines[1].startswith("76.0┤") and lines[5].startswith("45.0┤│")  # the top label, depth 1's lowest band
    assert lines[-1].endswith("(epochs; points)") and len(lines) == 7


def test_terminal_report_leads_with_both_answers_and_keeps_rules_for_explain() -> None:
    report = report_of(designed(lambda d: 0.40 + 0.03 * d))
    console = Console(record=True, width=120, color_system=None)
    console.print(render_report(report))
    text = console.export_text()
    first = text.splitlines()[:2]
    assert first[0].startswith("Deeper: yes, through depth 4: +") and "seeds each" in first[0]
    assert first[1].startswith("More epochs: ")
    assert "Rule:" not in text  # the rules' full text: --explain and report.md
    assert "by depth: mean and 95% interval" in text and "one panel per depth" in text  # the text charts
    console = Console(record=True, width=120, color_system=None)
    console.print(render_report(report, explain=True))
    assert "Rule: from the seed replicates" in console.export_text()
    markdown = render_markdown([report], storage="sqlite:///x.db")
    assert f"**{first[0]}**" in markdown and "_Rule: from the seed replicates" in markdown and "```" in markdown


def test_epochs_lead_names_the_depth_its_numbers_are_from() -> None:
    """k is the latest plateau of the depths; when the depth the lead quotes levels off earlier, it says so."""
    from facesweep.report.document import _epochs_line
    from facesweep.verdicts.replicates import answer
    from facesweep.verdicts.sequential import SeedPlan

    rng = np.random.default_rng(3)
    rows = []
    for depth, (top, plateau) in {3: (0.90, 9), 4: (0.95, 8)}.items():
        for k in range(6):
            curve = [0.3 + (top - 0.3) * min(e, plateau) / plateau + 0.002 * rng.standard_normal()
                     for e in range(1, 11)]  # fmt: skip
            rows.append(Replicate(10 * depth + k, depth, depth, k, curve))
    rep = answer(group_replicates(rows), SeedPlan.fixed(6))
    assert rep.epochs.verdict == "up to epoch k" and rep.epochs.epoch_k == 9
    line = _epochs_line(rep)
    assert line.startswith("More epochs: yes up to epoch 9 (the latest depth; depth 4 levels off at epoch 8)")
    assert "from 1 to 8" in line and "at depth 4, 6 seeds" in line


def test_the_subtitle_counts_the_fewest_seeds_of_any_depth() -> None:
    """'k+ seed replicates per depth': k is the depth with the fewest, not the shallowest depth's count."""
    from facesweep.report.document import study_document

    report = report_of(designed(lambda d: 0.40 + 0.03 * d, k=5, missing={3: 2}))
    assert [d.n for d in report.replicates.complexity.depths] == [5, 5, 3, 5]
    assert "5+ seed" not in study_document(report).subtitle  # depth 1 has 5: the old reading
    assert ", 3+ seed replicates per depth" in study_document(report).subtitle
