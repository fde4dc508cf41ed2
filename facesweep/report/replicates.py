"""Answers from seed replicates: does depth help, do epochs help -- with the seed noise in view.

    from facesweep.report.replicates import answer_replicates
    answers = answer_replicates(records, "val_accuracy")     # None when the study has no replicates
    answers.complexity.sentence, answers.epochs.sentence, answers.noise.sd

A replicate is a re-run of a search trial's configuration with another seed (``role == "replicate"``), trained
for its full epoch count without pruning or early stopping. Each depth's values come from the replicates of one
configuration (the best search trial at that depth), so the spread within a depth is seed noise and nothing else.
The rules are in ``facesweep.report.rules``; this module only applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from facesweep.report import rules, stats
from facesweep.report.records import TrialRecord
from facesweep.report.stats import (
    LEVEL,
    Interval,
    SeedNoise,
    diff_interval,
    mean_interval,
    paired_interval,
    pooled_noise,
    t_quantile,
)


@dataclass(frozen=True)
class DepthReplicates:
    """The replicates of one depth's configuration."""

    depth: int
    source_trial: int  # the search trial they replicate
    trials: list[int]  # replicate trial numbers
    seeds: list[int | None]
    epochs: int  # epochs every replicate completed (the common curve length)
    values: list[float]  # metric at ``epochs`` per replicate
    mean: Interval  # mean of ``values`` with its t interval
    curves: np.ndarray = field(repr=False)  # (n, epochs) metric per epoch
    val_loss: np.ndarray = field(repr=False)  # (n, epochs) validation loss per epoch

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def usable(self) -> bool:
        return self.n >= rules.MIN_VALUES


@dataclass(frozen=True)
class Step:
    """Adjacent depths compared at a matched epoch."""

    shallower: int
    deeper: int
    epoch: int  # the matched epoch both were read at
    diff: Interval  # mean(deeper) - mean(shallower), simultaneous interval
    call: str  # rules.GAIN | LOSS | NO_GAIN | NOT_SHOWN


@dataclass(frozen=True)
class PowerHint:
    """How big a depth step the replicates could show, and how many seeds a step of the calibrated size needs."""

    seeds: int  # seeds per depth in this study (the fewest of the compared depths)
    detectable_step: float  # metric units: shown as a gain with POWER probability at this noise and these seeds
    step: float  # the step size planned for (the calibration's effect)
    seeds_for_step: int | None  # seeds per depth that show ``step`` with POWER probability; None = over 10,000

    def text(self) -> str:
        need = (f"about {self.seeds_for_step} seeds per depth (--replicates {self.seeds_for_step})"
                if self.seeds_for_step else "more than 10,000 seeds per depth")  # fmt: skip
        return (f"at this seed noise {self.seeds} seeds per depth show only steps of "
                f"{pts(self.detectable_step, sign=False)} points or more ({stats.POWER:.0%} power); a "
                f"{pts(self.step, sign=False)}-point step needs {need}")


@dataclass(frozen=True)
class ReplicateComplexity:
    verdict: str  # "yes" | "up to depth k" | "at least up to depth k" | "worse" | "no gain" | "not shown either way"
    #              | "cannot answer"
    sentence: str
    depth_k: int | None
    depths: list[DepthReplicates]
    steps: list[Step]
    excluded: list[int]  # depths with fewer than MIN_VALUES replicate values
    delta: float
    power: PowerHint | None = None  # what these seeds can show at this noise; None without steps or noise

    @property
    def headline(self) -> str:
        if self.verdict == "up to depth k":
            return f"up to depth {self.depth_k}, then no"
        if self.verdict == "at least up to depth k":
            return f"at least up to depth {self.depth_k}"
        return self.verdict


@dataclass(frozen=True)
class EpochBand:
    epoch: int
    mean: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class DepthEpochs:
    """One depth's replicate curves: band per epoch, plateau, overfitting."""

    depth: int
    n: int
    bands: list[EpochBand]
    plateau_epoch: int | None
    gain_to_plateau: Interval | None  # paired metric(p) - metric(1)
    gain_after_plateau: Interval | None  # paired metric(last) - metric(p); None when p is the last epoch
    verdict: str  # "yes" | "up to epoch k" | "no gain" | "not shown either way" | "cannot answer"
    overfit: str  # "yes" | "no" | "cannot tell"
    val_loss_min_epoch: int | None
    val_loss_rise: Interval | None  # paired val_loss(last) - val_loss(min)
    sentence: str


