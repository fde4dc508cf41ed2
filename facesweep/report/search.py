"""Answers from the search trials alone: today's rules, kept as the fallback for studies without seed replicates
and as supporting evidence (Spearman, importances, per-depth tables) for studies with them.

    from facesweep.report.search import answer_complexity, answer_epochs
    answer_complexity(records, "val_accuracy").sentence

The sampler chose which depths and epochs these trials ran, so every number here mixes depth with the other
settings it was chosen with; the rules (``facesweep.report.rules``) say so in their text.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from facesweep.report import rules
from facesweep.report.records import TrialRecord
from facesweep.report.rules import (
    FLAT_TOLERANCE,
    MIN_CURVES,
    MIN_IMPORTANCE_TRIALS,
    MIN_OVERFIT_AFTER,
    MIN_TRIALS,
    OVERFIT_RISE,
    strength_of,
)
from facesweep.verdicts.stats import N_BOOT, SEED, Correlation, bootstrap_spearman


@dataclass(frozen=True)
class GroupStat:
    """Trials of one depth (or parameter-count bin): how many, and the best and median metric."""

    label: str
    key: float  # depth, or the bin's lower edge in parameters (for sorting and plotting)
    n_complete: int
    n_pruned: int
    best: float | None
    median: float | None


def group_by_depth(records: Sequence[TrialRecord]) -> list[GroupStat]:
    depths = sorted({r.depth for r in records if r.depth is not None})
    rows = []
    for depth in depths:
        values = [r.value for r in records if r.depth == depth and r.state == "complete" and r.value is not None]
        pruned = sum(1 for r in records if r.depth == depth and r.state == "pruned")
        rows.append(
            GroupStat(
                str(depth),
                float(depth),
                len(values),
                pruned,
                max(values) if values else None,
                float(np.median(values)) if values else None,
            )
        )
    return rows


def format_count(n: float) -> str:
    """12345 -> '12.3k', 2500000 -> '2.5M'."""
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{int(n)}"


def group_by_params(records: Sequence[TrialRecord], n_bins: int = 4) -> list[GroupStat]:
    """Completed and pruned trials in log-spaced quantile bins of parameter count.

    Bin edges are quantiles of log10(parameters), so each bin holds about the same number of trials.
    """
    done = [r for r in records if r.state in ("complete", "pruned") and r.param_count]
    if not any(r.state == "complete" for r in done):
        return []
    logs = np.log10([r.param_count for r in done])
    edges = np.unique(np.quantile(logs, np.linspace(0, 1, min(n_bins, len(set(logs.tolist()))) + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    rows = []
    for i in range(edges.size - 1):
        lo, hi = edges[i], edges[i + 1]
        last = i == edges.size - 2
        members = [r for r, v in zip(done, logs, strict=True) if lo <= v and (v <= hi if last else v < hi)]
        values = [r.value for r in members if r.state == "complete" and r.value is not None]
        counts = [r.param_count for r in members] or [round(10**lo)]
        low, high = format_count(min(counts)), format_count(max(counts))  # real counts: 10**log10(151) < 151
        label = low if low == high else f"{low}-{high}"
        rows.append(
            GroupStat(
                label,
                float(min(counts)),
                len(values),
                sum(1 for r in members if r.state == "pruned"),
                max(values) if values else None,
                float(np.median(values)) if values else None,
            )
        )
    return rows


@dataclass(frozen=True)
class Importances:
    """Optuna parameter importances over completed trials, or why there are none."""

    evaluator: str  # "PED-ANOVA" (optuna.importance.PedAnovaImportanceEvaluator)
    values: dict[str, float] | None  # normalised to sum 1, highest first
    note: str | None = None  # why values is None, or a caveat Optuna raised


def param_importances(trials: Sequence[Any], *, seed: int = SEED) -> Importances:
    """PED-ANOVA importances (Optuna's default; fANOVA needs scikit-learn, which facesweep does not install).

    Needs ``MIN_IMPORTANCE_TRIALS`` completed trials; the top quantile is widened so it holds >= 5 trials, as
    Optuna's documentation recommends.
    """
    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances
    from optuna.trial import TrialState

    name = "PED-ANOVA"  # optuna.importance.PedAnovaImportanceEvaluator
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.values]
    if len(done) < MIN_IMPORTANCE_TRIALS:
        return Importances(name, None, f"needs >= {MIN_IMPORTANCE_TRIALS} completed trials, have {len(done)}")
    varied = sorted({p for t in done for p in t.params if len({repr(u.params.get(p)) for u in done}) > 1})
    if not varied:
        return Importances(name, None, "no parameter varied across completed trials")
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "A new study created in memory" line
    try:
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed))
        study.add_trials(done)
    finally:
        optuna.logging.set_verbosity(verbosity)
    quantile = min(0.5, max(0.1, 5 / len(done)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            values = get_param_importances(
                study, evaluator=PedAnovaImportanceEvaluator(target_quantile=quantile), params=varied
            )
            other = 0.25 if quantile < 0.25 else 0.5 if quantile < 0.5 else 0.25
            alt = get_param_importances(
                study, evaluator=PedAnovaImportanceEvaluator(target_quantile=other), params=varied
            )
        except Exception as exc:  # noqa: BLE001 -- Optuna's evaluators raise assorted errors on odd studies
            return Importances(name, None, f"Optuna could not compute importances: {exc}")
    notes = sorted({str(w.message).splitlines()[0] for w in caught if "experimental" not in str(w.message)})
    clean = {k: float(v) for k, v in sorted(values.items(), key=lambda kv: -kv[1])}
    top, alt_top = next(iter(clean), None), max(alt, key=alt.get) if alt else None
    if top != alt_top:  # PED-ANOVA's ranking depends on the top quantile: say so rather than pick one
        notes.append(f"top parameter is {top} at quantile {quantile:.2g} but {alt_top} at {other:.2g}")
    return Importances(name, clean, "; ".join(notes) or None)


# --------------------------------------------------------------------------------------------------------------
# Summary and the classic per-depth table
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrialMetrics:
    """One trial's headline numbers, taken at its best epoch."""

    number: int
    depth: int | None
    value: float | None  # the study's objective
    val_accuracy: float | None
    val_loss: float | None
    val_macro_f1: float | None
    best_epoch: int | None
    epochs_run: int
    epochs: int | None  # configured
    train_seconds: float | None
    param_count: int | None
    params: dict[str, Any]
    config: dict[str, Any]
    artifact: str | None


@dataclass(frozen=True)
class Summary:
    counts: dict[str, int]  # complete / pruned / fail / running / waiting
    n_trials: int
    total_seconds: float  # sum of trial wall times (start -> complete)
    train_seconds: float  # sum of recorded training seconds (compile excluded)
    span_seconds: float  # first start -> last finish
    best: TrialMetrics | None


def best_epoch_of(record: TrialRecord, metric: str) -> int | None:
    if record.best_epoch is not None and 1 <= record.best_epoch <= record.epochs_run:
        return record.best_epoch
    series = record.series(metric)
    if series.size == 0 or np.all(np.isnan(series)):
        return None
    return int(np.nanargmax(series)) + 1


def trial_metrics(record: TrialRecord, metric: str) -> TrialMetrics:
    epoch = best_epoch_of(record, metric)
    at = record.metrics_at(epoch)
    return TrialMetrics(
        number=record.number,
        depth=record.depth,
        value=record.value,
        val_accuracy=at["val_accuracy"],
        val_loss=at["val_loss"],
        val_macro_f1=at["val_macro_f1"],
        best_epoch=epoch,
        epochs_run=record.epochs_run,
        epochs=record.epochs,
        train_seconds=record.train_seconds,
        param_count=record.param_count,
        params=dict(record.params),
        config=dict(record.config),
        artifact=record.artifact,
    )


def best_record(records: Sequence[TrialRecord]) -> TrialRecord | None:
    done = [r for r in records if r.state == "complete" and r.value is not None]
    return max(done, key=lambda r: (r.value, -r.number)) if done else None


def summarize(records: Sequence[TrialRecord], metric: str) -> Summary:
    counts = {s: 0 for s in ("complete", "pruned", "fail", "running", "waiting")}
    for r in records:
        counts[r.state] = counts.get(r.state, 0) + 1
    starts = [r.started for r in records if r.started is not None]
    ends = [r.finished for r in records if r.finished is not None]
    best = best_record(records)
    return Summary(
        counts=counts,
        n_trials=len(records),
        total_seconds=float(sum(r.duration_seconds or 0.0 for r in records)),
        train_seconds=float(sum(r.train_seconds or 0.0 for r in records)),
        span_seconds=float(max(ends) - min(starts)) if starts and ends else 0.0,
        best=trial_metrics(best, metric) if best else None,
    )


def depth_table(records: Sequence[TrialRecord], metric: str) -> list[TrialMetrics]:
    """The best completed trial at each depth, shallowest first: the report's comparison, made from a sweep."""
    rows = []
    for depth in sorted({r.depth for r in records if r.depth is not None}):
        best = best_record([r for r in records if r.depth == depth])
        if best is not None:
            rows.append(trial_metrics(best, metric))
    return rows


# --------------------------------------------------------------------------------------------------------------
# Question 1: complexity
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ComplexityAnswer:
    verdict: str  # "yes" | "up to depth k" | "no clear effect" | "worse" | "cannot answer"
    strength: str | None  # "strong" | "moderate" | "weak"
    sentence: str
    depth_k: int | None  # the plateau depth for "up to depth k"
    by_depth: list[GroupStat]
    by_params: list[GroupStat]
    rho_depth: Correlation
    rho_params: Correlation
    rho_below_k: Correlation | None  # depth <= k, for the plateau rule
    rho_above_k: Correlation | None  # depth >= k

    @property
    def headline(self) -> str:
        """The verdict for people: "up to depth 4, then no" rather than the schema's "up to depth k"."""
        return f"up to depth {self.depth_k}, then no" if self.depth_k is not None else self.verdict


def fmt_corr(c: Correlation) -> str:
    if c.rho is None:
        return f"rho undefined (n = {c.n})"
    p = f", permutation p = {c.p_value:.2g}" if c.p_value is not None else ""
    if c.low is None or c.high is None:
        return f"rho = {c.rho:+.2f} (no interval: {c.n_used}/{c.n_boot} resamples usable, n = {c.n}{p})"
    dropped = f", {c.n_used}/{c.n_boot} resamples usable" if c.n_used < c.n_boot else ""
    return f"rho = {c.rho:+.2f} (95% BCa CI {c.low:+.2f} to {c.high:+.2f}, n = {c.n}{p}{dropped})"


def answer_complexity(
    records: Sequence[TrialRecord], metric: str, *, n_boot: int = N_BOOT, seed: int = SEED
) -> ComplexityAnswer:
    done = [r for r in records if r.state == "complete" and r.value is not None and r.depth is not None]
    by_depth = group_by_depth(records)
    by_params = group_by_params(records)
    depths = [float(r.depth) for r in done]  # type: ignore[arg-type]
    values = [float(r.value) for r in done]  # type: ignore[arg-type]
    rho_depth = bootstrap_spearman(depths, values, name="depth", n_boot=n_boot, seed=seed)
    with_params = [r for r in done if r.param_count]
    rho_params = bootstrap_spearman(
        [float(r.param_count) for r in with_params],  # type: ignore[arg-type]
        [float(r.value) for r in with_params],  # type: ignore[arg-type]
        name="param_count",
        n_boot=n_boot,
        seed=seed,
    )
    common = dict(by_depth=by_depth, by_params=by_params, rho_depth=rho_depth, rho_params=rho_params)
    distinct = sorted({r.depth for r in done})
    if len(done) < MIN_TRIALS or len(distinct) < 2:
        if len(distinct) < 2 and done:
            why = (
                f"every completed trial has depth {distinct[0]}, so this study cannot say whether depth helps; "
                "run facesweep study with a depth range (e.g. depths 1 to 5) to answer it"
            )
        else:
            why = (
                f"only {len(done)} completed trial(s) (at least {MIN_TRIALS} over two or more depths are needed); "
                "run more trials with facesweep study"
            )
        return ComplexityAnswer(
            "cannot answer", None, f"Cannot answer: {why}.", None, **common, rho_below_k=None, rho_above_k=None
        )

    medians = [(int(g.key), g.median) for g in by_depth if g.median is not None]
    shallow_depth, shallow_median = medians[0]
    median_at = dict(medians)
    rho_below = rho_above = None
    k = rules.fallback_depth_k(medians)
    if k is not None:
        below = [r for r in done if r.depth <= k]  # type: ignore[operator]
        above = [r for r in done if r.depth >= k]  # type: ignore[operator]
        rho_below = bootstrap_spearman(
            [r.depth for r in below],
            [r.value for r in below],  # type: ignore[misc]
            name="depth<=k",
            n_boot=n_boot,
            seed=seed,
        )
        rho_above = bootstrap_spearman(
            [r.depth for r in above],
            [r.value for r in above],  # type: ignore[misc]
            name="depth>=k",
            n_boot=n_boot,
            seed=seed,
        )
        if rules.fallback_plateau_holds(rho_below.low, rho_below.p_value, rho_above.low):
            deepest = medians[-1][0]
            sentence = (
                f"Up to depth {k}, then no: median {metric} rises from {shallow_median:.3f} at depth {shallow_depth} "
                f"to {median_at[k]:.3f} at depth {k} ({fmt_corr(rho_below)} for depths <= {k}), and deeper models "
                f"add nothing (median {median_at[deepest]:.3f} at depth {deepest}; {fmt_corr(rho_above)} for "
                f"depths >= {k})."
            )
            return ComplexityAnswer(
                "up to depth k",
                strength_of(rho_below.rho),
                sentence,
                k,
                **common,
                rho_below_k=rho_below,
                rho_above_k=rho_above,
            )
    strength = strength_of(rho_depth.rho)
    span = (
        f"median {metric} {shallow_median:.3f} at depth {shallow_depth} and {medians[-1][1]:.3f} at depth "
        f"{medians[-1][0]}"
    )
    verdict = rules.fallback_depth_verdict(rho_depth.rho, rho_depth.low, rho_depth.high, rho_depth.p_value)
    if verdict == "yes":
        sentence = (f"Yes ({strength}): deeper models predict better -- {fmt_corr(rho_depth)} between depth and "
                    f"{metric}; {span}.")  # fmt: skip
    elif verdict == "worse":
        sentence = f"No, deeper is worse ({strength}): {fmt_corr(rho_depth)} between depth and {metric}; {span}."
    else:
        sentence = f"No clear effect of depth: {fmt_corr(rho_depth)} between depth and {metric}; {span}."
    return ComplexityAnswer(verdict, strength, sentence, None, **common, rho_below_k=rho_below, rho_above_k=rho_above)


# --------------------------------------------------------------------------------------------------------------
# Question 2: epochs
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PeakEpochs:
    """Where each trial's validation metric peaked (1-based), over every trial with a curve."""

    n: int
    epochs: list[int]  # one per trial, in trial order
    median: float | None
    q1: float | None
    q3: float | None
    n_at_last: int  # trials whose peak was their last epoch run (still improving when they stopped)
    histogram: dict[int, int]  # peak epoch -> trials


@dataclass(frozen=True)
class DoublingGain:
    """Median change of the metric from epoch e to epoch 2e over trials that ran >= 2e epochs."""

    epoch: int  # e
    n: int
    median_gain: float
    q1: float
    q3: float


@dataclass(frozen=True)
class Overfitting:
    n_checked: int  # trials that ran >= MIN_OVERFIT_AFTER epochs after their val-loss minimum (the only judgeable)
    n_onset: int
    onsets: dict[int, int]  # trial number -> onset epoch (the validation-loss minimum)
    median_onset: float | None
    epochs_after_onset: int  # epochs trained after the onset, summed
    n_curves: int = 0  # trials with a loss curve; n_checked of them ran >= 2 epochs past their val-loss minimum


@dataclass(frozen=True)
class EarlyStopping:
    planned_epochs: int  # sum of configured epochs over trials with a curve
    run_epochs: int
    n_stopped_early: int
    saved_by_early_stopping: int  # epochs not run by trials that stopped early
    n_pruned: int
    saved_by_pruning: int  # epochs not run by pruned trials
    n_full: int  # trials that ran every configured epoch
    after_peak_full: int  # epochs those trials ran after their peak: what early stopping could still save
    median_after_peak_full: float | None


@dataclass(frozen=True)
class EpochsAnswer:
    verdict: str  # "yes" | "up to epoch k" | "no clear effect" | "cannot answer"
    sentence: str
    epoch_k: int | None
    peak: PeakEpochs
    gains: list[DoublingGain]
    overfitting: Overfitting
    early_stopping: EarlyStopping
    rho_epochs: Correlation

    @property
    def headline(self) -> str:
        """The verdict for people: "up to epoch 8, then no" rather than the schema's "up to epoch k"."""
        return f"up to epoch {self.epoch_k}, then no" if self.epoch_k is not None else self.verdict


def peak_epochs(records: Sequence[TrialRecord], metric: str) -> PeakEpochs:
    peaks, at_last = [], 0
    for r in records:
        series = r.series(metric)
        if series.size == 0 or np.all(np.isnan(series)):
            continue
        peak = int(np.nanargmax(series)) + 1
        peaks.append(peak)
        at_last += int(peak == series.size)
    if not peaks:
        return PeakEpochs(0, [], None, None, None, 0, {})
    q1, med, q3 = (float(v) for v in np.percentile(peaks, [25, 50, 75]))
    hist: dict[int, int] = {}
    for p in peaks:
        hist[p] = hist.get(p, 0) + 1
    return PeakEpochs(len(peaks), peaks, med, q1, q3, at_last, dict(sorted(hist.items())))


def doubling_gains(records: Sequence[TrialRecord], metric: str) -> list[DoublingGain]:
    curves = [r.series(metric) for r in records]
    curves = [c for c in curves if c.size]
    out, e = [], 1
    while any(c.size >= 2 * e for c in curves):
        deltas = np.array([c[2 * e - 1] - c[e - 1] for c in curves if c.size >= 2 * e])
        deltas = deltas[~np.isnan(deltas)]
        if deltas.size:
            q1, med, q3 = np.percentile(deltas, [25, 50, 75])
            out.append(DoublingGain(e, int(deltas.size), float(med), float(q1), float(q3)))
        e *= 2
    return out


def overfit_onset(record: TrialRecord) -> int | None:
    """1-based epoch of the validation-loss minimum if loss then turns up while training loss falls (see top)."""
    val, train = record.series("val_loss"), record.series("train_loss")
    n = min(val.size, train.size)
    if n < 3 or np.all(np.isnan(val[:n])):
        return None
    m = int(np.nanargmin(val[:n]))
    if m + 2 >= n:
        return None
    floor = val[m] * (1 + OVERFIT_RISE) if val[m] >= 0 else val[m] * (1 - OVERFIT_RISE)
    if val[m + 1] > floor and val[m + 2] > floor and train[m + 2] < train[m]:
        return m + 1
    return None


def checkable(record: TrialRecord) -> bool:
    """Enough epochs after the validation-loss minimum to say whether it turned up."""
    val, train = record.series("val_loss"), record.series("train_loss")
    n = min(val.size, train.size)
    if n == 0 or np.all(np.isnan(val[:n])):
        return False
    return n - (int(np.nanargmin(val[:n])) + 1) >= MIN_OVERFIT_AFTER


def overfitting(records: Sequence[TrialRecord]) -> Overfitting:
    curves = [r for r in records if min(r.series("val_loss").size, r.series("train_loss").size) >= 1]
    checked = [r for r in curves if checkable(r)]
    onsets = {r.number: e for r in checked if (e := overfit_onset(r)) is not None}
    after = sum(r.epochs_run - onsets[r.number] for r in checked if r.number in onsets)
    median = float(np.median(list(onsets.values()))) if onsets else None
    return Overfitting(len(checked), len(onsets), onsets, median, int(after), len(curves))


def early_stopping(records: Sequence[TrialRecord], metric: str) -> EarlyStopping:
    with_curve = [r for r in records if r.epochs_run > 0]
    planned = sum(max(r.epochs or r.epochs_run, r.epochs_run) for r in with_curve)
    run = sum(r.epochs_run for r in with_curve)
    stopped = [r for r in with_curve if r.stopped_early and r.state != "pruned"]
    pruned = [r for r in with_curve if r.state == "pruned"]
    full = [r for r in with_curve if r.state == "complete" and r.epochs is not None and r.epochs_run >= r.epochs]
    after_peak = []
    for r in full:
        series = r.series(metric)
        if series.size and not np.all(np.isnan(series)):
            after_peak.append(series.size - (int(np.nanargmax(series)) + 1))
    return EarlyStopping(
        planned_epochs=int(planned),
        run_epochs=int(run),
        n_stopped_early=len(stopped),
        saved_by_early_stopping=int(sum(max(0, (r.epochs or 0) - r.epochs_run) for r in stopped)),
        n_pruned=len(pruned),
        saved_by_pruning=int(sum(max(0, (r.epochs or 0) - r.epochs_run) for r in pruned)),
        n_full=len(full),
        after_peak_full=int(sum(after_peak)),
        median_after_peak_full=float(np.median(after_peak)) if after_peak else None,
    )


def answer_epochs(
    records: Sequence[TrialRecord], metric: str, *, n_boot: int = N_BOOT, seed: int = SEED
) -> EpochsAnswer:
    peak = peak_epochs(records, metric)
    gains = doubling_gains(records, metric)
    over = overfitting(records)
    stop = early_stopping(records, metric)
    done = [r for r in records if r.state == "complete" and r.value is not None and r.epochs is not None]
    rho = bootstrap_spearman(
        [float(r.epochs) for r in done],
        [float(r.value) for r in done],  # type: ignore[arg-type]
        name="epochs",
        n_boot=n_boot,
        seed=seed,
    )
    common = dict(peak=peak, gains=gains, overfitting=over, early_stopping=stop, rho_epochs=rho)
    usable = [g for g in gains if g.n >= MIN_CURVES]
    if not usable:
        sentence = (
            f"Cannot answer: {peak.n} learning curve(s), none long enough to compare epoch e with 2e over "
            f"{MIN_CURVES} or more trials; run facesweep study with more epochs."
        )
        return EpochsAnswer("cannot answer", sentence, None, **common)

    def gain_text(g: DoublingGain) -> str:
        return f"{g.median_gain:+.3f} from epoch {g.epoch} to {2 * g.epoch} (n = {g.n})"

    facts = []
    if peak.median is not None:
        facts.append(
            f"{metric} peaked at a median epoch {peak.median:g} (IQR {peak.q1:g}-{peak.q3:g}, {peak.n} curves)"
        )
    if over.n_checked:
        onset = f", median epoch {over.median_onset:g}" if over.median_onset is not None else ""
        facts.append(
            f"validation loss turned up while training loss fell in {over.n_onset} of the {over.n_checked} trials "
            f"that ran {MIN_OVERFIT_AFTER}+ epochs past their validation-loss minimum{onset} "
            f"({over.n_curves - over.n_checked} other curves too short after it to judge)"
        )
    if rho.rho is not None:
        facts.append(f"epochs vs final {metric}: {fmt_corr(rho)}")
    tail = ("; " + "; ".join(facts)) if facts else ""
    verdict, k = rules.fallback_epochs_verdict([(g.epoch, g.median_gain) for g in usable])
    if verdict == "no clear effect":
        sentence = (
            f"No clear effect of more epochs: doubling epochs never gained more than {FLAT_TOLERANCE:g} "
            f"(median {gain_text(usable[0])}){tail}."
        )
    elif verdict == "yes":
        sentence = f"Yes: more epochs still help at the longest runs -- median gain {gain_text(usable[-1])}{tail}."
    else:
        last = next(g for g in usable if 2 * g.epoch == k)
        after = [g for g in usable if g.epoch >= k]  # type: ignore[operator]
        worse = any(g.median_gain < -FLAT_TOLERANCE for g in after)
        sentence = (
            f"Up to epoch {k}, then no: median gain {gain_text(last)}, but "
            + ", ".join(gain_text(g) for g in after)
            + (" (later epochs overfit)" if worse else "")
            + f"{tail}."
        )
    return EpochsAnswer(verdict, sentence, k, **common)


