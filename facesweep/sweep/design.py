"""The study design: which depth each search trial trains, which configurations are replicated, what is surplus.

Pure functions of the trials in storage (any ``FrozenTrial``-like objects), so every worker of a shared study
reaches the same decisions from the same rows, and a resumed study picks up where storage says it stands.

- ``balanced`` (default): ``--trials N`` finished search trials are shared out over the depths of the space,
  ``N // D`` each and one more for ``N % D`` depths picked by the seed (``depth_quotas``). When no search trial
  waits in the queue, a worker enqueues one *round*: one trial per depth still short of its quota, in a seeded
  shuffled order (``next_round``), via ``study.enqueue_trial({"depth": d})``; TPE tunes every other parameter.
  A trial is *finished* when it is complete or pruned (``FINISHED``; a pruned trial's verdict -- "worse than its
  depth's median" -- is a result too, as in Optuna's own ``n_trials``). A depth is short when its finished +
  running + waiting search trials are below its quota, so only a failed trial is re-queued. Since nothing is
  pruned before a depth has ``MIN_COMPLETE_PER_DEPTH`` complete trials, every depth whose quota reaches that
  many ends with at least that many complete trials. (Re-queueing pruned trials until each depth had its quota
  of *complete* ones made the default study run 77 trials for 26 complete: on the synthetic set many trials
  stay near chance, and the median pruner prunes about half of them.)
- ``tpe``: the sampler picks the depth too (the behaviour before designs): best for "just give me the best model".
- Replicates: once the search is complete, the best complete search trial of each depth is re-trained with seeds
  ``seed + 1 .. seed + K`` (``replicate_slots``), all its parameters fixed, without pruning or early stopping.
- ``surplus_reason``: two workers can pass the same check at once; after ``ask`` the later trial (the higher
  number) gives way and is told FAIL with ``error = "surplus: ..."``.

Pruning in the balanced design (``DepthMedianPruner``): a trial is compared only with search trials of its own
depth, and not at all until its depth has ``MIN_COMPLETE_PER_DEPTH`` complete search trials. Hyperband compares
across depths, so it would prune the shallow depths' trials again and again and they would never fill.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from facesweep.model.config import Config
from facesweep.sweep import schema
from facesweep.sweep.schema import SURPLUS
from facesweep.sweep.space import SearchSpace

MIN_COMPLETE_PER_DEPTH = 5  # complete search trials per depth before any of that depth's trials may be pruned
MAX_REPLICATE_ATTEMPTS = 3  # failed attempts after which a replicate slot is given up (e.g. it diverges)

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)  # search trials that count towards --trials and the quotas
ACTIVE = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)  # replicate slots taken
CLAIMED = (*FINISHED, TrialState.RUNNING, TrialState.WAITING)  # search places taken


@dataclass(frozen=True)
class Plan:
    """What a study wants in storage; the same in every worker."""

    design: str  # "balanced" | "tpe"
    target: int  # finished (complete or pruned) search trials wanted
    depths: tuple[int, ...]  # depth values of the space, shallowest first
    replicates: int = 0  # K seeds per depth's best configuration
    seed: int = 0
    quotas: dict[int, int] = field(default_factory=dict)  # balanced only: finished search trials per depth

    @classmethod
    def make(cls, design: str, target: int, depths: Sequence[int], replicates: int = 0, seed: int = 0) -> Plan:
        depths = tuple(sorted(set(int(d) for d in depths)))
        quotas = depth_quotas(target, depths, seed) if design == schema.DESIGN_BALANCED else {}
        return cls(design, target, depths, replicates, seed, quotas)

    @property
    def balanced(self) -> bool:
        return self.design == schema.DESIGN_BALANCED


def depth_values(space: SearchSpace, base: Config) -> tuple[int, ...]:
    """Every depth a trial of ``space`` can have, shallowest first."""
    if "depth" not in space:
        return (base.depth,)
    param = space["depth"]
    if param.kind == "int":
        return tuple(range(int(param.low), int(param.high) + 1, int(param.step or 1)))
    if param.kind == "categorical":
        return tuple(sorted(int(c) for c in param.choices))
    return (int(param.value),)


def depth_quotas(target: int, depths: Sequence[int], seed: int) -> dict[int, int]:
    """``target`` shared out over ``depths``: ``target // D`` each, one more for ``target % D`` seeded depths."""
    base, extra = divmod(target, len(depths))
    lucky = set(np.random.default_rng([seed, 12]).permutation(list(depths))[:extra].tolist())
    return {d: base + (d in lucky) for d in depths}


def _state_counts(trials: Sequence[Any], depth: int, states: tuple[TrialState, ...]) -> int:
    return sum(1 for t in trials if t.state in states and schema.trial_depth(t) == depth)


def finished_search(trials: Sequence[Any]) -> int:
    """Search trials that count towards ``--trials``: complete or pruned (replicates and failures do not)."""
    return sum(1 for t in schema.search_trials(trials) if t.state in FINISHED)


def next_round(trials: Sequence[Any], plan: Plan) -> list[int]:
    """Depths to enqueue now (one trial each, shuffled): those whose finished + running + waiting search trials
    fall short of their quota. The order is seeded by how many depths were enqueued before, so it repeats."""
    search = schema.search_trials(trials)
    short = [d for d in plan.depths if _state_counts(search, d, CLAIMED) < plan.quotas.get(d, 0)]
    enqueued = sum(1 for t in search if schema.ASSIGNED_DEPTH in t.user_attrs)
    order = np.random.default_rng([plan.seed, 7, enqueued]).permutation(len(short))
    return [short[i] for i in order]