@dataclass(frozen=True)
class ReplicateEpochs:
    verdict: str  # "yes" | "up to epoch k" | "no gain" | "depends on depth" | "not shown either way" | "cannot answer"
    sentence: str
    epoch_k: int | None
    depths: list[DepthEpochs]
    overfit_sentence: str
    delta: float

    @property
    def headline(self) -> str:
        return f"up to epoch {self.epoch_k}, then no" if self.verdict == "up to epoch k" else self.verdict


@dataclass(frozen=True)
class ReplicateAnswers:
    noise: SeedNoise
    complexity: ReplicateComplexity
    epochs: ReplicateEpochs


# --------------------------------------------------------------------------------------------------------------
def pts(x: float | None, sign: bool = True) -> str:
    """Metric units -> points (0.031 -> '+3.1')."""
    if x is None:
        return "-"
    return f"{100 * x:+.1f}" if sign else f"{100 * x:.1f}"


def noise_text(noise: SeedNoise) -> str:
    if noise.sd is None:
        return "seed noise unknown (no replicate group with 2 or more values)"
    return f"seed noise SD {pts(noise.sd, sign=False)} points ({noise.values} runs in {noise.groups} groups)"


def _interval_text(i: Interval) -> str:
    if not i.defined:
        return f"{pts(i.estimate)} (no interval)"
    simult = ", simultaneous" if i.family > 1 else ""
    return f"{pts(i.estimate)} ({i.level:.0%} CI{simult} {pts(i.low)} to {pts(i.high)})"


def depth_replicates(records: Sequence[TrialRecord], metric: str) -> list[DepthReplicates]:
    """Per depth, the replicate group with the most finished curves (complete replicates only)."""
    done = [r for r in records if r.is_replicate and r.state == "complete" and r.depth is not None]
    groups: dict[int, list[TrialRecord]] = {}
    for r in done:
        groups.setdefault(r.replicate_of if r.replicate_of is not None else -1, []).append(r)
    by_depth: dict[int, list[TrialRecord]] = {}
    for members in groups.values():
        depth = members[0].depth
        best = by_depth.get(depth)  # type: ignore[arg-type]
        if best is None or len(members) > len(best):
            by_depth[depth] = members  # type: ignore[index]
    out = []
    for depth in sorted(by_depth):
        members = sorted(by_depth[depth], key=lambda r: r.number)
        series = [r.series(metric) for r in members]
        length = min(s.size for s in series)
        if length == 0:
            continue
        curves = np.stack([s[:length] for s in series])
        losses = [r.series("val_loss") for r in members]
        loss = np.stack([s[:length] if s.size >= length else np.full(length, np.nan) for s in losses])
        values = curves[:, -1]
        out.append(
            DepthReplicates(
                depth=depth,
                source_trial=members[0].replicate_of if members[0].replicate_of is not None else -1,
                trials=[r.number for r in members],
                seeds=[r.replicate_seed for r in members],
                epochs=int(length),
                values=[float(v) for v in values],
                mean=mean_interval(values),
                curves=curves,
                val_loss=loss,
            )
        )
    return out


def compare_depths(depths: Sequence[DepthReplicates], noise: SeedNoise, delta: float) -> list[Step]:
    usable = [d for d in depths if d.usable]
    pairs = list(zip(usable, usable[1:], strict=False))
    steps = []
    for a, b in pairs:
        epoch = min(a.epochs, b.epochs)
        diff = diff_interval(a.curves[:, epoch - 1], b.curves[:, epoch - 1], noise=noise, family=len(pairs))
        steps.append(Step(a.depth, b.depth, epoch, diff, rules.STEP.classify(diff, delta)))
    return steps


def power_hint(depths: Sequence[DepthReplicates], steps: Sequence[Step], noise: SeedNoise) -> PowerHint | None:
    """What the compared depths' seeds can show at the pooled noise (simultaneous over the adjacent steps)."""
    if not steps or noise.sd is None or noise.df <= 0:
        return None
    seeds = min(d.n for d in depths if d.usable)
    usable = sum(1 for d in depths if d.usable)
    step = rules.CALIBRATION["effect"]
    return PowerHint(
        seeds=seeds,
        detectable_step=stats.detectable_step(noise.sd, seeds, noise.df, family=len(steps)),
        step=step,
        seeds_for_step=stats.seeds_needed(noise.sd, step, usable, family=len(steps)),
    )


def _step_text(s: Step) -> str:
    return f"{s.shallower} to {s.deeper}: {_interval_text(s.diff)} at epoch {s.epoch}, {s.call}"


