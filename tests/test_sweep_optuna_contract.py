"""What the sweep relies on in Optuna, pinned: these fail loudly on an Optuna upgrade that changes any of it.

The sweep uses public API only (no ``Study._storage``, ``Trial._trial_id`` or sampler ``_rng``); the behaviour
below is what that public API must keep doing for the balanced design, the replicates and the heartbeat to hold.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from facesweep.sweep.samplers import TrialSeededTPE
from facesweep.sweep.scheduler import trial_id as _trial_id
from facesweep.sweep.storage import Heartbeat, default_storage_url, fail_stale, open_storage

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


def hyperband_max_resource(pruner: optuna.pruners.HyperbandPruner) -> int:
    """The one private read in the suite, pinned here: Optuna has no public getter for Hyperband's max_resource
    (the sweep passes it in, never reads it back); this fails loudly if an upgrade renames it."""
    value = getattr(pruner, "_max_resource", None)
    assert isinstance(value, int), "optuna.pruners.HyperbandPruner no longer keeps _max_resource: update this helper"
    return value


def test_optuna_major_version_is_the_one_pinned_here() -> None:
    # Read the notes of a new major version against this file's tests before raising the bound.
    assert optuna.__version__.split(".")[0] in ("4", "5"), optuna.__version__


def test_ask_pops_the_queue_first_in_order_with_params_and_user_attrs() -> None:
    study = optuna.create_study(direction="maximize", sampler=TrialSeededTPE(0))
    for depth in (3, 1, 2):
        study.enqueue_trial({"depth": depth}, user_attrs={"role": "search", "assigned_depth": depth},
                            skip_if_exists=False)  # fmt: skip
    study.enqueue_trial({"depth": 3}, user_attrs={"role": "search", "assigned_depth": 3}, skip_if_exists=False)
    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert [t.user_attrs["assigned_depth"] for t in waiting] == [3, 1, 2, 3] and waiting[0].params == {}
    got = []
    for _ in range(4):
        trial = study.ask()
        depth = trial.suggest_int("depth", 1, 4)  # the queued value wins over the sampler
        lr = trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)  # the sampler still picks the rest
        got.append((depth, trial.user_attrs["role"], trial.user_attrs["assigned_depth"]))
        study.tell(trial, lr)
    assert got == [(3, "search", 3), (1, "search", 1), (2, "search", 2), (3, "search", 3)]
    fresh = study.ask()  # queue empty: a new trial, no user attributes
    assert fresh.user_attrs == {} and fresh.number == 4


def test_a_fully_fixed_queued_trial_takes_every_param_from_the_queue() -> None:
    study = optuna.create_study(direction="maximize", sampler=TrialSeededTPE(0))
    params = {"depth": 2, "epochs": 7, "learning_rate": 0.003, "augment": True}
    study.enqueue_trial(params, user_attrs={"role": "replicate", "replicate_of": 0, "replicate_seed": 1})
    trial = study.ask()
    got = {"depth": trial.suggest_int("depth", 1, 4), "epochs": trial.suggest_int("epochs", 2, 10),
           "learning_rate": trial.suggest_float("learning_rate", 5e-4, 5e-3, log=True),
           "augment": trial.suggest_categorical("augment", [False, True])}  # fmt: skip
    assert got == params == trial.params


def test_trial_seeded_tpe_draws_from_seed_and_trial_number() -> None:
    def draws(seed: int, n: int = 4) -> list[float]:
        study = optuna.create_study(sampler=TrialSeededTPE(seed))
        out = []
        for _ in range(n):
            trial = study.ask()
            out.append(trial.suggest_float("x", 0, 1))
            study.tell(trial, out[-1])
        return out

    assert draws(0) == draws(0)  # before_trial sees the trial number before anything is sampled
    assert draws(0) != draws(1)
    assert len(set(draws(0))) == 4


def test_storage_finds_a_trial_id_and_a_beat_keeps_it_alive(tmp_path: Path) -> None:
    storage = open_storage(default_storage_url(tmp_path), heartbeat=1)
    study = optuna.create_study(storage=storage, study_name="pin")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Heartbeat of storage")
        alive, dead = study.ask(), study.ask()
    with Heartbeat(storage, _trial_id(storage, study, alive)):
        storage.record_heartbeat(_trial_id(storage, study, dead))  # one beat, then silence
        time.sleep(4.5)  # the grace period (3 x 1 s) + 1 s: SQLite stores heartbeats to the whole second
        fail_stale(study)
        states = {t.number: t.state for t in study.get_trials()}
    assert states == {alive.number: TrialState.RUNNING, dead.number: TrialState.FAIL}