def search_user_attrs(depth: int) -> dict[str, Any]:
    return {schema.ROLE: schema.ROLE_SEARCH, schema.ASSIGNED_DEPTH: int(depth)}


def best_by_depth(trials: Sequence[Any], depths: Sequence[int]) -> dict[int, Any]:
    """The best complete search trial at each depth (ties: the earlier trial); depths with none are left out."""
    best: dict[int, Any] = {}
    for trial in schema.search_trials(trials):
        if trial.state != TrialState.COMPLETE or trial.value is None:
            continue
        depth = schema.trial_depth(trial)
        if depth not in depths:
            continue
        held = best.get(depth)
        if held is None or (trial.value, -trial.number) > (held.value, -held.number):
            best[depth] = trial
    return best


@dataclass(frozen=True)
class ReplicateSlot:
    source: Any  # the search trial re-trained
    seed: int
    depth: int

    def params(self) -> dict[str, Any]:
        return dict(self.source.params)

    def user_attrs(self) -> dict[str, Any]:
        return {schema.ROLE: schema.ROLE_REPLICATE, schema.REPLICATE_OF: int(self.source.number),
                schema.REPLICATE_SEED: int(self.seed), schema.ASSIGNED_DEPTH: int(self.depth)}  # fmt: skip


def replicate_seeds(plan: Plan) -> list[int]:
    return [plan.seed + 1 + j for j in range(plan.replicates)]


def _slot_of(trial: Any) -> tuple[int | None, int | None]:
    return schema.replicate_source(trial), schema.replicate_seed(trial)


def replicate_slots(trials: Sequence[Any], plan: Plan) -> list[ReplicateSlot]:
    """Replicates still to enqueue: for each depth's best search trial, the seeds with no complete, running or
    waiting replicate (and fewer than ``MAX_REPLICATE_ATTEMPTS`` genuine failures), shallowest depth first."""
    if plan.replicates <= 0:
        return []
    replicates = schema.replicate_trials(trials)
    missing = []
    for depth, source in sorted(best_by_depth(trials, plan.depths).items()):
        for seed in replicate_seeds(plan):
            mine = [t for t in replicates if _slot_of(t) == (source.number, seed)]
            if any(t.state in ACTIVE for t in mine):
                continue
            failed = [t for t in mine if t.state == TrialState.FAIL and not schema.is_surplus(t)]
            if len(failed) < MAX_REPLICATE_ATTEMPTS:
                missing.append(ReplicateSlot(source, seed, depth))
    return missing


def _ahead(trial: Any, others: Sequence[Any]) -> list[Any]:
    """Trials that claimed their place before ``trial``: finished ones, and running ones with a lower number."""
    return [
        t for t in others
        if t.number != trial.number and (t.state in FINISHED
                                         or (t.state == TrialState.RUNNING and t.number < trial.number))
    ]  # fmt: skip


def surplus_reason(trial: Any, trials: Sequence[Any], plan: Plan) -> str | None:
    """Why a just-asked trial is not needed (another worker got there first), or None when it is."""
    if schema.is_replicate(trial):
        source, seed = _slot_of(trial)
        twins = [t for t in schema.replicate_trials(trials) if _slot_of(t) == (source, seed)]
        if _ahead(trial, twins):
            return f"{SURPLUS}: replicate of trial {source} with seed {seed} already run by another worker"
        return None
    if schema.ROLE not in trial.user_attrs and plan.balanced:
        return f"{SURPLUS}: no depth left in the queue (another worker took it)"
    search = schema.search_trials(trials)
    if len(_ahead(trial, search)) >= plan.target:
        return f"{SURPLUS}: the search has its {plan.target} trials"
    depth = trial.user_attrs.get(schema.ASSIGNED_DEPTH)
    if plan.balanced and depth is not None:
        same = [t for t in search if schema.trial_depth(t) == int(depth)]
        if len(_ahead(trial, same)) >= plan.quotas.get(int(depth), 0):
            return f"{SURPLUS}: depth {depth} has its {plan.quotas.get(int(depth), 0)} trials"
    return None


# -- pruning ----------------------------------------------------------------------------------------------------


class DepthMedianPruner(optuna.pruners.BasePruner):
    """Prune a search trial whose metric at epoch e is below the median, at e, of its own depth's search trials.

    No trial is pruned before epoch ``warmup + 1`` nor while its depth has fewer than ``min_complete`` complete
    search trials, so the balanced design's first trials at every depth run to the end; replicates never are.
    The study maximizes.
    """

    def __init__(self, min_complete: int = MIN_COMPLETE_PER_DEPTH, warmup: int = 1, min_peers: int = 3) -> None:
        self.min_complete, self.warmup, self.min_peers = min_complete, warmup, min_peers

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or step <= self.warmup or schema.is_replicate(trial):
            return False
        depth = schema.trial_depth(trial)
        peers = [
            t for t in schema.search_trials(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,
                                                                                     TrialState.PRUNED)))
            if schema.trial_depth(t) == depth and t.number != trial.number
        ]  # fmt: skip
        if sum(1 for t in peers if t.state == TrialState.COMPLETE) < self.min_complete:
            return False
        values = [t.intermediate_values[step] for t in peers if step in t.intermediate_values]
        if len(values) < self.min_peers:
            return False
        return trial.intermediate_values[step] < statistics.median(values)
