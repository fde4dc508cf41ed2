"""Answers from seed replicates: does depth help, do epochs help -- with the seed noise and the looks in view.

    from facesweep.verdicts.replicates import Replicate, group_replicates, answer
    depths = group_replicates(rows)                 # rows: one ``Replicate`` per finished replicate trial
    answers = answer(depths, SeedPlan())            # answers.complexity.verdict, answers.epochs.verdict

A replicate is a re-run of a search trial's configuration with another seed, trained for its full epoch count
without pruning or early stopping. Each depth's values come from the replicates of one configuration (the best
search trial at that depth), so the spread within a depth is seed noise and nothing else. The rules are in
``verdicts.rules``; this module only applies them. Both the study (which depths get more seeds) and the report
(what it prints) call ``answer``, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from facesweep.verdicts import rules, stats
from facesweep.verdicts.sequential import SeedPlan
from facesweep.verdicts.stats import (
    LEVEL,
    Interval,
    SeedNoise,
    diff_interval,
    mean_interval,
    paired_interval,
    pooled_noise,
    t_quantile,
    welch_se_df,
)


@dataclass(frozen=True)
class Replicate:
    """One finished replicate trial, as the study or the report reads it from storage."""

    number: int
    depth: int
    source: int  # the search trial it replicates
    seed: int | None
    curve: Sequence[float]  # the metric per epoch
    val_loss: Sequence[float] = ()


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

    @property
    def sd(self) -> float:
        """Seed SD of ``values`` (metric units; nan below 2 values)."""
        return float(np.std(self.values, ddof=1)) if self.n >= 2 else float("nan")


@dataclass(frozen=True)
class Step:
    """Adjacent depths compared at a matched epoch."""

    shallower: int
    deeper: int
    epoch: int  # the matched epoch both were read at
    diff: Interval  # mean(deeper) - mean(shallower), simultaneous interval
    call: str  # rules.GAIN | LOSS | NO_GAIN | NOT_SHOWN
    seeds_to_decide: int | None = None  # undecided steps: seeds per depth that would decide it at this estimate


@dataclass(frozen=True)
class PowerHint:
    """How big a depth step the replicates could show, and how many seeds the smallest worthwhile step needs: the
    figures of the noisiest step (each step planned from its two depths' own seed SDs, as it is read)."""

    seeds: int  # seeds per depth in this study (the fewer of that step's two depths)
    detectable_step: float  # metric units: shown as a gain with POWER probability at these SDs and seeds
    step: float  # the step size planned for (the smallest difference worth having)
    seeds_for_step: int | None  # seeds per depth that show ``step`` with POWER probability; None = over 10,000


@dataclass(frozen=True)
class ReplicateComplexity:
    verdict: str  # "yes" | "up to depth k" | "at least up to depth k" | "worse" | "no gain" | "not shown either way"
    #              | "cannot answer"
    sentence: str
    depth_k: int | None
    depths: list[DepthReplicates]
    steps: list[Step]
    excluded: list[int]  # depths with fewer than MIN_VALUES replicate values
    delta: float  # the smallest difference worth having (metric units)
    power: PowerHint | None = None  # what these seeds can show (the noisiest step); None without steps

    @property
    def headline(self) -> str:
        if self.verdict == "up to depth k":
            return f"up to depth {self.depth_k}, then no"
        if self.verdict == "at least up to depth k":
            return f"at least up to depth {self.depth_k}"
        return self.verdict

    @property
    def decided(self) -> bool:
        return self.verdict not in rules.UNDECIDED


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
    last_gain: Interval | None  # paired metric(last) - metric(last - 1)
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
        if self.verdict == "up to epoch k":
            return f"up to epoch {self.epoch_k}, then no"
        if self.verdict == "yes":
            last = max(len(d.bands) for d in self.depths if d.verdict == "yes")
            return f"yes, still gaining at epoch {last}"
        return self.verdict

    @property
    def decided(self) -> bool:
        return self.verdict not in rules.UNDECIDED


@dataclass(frozen=True)
class ReplicateAnswers:
    noise: SeedNoise
    complexity: ReplicateComplexity
    epochs: ReplicateEpochs
    plan: SeedPlan

    @property
    def decided(self) -> bool:
        return self.complexity.decided and self.epochs.decided


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


def interval_text(i: Interval) -> str:
    if not i.defined:
        return f"{pts(i.estimate)} (no interval)"
    simult = ", simultaneous" if i.family > 1 else ""
    return f"{pts(i.estimate)} ({i.level:.0%} CI{simult} {pts(i.low)} to {pts(i.high)})"


def group_replicates(rows: Sequence[Replicate]) -> list[DepthReplicates]:
    """Per depth, the replicate group (one source configuration) with the most finished curves."""
    groups: dict[tuple[int, int], list[Replicate]] = {}
    for r in rows:
        groups.setdefault((r.depth, r.source), []).append(r)
    by_depth: dict[int, list[Replicate]] = {}
    for (depth, _), members in sorted(groups.items()):
        if depth not in by_depth or len(members) > len(by_depth[depth]):
            by_depth[depth] = members
    out = []
    for depth in sorted(by_depth):
        members = sorted(by_depth[depth], key=lambda r: r.number)
        series = [np.asarray(r.curve, dtype=np.float64) for r in members]
        length = min(s.size for s in series)
        if length == 0:
            continue
        curves = np.stack([s[:length] for s in series])
        losses = [np.asarray(r.val_loss, dtype=np.float64) for r in members]
        loss = np.stack([s[:length] if s.size >= length else np.full(length, np.nan) for s in losses])
        values = curves[:, -1]
        out.append(DepthReplicates(depth=depth, source_trial=members[0].source, trials=[r.number for r in members],
                                   seeds=[r.seed for r in members], epochs=int(length),
                                   values=[float(v) for v in values], mean=mean_interval(values), curves=curves,
                                   val_loss=loss))  # fmt: skip
    return out


def seeds_to_decide(estimate: float, sd_a: float, sd_b: float, min_effect: float, family: int,
                    most: int = 10_000) -> int | None:  # fmt: skip
    """Seeds per depth at which the step's Welch interval around ``estimate`` (the two depths' seed SDs) would lie
    above 0 or below ``min_effect``: the half-width must fall under max(|estimate|, min_effect - estimate). A
    planning figure at the estimate seen, not a power calculation."""
    room = max(abs(estimate), min_effect - estimate)
    if room <= 0 or sd_a**2 + sd_b**2 <= 0:
        return None
    n = 2
    while n <= most:
        se, df = welch_se_df(sd_a**2, sd_b**2, n, n)
        half = t_quantile(1 - (1 - LEVEL) / (2 * family), df) * se
        if half < room:
            return n
        n = n + 1 if n < 64 else int(n * 1.05) + 1
    return None


def compare_depths(depths: Sequence[DepthReplicates], plan: SeedPlan) -> list[Step]:
    """Adjacent usable depths at a matched epoch: Welch's interval from the two depths' own seeds (their seed noise
    differs: a shallow net that half-memorises posed faces spreads several times wider than a deep one, and a
    noise pooled over every depth would let one noisy depth widen every step), simultaneous over the steps and
    the planned looks."""
    usable = [d for d in depths if d.usable]
    pairs = list(zip(usable, usable[1:], strict=False))
    family = len(pairs) * plan.looks
    steps = []
    for a, b in pairs:
        epoch = min(a.epochs, b.epochs)
        xa, xb = a.curves[:, epoch - 1], b.curves[:, epoch - 1]
        diff = diff_interval(xa, xb, family=family)
        call = rules.STEP.classify(diff, plan.min_effect)
        need = None
        if call == rules.NOT_SHOWN:
            need = seeds_to_decide(diff.estimate, float(np.std(xa, ddof=1)), float(np.std(xb, ddof=1)),
                                   plan.min_effect, family)  # fmt: skip
        steps.append(Step(a.depth, b.depth, epoch, diff, call, need))
    return steps


def power_hint(depths: Sequence[DepthReplicates], steps: Sequence[Step], plan: SeedPlan) -> PowerHint | None:
    """What the compared depths' seeds can show, planned like the steps are read: per step from its two depths'
    own seed SDs (Welch, simultaneous over the steps and the looks); the hint gives the noisiest step's figures."""
    by_depth = {d.depth: d for d in depths}
    family = len(steps) * plan.looks
    worst: PowerHint | None = None
    for s in steps:
        a, b = by_depth[s.shallower], by_depth[s.deeper]
        sd_a, sd_b = a.sd, b.sd
        seeds = min(a.n, b.n)
        hint = PowerHint(seeds=seeds, detectable_step=stats.detectable_step(sd_a, sd_b, seeds, family=family),
                         step=plan.min_effect,
                         seeds_for_step=stats.seeds_needed(sd_a, sd_b, plan.min_effect, family=family))  # fmt: skip
        if worst is None or hint.detectable_step > worst.detectable_step:
            worst = hint
    return worst


def _step_text(s: Step) -> str:
    return f"{s.shallower} to {s.deeper}: {interval_text(s.diff)} at epoch {s.epoch}, {s.call}"


def answer_complexity(depths: list[DepthReplicates], noise: SeedNoise, plan: SeedPlan) -> ReplicateComplexity:
    delta = plan.min_effect
    excluded = [d.depth for d in depths if not d.usable]
    steps = compare_depths(depths, plan)
    power = power_hint(depths, steps, plan)
    common = dict(depths=depths, steps=steps, excluded=excluded, delta=delta, power=power)
    tail = f"; {noise_text(noise)}, smallest difference worth having {pts(delta, sign=False)} point(s)"
    if excluded:
        tail += f"; depth(s) {', '.join(map(str, excluded))} left out (< {rules.MIN_VALUES} replicate values)"
    if not steps:
        usable = [d.depth for d in depths if d.usable]
        sentence = (
            f"Cannot answer: {len(usable)} depth(s) with >= {rules.MIN_VALUES} replicate values, 2 needed{tail}."
        )
        return ReplicateComplexity("cannot answer", sentence, None, **common)
    n_text = f"{min(d.n for d in depths if d.usable)}+ seeds each"
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
    elif rules.LOSS in calls and all(c in (rules.NO_GAIN, rules.LOSS) for c in calls):
        verdict, head = "worse", "No, deeper is worse"
    elif all(c == rules.NO_GAIN for c in calls):
        verdict, head = rules.NO_GAIN, "No gain worth having from depth (every step below the smallest difference)"
    else:
        verdict, head = rules.NOT_SHOWN, "Not shown either way: a step is neither a clear gain, loss nor no-gain"
    open_steps = [s for s in steps if s.call == rules.NOT_SHOWN]
    if open_steps:
        needs = [s.seeds_to_decide for s in open_steps]
        tail += "; undecided: " + ", ".join(
            f"{s.shallower} to {s.deeper} needs about {n} seeds per depth at this estimate" if n else
            f"{s.shallower} to {s.deeper} needs more than 10,000 seeds" for s, n in zip(open_steps, needs, strict=True)
        )  # fmt: skip
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


def _below(i: Interval | None, bound: float) -> bool:
    return i is not None and i.defined and float(i.high) < bound  # type: ignore[arg-type]


def _above(i: Interval | None, bound: float) -> bool:
    return i is not None and i.defined and float(i.low) > bound  # type: ignore[arg-type]


def depth_epochs(d: DepthReplicates, plan: SeedPlan) -> DepthEpochs:
    curves = d.curves
    n, length = curves.shape
    bands = epoch_bands(curves)
    if n < rules.MIN_VALUES or length < 2:
        why = f"{n} curve(s) of {length} epoch(s); needs {rules.MIN_VALUES} curves of 2+ epochs"
        return DepthEpochs(d.depth, n, bands, None, None, None, None, "cannot answer", "cannot tell", None, None,
                           f"depth {d.depth}: cannot answer ({why})")  # fmt: skip
    family = rules.EPOCH_TESTS * plan.looks
    m = plan.min_effect

    def paired(a: int, b: int) -> Interval:  # epochs 1-based
        return paired_interval(curves[:, a - 1], curves[:, b - 1], family=family)

    last_gain = paired(length - 1, length)
    # Fixed sequence, backwards from E-1: epoch e joins the plateau while its gain to EVERY later epoch is below m
    # (an intersection-union test: each of those intervals at the family's level, no further adjustment).
    plateau = length
    for e in range(length - 1, 0, -1):
        if not all(_below(paired(e, later), m) for later in range(e + 1, length + 1)):
            break
        plateau = e
    up = paired(1, plateau) if plateau > 1 else None
    after = paired(plateau, length) if plateau < length else None
    if plateau == 1:
        verdict = rules.NO_GAIN
        text = f"no gain worth having after epoch 1 (1 to {length}: {interval_text(after)})"  # type: ignore[arg-type]
    elif plateau < length and _above(up, 0):
        verdict = "up to epoch k"
        text = (f"plateau at epoch {plateau} (1 to {plateau}: {interval_text(up)}), then "  # type: ignore[arg-type]
                f"{interval_text(after)} to epoch {length}"  # type: ignore[arg-type]
                + (" (worse: later epochs lose)" if _below(after, 0) else ""))  # fmt: skip
    elif plateau == length and _above(last_gain, 0):
        verdict = "yes"
        text = f"still gaining at its last epoch {length} ({length - 1} to {length}: {interval_text(last_gain)})"
    else:
        verdict = rules.NOT_SHOWN
        text = f"{length - 1} to {length}: {interval_text(last_gain)}"
        if plateau < length:
            text += f"; no gain worth having after epoch {plateau}, but 1 to {plateau}: {interval_text(up)}"  # type: ignore[arg-type]
    loss = d.val_loss
    overfit, m_epoch, rise = "cannot tell", None, None
    if not np.any(np.isnan(loss)):
        low = int(np.argmin(loss.mean(0)))
        m_epoch = low + 1
        if length - m_epoch >= rules.MIN_OVERFIT_AFTER:
            rise = paired_interval(loss[:, low], loss[:, -1])
            overfit = "yes" if _above(rise, 0) else "no"
    sentence = f"depth {d.depth} ({n} seeds, {length} epochs): {text}"
    return DepthEpochs(d.depth, n, bands, plateau, up, after, last_gain, verdict, overfit, m_epoch, rise, sentence)


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


def answer_epochs(depths: list[DepthReplicates], noise: SeedNoise, plan: SeedPlan) -> ReplicateEpochs:
    delta = plan.min_effect
    rows = [depth_epochs(d, plan) for d in depths]
    judged = [r for r in rows if r.verdict != "cannot answer"]
    overfit = _overfit_text(judged or rows)
    tail = f"; smallest difference worth having {pts(delta, sign=False)} point(s)"
    if not judged:
        sentence = f"Cannot answer: no depth has {rules.MIN_VALUES} replicate curves of 2+ epochs{tail}."
        return ReplicateEpochs("cannot answer", sentence, None, rows, overfit, delta)
    verdicts = {r.verdict for r in judged}
    detail = "; ".join(r.sentence for r in judged)
    k = None
    if verdicts == {"up to epoch k"}:
        k = max(r.plateau_epoch for r in judged)  # type: ignore[type-var]
        verdict, head = "up to epoch k", f"Up to epoch {k}, then no gain worth having"
    elif verdicts == {rules.NO_GAIN}:
        verdict, head = rules.NO_GAIN, "No gain worth having from epochs after the first"
    elif verdicts == {"yes"}:
        verdict, head = "yes", "Yes: every depth still gains at its last epoch"
    elif rules.NOT_SHOWN in verdicts:
        verdict, head = rules.NOT_SHOWN, "Not shown either way"
    else:
        verdict, head = "depends on depth", "Depends on depth"
    sentence = f"{head}: {detail}{tail}."
    return ReplicateEpochs(verdict, sentence, k, rows, overfit, delta)


def answer(depths: list[DepthReplicates], plan: SeedPlan) -> ReplicateAnswers:
    """Both replicate answers from the grouped replicates, with intervals for ``plan``'s looks and min effect."""
    noise = pooled_noise([d.values for d in depths])
    return ReplicateAnswers(noise, answer_complexity(depths, noise, plan), answer_epochs(depths, noise, plan), plan)
