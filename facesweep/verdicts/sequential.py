"""Seeds until decided: how many seed replicates each depth gets, round by round, and why the intervals stay valid.

    plan = SeedPlan()                                   # 3 seeds, then +2 a round, at most 11 per depth
    targets = next_targets(answers, current, plan)      # {depth: seeds wanted}; == current when the study is done

The study (``sweep.design``) and the simulation that calibrates the rules (``simulate_study``) both call
``next_targets`` on the answers of ``verdicts.replicates.answer``, so the stopping that is calibrated is the
stopping that runs.

Why Bonferroni over looks (alpha spending by the union bound) and not a confidence sequence: the seed values are a
handful of bounded, roughly normal numbers per depth, compared through Welch t intervals; a study reads
them at most ``plan.looks`` times (known before it starts). Splitting the 5% error over the planned looks keeps
P(any reported interval misses at any look) <= 5% whatever the stopping rule, needs no assumption beyond each
look's t interval, and costs little at this scale (11 seeds: t quantile 3.1 instead of 2.6 for 3 steps). Normal-
mixture confidence sequences need a known variance bound; O'Brien-Fleming boundaries need equal increments at
every depth, which the study does not have (only undecided depths get seeds). ``simulate_study`` checks the
error rate with the stopping included.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from facesweep.verdicts import rules

if TYPE_CHECKING:
    from facesweep.verdicts.replicates import DepthReplicates, ReplicateAnswers, Step

DEFAULT_START = 3  # seeds per depth before the first look
DEFAULT_STEP = 2  # seeds added per round to each depth still in an undecided comparison
DEFAULT_MAX_SEEDS = 11  # seeds per depth at most (--max-seeds)


@dataclass(frozen=True)
class SeedPlan:
    """How the study spends seeds, and so how the report reads them (looks and the smallest worthwhile effect)."""

    start: int = DEFAULT_START  # seeds per depth in the first round
    step: int = DEFAULT_STEP  # seeds a round adds to an undecided depth; 0 = a fixed design (one look)
    max_seeds: int = DEFAULT_MAX_SEEDS  # seeds per depth at most
    min_effect: float = rules.MIN_EFFECT  # metric units: the smallest difference worth having

    @classmethod
    def fixed(cls, seeds: int, min_effect: float = rules.MIN_EFFECT) -> SeedPlan:
        """``--replicates K``: K seeds per depth, read once."""
        return cls(start=seeds, step=0, max_seeds=seeds, min_effect=min_effect)

    @property
    def sequential(self) -> bool:
        return self.step > 0 and self.max_seeds > self.start

    @property
    def looks(self) -> int:
        """Planned reads of the data: the first round, then one per added round up to ``max_seeds``."""
        if not self.sequential:
            return 1
        return 1 + math.ceil((self.max_seeds - self.start) / self.step)

    def to_dict(self) -> dict[str, float | int]:
        return {"start": self.start, "step": self.step, "max_seeds": self.max_seeds, "min_effect": self.min_effect,
                "looks": self.looks}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, float | int] | None, replicates: int | None = None) -> SeedPlan:
        """Read a study's stored plan; a study from before plans existed was a fixed design of ``replicates``."""
        if not data:
            return cls.fixed(int(replicates or DEFAULT_START))
        return cls(start=int(data["start"]), step=int(data["step"]), max_seeds=int(data["max_seeds"]),
                   min_effect=float(data.get("min_effect", rules.MIN_EFFECT)))  # fmt: skip


def out_of_reach(step: Step, plan: SeedPlan) -> bool:
    """An open depth step that more seeds would not decide: at its estimate and its two depths' seed noise it needs more
    than ``rules.OUT_OF_REACH`` x ``plan.max_seeds`` seeds per depth (None: over 10,000). Typically a near-tie read
    against a small ``--min-effect``; its seeds would cost time and leave it open."""
    if step.call != rules.NOT_SHOWN:
        return False
    need = step.seeds_to_decide
    return need is None or need > rules.OUT_OF_REACH * plan.max_seeds