def answer_complexity(depths: list[DepthReplicates], noise: SeedNoise, metric: str) -> ReplicateComplexity:
    delta = rules.no_gain_band(noise.sd)
    excluded = [d.depth for d in depths if not d.usable]
    steps = compare_depths(depths, noise, delta)
    power = power_hint(depths, steps, noise)
    common = dict(depths=depths, steps=steps, excluded=excluded, delta=delta, power=power)
    tail = f"; {noise_text(noise)}, no-gain band +-{pts(delta, sign=False)} points"
    if excluded:
        tail += f"; depth(s) {', '.join(map(str, excluded))} left out (< {rules.MIN_VALUES} replicate values)"
    if not steps:
        usable = [d.depth for d in depths if d.usable]
        sentence = (
            f"Cannot answer: {len(usable)} depth(s) with >= {rules.MIN_VALUES} replicate values, 2 needed{tail}."
        )
        return ReplicateComplexity("cannot answer", sentence, None, **common)
    n_text = f"{min(d.n for d in depths if d.usable)}+ seeds each" if steps else ""
    calls = [s.call for s in steps]
    gains = [i for i, c in enumerate(calls) if c == rules.GAIN]
    detail = "; ".join(_step_text(s) for s in steps)
    k = None
    if gains:
        last = gains[-1]
        k = steps[last].deeper
        after = calls[last + 1 :]
        first_gain = steps[gains[0]]
        lead = (
            f"{pts(first_gain.diff.estimate)} points from {first_gain.shallower} to {first_gain.deeper}"
            if len(gains) == 1
            else f"gains at {len(gains)} of {len(steps)} steps"
        )
        if not after:
            verdict, head = "yes", f"Yes: deeper helps through depth {k} ({lead})"
        elif all(c in (rules.NO_GAIN, rules.LOSS) for c in after):
            worse = " then worse" if rules.LOSS in after else " then no gain"
            verdict, head = "up to depth k", f"Deeper helps up to depth {k},{worse} ({lead})"
        else:
            verdict = "at least up to depth k"
            head = f"Deeper helps at least up to depth {k}; beyond it {rules.NOT_SHOWN} ({lead})"
    elif rules.LOSS in calls:
        verdict, head = "worse", "No, deeper is worse"
    elif all(c == rules.NO_GAIN for c in calls):
        verdict, head = rules.NO_GAIN, "No gain from depth (every step inside the no-gain band)"
    else:
        verdict, head = rules.NOT_SHOWN, "Not shown either way: no step is a clear gain, loss or no-gain"
        if power is not None:
            tail += f"; {power.text()}"
    sentence = f"{head}: {detail} ({n_text}){tail}."
    return ReplicateComplexity(verdict, sentence, k, **common)


def epoch_bands(curves: np.ndarray) -> list[EpochBand]:
    """Mean per epoch with the t interval of ``mean_interval`` (vectorised over epochs: one quantile)."""
    n, length = curves.shape
    means = curves.mean(0)
    if n < 2:
        return [EpochBand(e + 1, float(means[e]), None, None) for e in range(length)]
    half = t_quantile(1 - (1 - LEVEL) / 2, n - 1) * curves.std(0, ddof=1) / np.sqrt(n)
    return [EpochBand(e + 1, float(means[e]), float(means[e] - half[e]), float(means[e] + half[e]))
            for e in range(length)]  # fmt: skip


def depth_epochs(d: DepthReplicates, delta: float) -> DepthEpochs:
    curves = d.curves
    n, length = curves.shape
    bands = epoch_bands(curves)
    if n < rules.MIN_VALUES or length < 2:
        why = f"{n} curve(s) of {length} epoch(s); needs {rules.MIN_VALUES} curves of 2+ epochs"
        return DepthEpochs(d.depth, n, bands, None, None, None, "cannot answer", "cannot tell", None, None,
                           f"depth {d.depth}: cannot answer ({why})")  # fmt: skip
    means = curves.mean(0)
    plateau = next(e for e in range(length) if e == length - 1 or means[e + 1 :].max() - means[e] < delta) + 1
    up = paired_interval(curves[:, 0], curves[:, plateau - 1]) if plateau > 1 else None
    after = paired_interval(curves[:, plateau - 1], curves[:, -1]) if plateau < length else None
    rose = up is not None and up.defined and up.low > 0  # type: ignore[operator]
    if plateau == length:
        verdict = "yes" if rose else rules.NOT_SHOWN
        text = f"still gaining at its last epoch {length} (1 to {length}: {_interval_text(up)})" if up else ""
    elif after is not None and after.defined and after.high < delta and plateau == 1:  # type: ignore[operator]
        verdict = rules.NO_GAIN
        text = f"no gain after epoch 1 (1 to {length}: {_interval_text(after)})"
    elif after is not None and after.defined and after.high < delta and rose:  # type: ignore[operator]
        verdict = "up to epoch k"
        text = (
            f"plateau at epoch {plateau}"
            + (f" (1 to {plateau}: {_interval_text(up)})" if up else "")
            + f", then {_interval_text(after)} to epoch {length}"
            + (" (worse: later epochs lose)" if after.high < 0 else "")  # type: ignore[operator]
        )
    else:
        verdict = rules.NOT_SHOWN
        text = f"plateau estimate epoch {plateau}, but {plateau} to {length}: " + (
            _interval_text(after) if after is not None else "-"
        )
        if plateau > 1 and not rose:
            text += f"; 1 to {plateau}: {_interval_text(up)}" if up else ""
    loss = d.val_loss
    overfit, m_epoch, rise = "cannot tell", None, None
    if not np.any(np.isnan(loss)):
        m = int(np.argmin(loss.mean(0)))
        m_epoch = m + 1
        if length - m_epoch >= rules.MIN_OVERFIT_AFTER:
            rise = paired_interval(loss[:, m], loss[:, -1])
            overfit = "yes" if rise.defined and rise.low > 0 else "no"  # type: ignore[operator]
    sentence = f"depth {d.depth} ({n} seeds, {length} epochs): {text}"
    return DepthEpochs(d.depth, n, bands, plateau, up, after, verdict, overfit, m_epoch, rise, sentence)


