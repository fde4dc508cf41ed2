"""The stored shape of a facesweep study: every trial and study user-attribute key, in one place.

The sweep (``sweep/study.py``) writes these keys and the report (``report/``) reads them; both import them from
here, so a key cannot drift between writer and reader. Names here are stable: old studies stay readable, which is
why every accessor gives the default an older study implies when a key is missing.

Trial user attributes (every trial: complete, pruned or failed)::

    curve            {CURVE_KEYS[i]: [float per epoch run]}
    param_count      int, trainable parameters
    compile_seconds  float
    train_seconds    float, epochs only
    config           Config.to_dict() of the network actually trained (a replicate's seed and patience included)
    best_epoch       int, 1-based (0 when no epoch ran)
    stopped_early    bool
    artifact         str, the model folder (kept models only; retention may delete it later)
    error            str, why a failed trial failed ("surplus: ..." for a trial another worker made unnecessary:
                     it never trained; ``is_surplus``)
    role             "search" | "replicate"; missing on trials of studies made before designs -> "search"
    assigned_depth   int, the depth a trial was enqueued with (balanced search trials and replicates)
    replicate_of     int, the search trial number whose configuration a replicate re-trains (replicates only)
    replicate_seed   int, Config.seed of the replicate (replicates only)

Study user attributes::

    task, metric, data, data_source, facesweep_version, space   (as before)
    design           "balanced" | "tpe"; missing on older studies -> "tpe"
    replicates       int K, replicates wanted per depth at the start (the first round); missing -> 0
    seed_plan        {"start", "step", "max_seeds", "min_effect", "looks"}: how seeds are spent until the verdicts
                     are decided (``verdicts.sequential.SeedPlan``); missing -> a fixed design of ``replicates``
    depths           [int], the depth values of the search space, shallowest first

A search trial's depth is ``params["depth"]`` once it ran (``assigned_depth`` while it waits in the queue); a
replicate's parameters are its source trial's, all fixed, and its ``config`` says what it trained.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from facesweep.verdicts.sequential import SeedPlan

# -- trial user attributes -------------------------------------------------------------------------------------
CURVE = "curve"
PARAM_COUNT = "param_count"
COMPILE_SECONDS = "compile_seconds"
TRAIN_SECONDS = "train_seconds"
CONFIG = "config"
BEST_EPOCH = "best_epoch"
STOPPED_EARLY = "stopped_early"
ARTIFACT = "artifact"
ERROR = "error"
ROLE = "role"
ASSIGNED_DEPTH = "assigned_depth"
REPLICATE_OF = "replicate_of"
REPLICATE_SEED = "replicate_seed"

TRIAL_ATTRS = (CURVE, PARAM_COUNT, COMPILE_SECONDS, TRAIN_SECONDS, CONFIG, BEST_EPOCH, STOPPED_EARLY)  # always set
CURVE_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_macro_f1", "epoch_seconds")

SURPLUS = "surplus"  # ``error`` prefix of a trial another worker made unnecessary (it never trained)

ROLE_SEARCH = "search"
ROLE_REPLICATE = "replicate"
ROLES = (ROLE_SEARCH, ROLE_REPLICATE)

# -- study user attributes -------------------------------------------------------------------------------------
TASK = "task"
METRIC = "metric"
DATA = "data"
DATA_SOURCE = "data_source"
FACESWEEP_VERSION = "facesweep_version"
SPACE = "space"
DESIGN = "design"
REPLICATES = "replicates"
DEPTHS = "depths"
SEED_PLAN = "seed_plan"
REPLICATE_EPOCHS = "replicate_epochs"  # epochs every replicate trains (the space's most); absent = as searched

DESIGN_BALANCED = "balanced"
DESIGN_TPE = "tpe"
DESIGNS = (DESIGN_BALANCED, DESIGN_TPE)


class HasAttrs(Protocol):
    """An Optuna ``FrozenTrial``/``Trial`` or anything else with ``number``, ``params`` and ``user_attrs``."""

    number: int

    @property
    def params(self) -> dict[str, Any]: ...

    @property
    def user_attrs(self) -> dict[str, Any]: ...


# -- trial accessors -------------------------------------------------------------------------------------------
def role_of(attrs: Mapping[str, Any]) -> str:
    """``"search"`` or ``"replicate"`` from a trial's user attributes (older trials have no role: search)."""
    role = attrs.get(ROLE, ROLE_SEARCH)
    return role if role in ROLES else ROLE_SEARCH


def is_replicate(trial: HasAttrs) -> bool:
    return role_of(trial.user_attrs) == ROLE_REPLICATE


def is_surplus(trial: HasAttrs) -> bool:
    """A FAIL trial that never trained: two workers raced for the same place and this one gave way."""
    return str(trial.user_attrs.get(ERROR, "")).startswith(SURPLUS)


def trial_depth(trial: HasAttrs) -> int | None:
    """The trial's depth: its parameter once it ran, else the depth it was enqueued with, else its config's."""
    value = trial.params.get("depth")
    if value is None:
        value = trial.user_attrs.get(ASSIGNED_DEPTH)
    if value is None:
        value = (trial.user_attrs.get(CONFIG) or {}).get("depth")
    return None if value is None else int(value)


def search_trials(trials: Iterable[HasAttrs]) -> list[Any]:
    """The trials the search ran (every state), replicates left out."""
    return [t for t in trials if not is_replicate(t)]


def replicate_trials(trials: Iterable[HasAttrs]) -> list[Any]:
    return [t for t in trials if is_replicate(t)]


def replicate_source(trial: HasAttrs) -> int | None:
    value = trial.user_attrs.get(REPLICATE_OF)
    return None if value is None else int(value)


def replicate_seed(trial: HasAttrs) -> int | None:
    value = trial.user_attrs.get(REPLICATE_SEED)
    return None if value is None else int(value)


def replicate_groups(trials: Iterable[HasAttrs]) -> dict[int, list[Any]]:
    """Replicates (every state) by the search trial number they re-train, each group in trial-number order."""
    groups: dict[int, list[Any]] = {}
    for trial in sorted(replicate_trials(trials), key=lambda t: t.number):
        source = replicate_source(trial)
        if source is not None:
            groups.setdefault(source, []).append(trial)
    return groups


# -- study accessors -------------------------------------------------------------------------------------------
def study_design(attrs: Mapping[str, Any]) -> str:
    """The study's design (``"tpe"`` for studies made before designs existed)."""
    design = attrs.get(DESIGN, DESIGN_TPE)
    return design if design in DESIGNS else DESIGN_TPE


def study_replicates(attrs: Mapping[str, Any]) -> int:
    return int(attrs.get(REPLICATES) or 0)


def study_seed_plan(attrs: Mapping[str, Any]) -> SeedPlan:
    """How the study spends seeds (``verdicts.sequential.SeedPlan``); a study from before plans: fixed K."""
    return SeedPlan.from_dict(attrs.get(SEED_PLAN), study_replicates(attrs))


def study_replicate_epochs(attrs: Mapping[str, Any]) -> int | None:
    """Epochs every replicate of the study trains; None (studies from before) = each source trial's own."""
    epochs = attrs.get(REPLICATE_EPOCHS)
    return None if epochs is None else int(epochs)


def study_depths(attrs: Mapping[str, Any]) -> list[int] | None:
    depths = attrs.get(DEPTHS)
    return None if depths is None else [int(d) for d in depths]