def undecided_depths(answers: ReplicateAnswers, level: int | None = None) -> set[int]:
    """Depths whose seeds could still change an open answer: each depth whose epoch verdict is open, and while the
    depth verdict is undecided, the depths of its open steps (and those with too few values to enter one). A
    decided answer asks for nothing ('yes' needs only its deepest step: an open middle step cannot change it), and
    a step out of reach of the plan's seeds (``out_of_reach``) asks for none.

    An open step's seeds go where they shrink its interval (Neyman allocation: seeds in proportion to seed SD):
    the noisier depth always; the quieter one too unless it already holds its share at ``level`` (the seeds the
    noisier will have after this round): n_quiet / level >= sd_quiet / sd_noisy. With equal noise both get seeds;
    a depth four times quieter than its neighbour keeps its seeds while the neighbour catches up."""
    want: set[int] = set()
    by_depth = {d.depth: d for d in answers.complexity.depths}
    if answers.complexity.verdict in rules.UNDECIDED:
        for s in answers.complexity.steps:
            if s.call == rules.NOT_SHOWN and not out_of_reach(s, answers.plan):
                want |= _open_step_depths(by_depth[s.shallower], by_depth[s.deeper], level)
        want |= set(answers.complexity.excluded)
    for row in answers.epochs.depths:
        if row.verdict in (rules.NOT_SHOWN, "cannot answer"):
            want.add(row.depth)
    return want


def _open_step_depths(a: DepthReplicates, b: DepthReplicates, level: int | None) -> set[int]:
    sd_a, sd_b = a.sd, b.sd
    noisy, quiet = (a, b) if sd_a >= sd_b else (b, a)
    sd_noisy, sd_quiet = max(sd_a, sd_b), min(sd_a, sd_b)
    if level is None or sd_noisy <= 0 or quiet.n * sd_noisy < level * sd_quiet:
        return {noisy.depth, quiet.depth}
    return {noisy.depth}


def next_targets(answers: ReplicateAnswers | None, current: Mapping[int, int], plan: SeedPlan) -> dict[int, int]:
    """Seeds wanted per depth after reading ``answers`` (None: nothing read yet) with ``current`` seeds planned.

    Depths not yet at ``plan.start`` get it. In a sequential plan a round lifts every undecided depth to the same
    level, ``plan.step`` above the most seeds any depth has (capped at ``plan.max_seeds``), so each round raises
    the frontier and the data are read at most ``plan.looks`` times -- the count the intervals are spent over.
    Equal to ``current`` (after the start) when nothing more is wanted: the study is done.
    """
    targets = {d: max(n, plan.start) for d, n in current.items()}
    if answers is None or not plan.sequential or targets != dict(current) or not targets:
        return targets
    frontier = max(targets.values())
    if frontier >= plan.max_seeds:
        return targets
    level = min(plan.max_seeds, frontier + plan.step)
    for depth in undecided_depths(answers, level):
        if depth in targets:
            targets[depth] = level
    return targets


# -- simulation: the calibration of the rules, stopping included ------------------------------------------------


@dataclass(frozen=True)
class SimulatedStudy:
    complexity: str  # the final verdicts
    epochs: str
    seeds: dict[int, int]  # seeds per depth used
    looks: int  # rounds read


def curve_shape(epochs: int) -> np.ndarray:
    """A rising learning curve that flattens (metric units, 0 at the last epoch): what the simulation draws."""
    t = np.arange(1, epochs + 1)
    return -0.2 * np.exp(-t / 1.5) + 0.2 * np.exp(-epochs / 1.5)


def simulate_study(rng: np.random.Generator, means: list[float], noise_sd: float, plan: SeedPlan, *,
                   epochs: int = 8, shape: np.ndarray | None = None,
                   answer_fn: Callable | None = None) -> SimulatedStudy:  # fmt: skip
    """One designed study with normal seed noise: draw the start seeds, read the answers, add the rounds
    ``next_targets`` asks for, until it asks for nothing more. Depths are 1..len(means)."""
    from facesweep.verdicts.replicates import Replicate, answer, group_replicates

    answer_fn = answer_fn or answer
    shape = curve_shape(epochs) if shape is None else shape
    depths = list(range(1, len(means) + 1))
    rows: list[Replicate] = []
    drawn = {d: 0 for d in depths}
    targets = next_targets(None, drawn, plan)
    looks = 0
    while True:
        for i, d in enumerate(depths):
            for _ in range(targets[d] - drawn[d]):
                offset = rng.normal(0, noise_sd)
                jitter = rng.normal(0, noise_sd / 4, epochs)
                curve = means[i] + offset + shape + jitter
                rows.append(Replicate(len(rows), d, 100 + i, drawn[d] + 1, curve.tolist(), (1.5 - curve).tolist()))
                drawn[d] += 1
        looks += 1
        answers = answer_fn(group_replicates(rows), plan)
        new = next_targets(answers, drawn, plan)
        if new == drawn:
            return SimulatedStudy(answers.complexity.verdict, answers.epochs.verdict, dict(drawn), looks)
        targets = new