def _overfit_text(rows: list[DepthEpochs]) -> str:
    parts = []
    for r in rows:
        if r.overfit == "yes":
            rise = r.val_loss_rise
            assert rise is not None and rise.defined
            parts.append(f"depth {r.depth}: yes, val loss lowest at epoch {r.val_loss_min_epoch}, then rose "
                         f"{rise.estimate:+.3f} (CI {rise.low:+.3f} to {rise.high:+.3f}) by the end")  # fmt: skip
        elif r.overfit == "no":
            parts.append(f"depth {r.depth}: no (val loss lowest at epoch {r.val_loss_min_epoch}, no clear rise after)")
        else:
            length = len(r.bands)
            where = (f"val loss lowest at epoch {r.val_loss_min_epoch} of {length}, fewer than "
                     f"{rules.MIN_OVERFIT_AFTER} epochs after it" if r.val_loss_min_epoch else "no val loss curve")
            parts.append(f"depth {r.depth}: cannot tell ({where})")  # fmt: skip
    yes = [r.depth for r in rows if r.overfit == "yes"]
    head = f"overfitting at depth {', '.join(map(str, yes))}" if yes else "no depth shown to overfit"
    return f"{head} -- " + "; ".join(parts) if parts else "no replicate curves"


def answer_epochs(depths: list[DepthReplicates], noise: SeedNoise, metric: str) -> ReplicateEpochs:
    delta = rules.no_gain_band(noise.sd)
    rows = [depth_epochs(d, delta) for d in depths]
    judged = [r for r in rows if r.verdict != "cannot answer"]
    overfit = _overfit_text(judged or rows)
    tail = f"; {noise_text(noise)}, band delta {pts(delta, sign=False)} points"
    if not judged:
        sentence = f"Cannot answer: no depth has {rules.MIN_VALUES} replicate curves of 2+ epochs{tail}."
        return ReplicateEpochs("cannot answer", sentence, None, rows, overfit, delta)
    verdicts = {r.verdict for r in judged}
    detail = "; ".join(r.sentence for r in judged)
    k = None
    if verdicts == {"up to epoch k"}:
        k = max(r.plateau_epoch for r in judged)  # type: ignore[type-var]
        verdict, head = "up to epoch k", f"Up to epoch {k}, then no (further epochs gain less than the seed noise)"
    elif verdicts == {rules.NO_GAIN}:
        verdict, head = rules.NO_GAIN, "No gain from epochs after the first"
    elif verdicts == {"yes"}:
        verdict, head = "yes", "Yes: every depth still gains at its last epoch"
    elif verdicts == {rules.NOT_SHOWN}:
        verdict, head = rules.NOT_SHOWN, "Not shown either way"
    else:
        verdict, head = "depends on depth", "Depends on depth"
    sentence = f"{head}: {detail}{tail}."
    return ReplicateEpochs(verdict, sentence, k, rows, overfit, delta)


def answer_replicates(records: Sequence[TrialRecord], metric: str) -> ReplicateAnswers | None:
    """The replicate-based answers, or None when the study holds no complete replicate."""
    depths = depth_replicates(records, metric)
    if not depths:
        return None
    noise = pooled_noise([d.values for d in depths])
    return ReplicateAnswers(noise, answer_complexity(depths, noise, metric), answer_epochs(depths, noise, metric))
