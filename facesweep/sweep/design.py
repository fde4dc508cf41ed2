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
  ``seed + 1 .. seed + T_d`` (``replicate_slots``), all its parameters fixed, without pruning or early stopping,
  for the space's largest epoch count (``Plan.replicate_epochs``): every depth then runs the same schedule, so
  depths compared at an epoch are compared at the same point of the same cosine schedule (a depth whose best
  search trial ran 8 epochs, read against another's 10-epoch run at epoch 8, would be read at its end against
  the other's middle), and every curve shows every epoch the epochs question asks about.
  ``T_d`` comes from the study's ``SeedPlan`` (``replicate_targets``): the start seeds for every depth, then --
  in the sequential plan, the default -- rounds of more seeds for the depths whose step or epoch verdict is still
  undecided, read from the complete replicates with the report's own code (``verdicts``), until every verdict is
  decided or ``max_seeds``. A round is decided only when no replicate is running or waiting, so every worker of
  a shared study reads the same complete rows and enqueues the same slots.
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
from facesweep.verdicts.replicates import Replicate, ReplicateAnswers, answer, group_replicates
from facesweep.verdicts.sequential import SeedPlan, next_targets

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
    seeds: SeedPlan | None = None  # how each depth's best configuration is replicated; None = no replicates
    seed: int = 0
    quotas: dict[int, int] = field(default_factory=dict)  # balanced only: finished search trials per depth
    metric: str = "val_accuracy"  # what the verdicts read
    replicate_epochs: int | None = None  # epochs every replicate trains (the study's attribute, read after the
    #                                      study is claimed); None = each source trial's own

    @classmethod
    def make(cls, design: str, target: int, depths: Sequence[int], seeds: SeedPlan | None = None, seed: int = 0,
             metric: str = "val_accuracy") -> Plan:  # fmt: skip
        depths = tuple(sorted(set(int(d) for d in depths)))
        quotas = depth_quotas(target, depths, seed) if design == schema.DESIGN_BALANCED else {}
        return cls(design, target, depths, seeds, seed, quotas, metric)

    @property
    def balanced(self) -> bool:
        return self.design == schema.DESIGN_BALANCED

    @property
    def replicates(self) -> int:
        """Seeds per depth in the first round (0: no replicates)."""
        return self.seeds.start if self.seeds is not None else 0


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
    epochs: int | None = None  # the plan's replicate epochs; None = the source trial's own

    def params(self) -> dict[str, Any]:
        params = dict(self.source.params)
        if self.epochs is not None and "epochs" in params:
            params["epochs"] = int(self.epochs)
        return params

    def user_attrs(self) -> dict[str, Any]:
        return {schema.ROLE: schema.ROLE_REPLICATE, schema.REPLICATE_OF: int(self.source.number),
                schema.REPLICATE_SEED: int(self.seed), schema.ASSIGNED_DEPTH: int(self.depth)}  # fmt: skip


def replicate_seeds(plan: Plan, count: int) -> list[int]:
    """The seeds of a depth's first ``count`` replicates: ``seed + 1 .. seed + count``."""
    return [plan.seed + 1 + j for j in range(count)]


def _slot_of(trial: Any) -> tuple[int | None, int | None]:
    return schema.replicate_source(trial), schema.replicate_seed(trial)


def replicate_rows(trials: Sequence[Any], metric: str) -> list[Replicate]:
    """The complete replicates as the verdicts read them (the report builds the same rows from its records)."""
    rows = []
    for t in schema.replicate_trials(trials):
        if t.state != TrialState.COMPLETE or schema.trial_depth(t) is None:
            continue
        curve = t.user_attrs.get(schema.CURVE) or {}
        source = schema.replicate_source(t)
        rows.append(Replicate(t.number, int(schema.trial_depth(t)), -1 if source is None else int(source),
                              schema.replicate_seed(t), list(curve.get(metric) or []),
                              list(curve.get("val_loss") or [])))  # fmt: skip
    return rows


def replicate_answers(trials: Sequence[Any], plan: Plan) -> ReplicateAnswers | None:
    """The verdicts on the complete replicates of each depth's best configuration, as the report will read them."""
    if plan.seeds is None:
        return None
    sources = {t.number for t in best_by_depth(trials, plan.depths).values()}
    rows = [r for r in replicate_rows(trials, plan.metric) if r.source in sources]
    return answer(group_replicates(rows), plan.seeds) if rows else None


def replicate_targets(trials: Sequence[Any], plan: Plan) -> dict[int, int]:
    """Seeds wanted per depth (``depth -> T``): the seeds already planned while a round runs; after a round, what
    ``verdicts.sequential.next_targets`` asks for on the complete replicates (the same when all is decided)."""
    if plan.seeds is None:
        return {}
    best = best_by_depth(trials, plan.depths)
    replicates = schema.replicate_trials(trials)
    current = {}
    for depth, source in best.items():
        seeds = [s for (src, s) in map(_slot_of, replicates) if src == source.number and s is not None]
        current[depth] = max((s - plan.seed for s in seeds), default=0)
    if any(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in replicates) or any(
        n < plan.seeds.start for n in current.values()
    ):
        return next_targets(None, current, plan.seeds)
    return next_targets(replicate_answers(trials, plan), current, plan.seeds)


def replicate_slots(trials: Sequence[Any], plan: Plan) -> list[ReplicateSlot]:
    """Replicates still to enqueue: for each depth's best search trial, the seeds up to its target with no
    complete, running or waiting replicate (and fewer than ``MAX_REPLICATE_ATTEMPTS`` genuine failures),
    shallowest depth first."""
    if plan.replicates <= 0:
        return []
    targets = replicate_targets(trials, plan)
    replicates = schema.replicate_trials(trials)
    missing = []
    for depth, source in sorted(best_by_depth(trials, plan.depths).items()):
        for seed in replicate_seeds(plan, targets.get(depth, 0)):
            mine = [t for t in replicates if _slot_of(t) == (source.number, seed)]
            if any(t.state in ACTIVE for t in mine):
                continue
            failed = [t for t in mine if t.state == TrialState.FAIL and not schema.is_surplus(t)]
            if len(failed) < MAX_REPLICATE_ATTEMPTS:
                missing.append(ReplicateSlot(source, seed, depth, plan.replicate_epochs))
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
