"""The stored-attribute schema: accessors on Optuna trials, defaults for studies made before designs."""

from __future__ import annotations

import optuna

from facesweep.sweep import schema


def test_accessors_on_optuna_trials() -> None:
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial({"depth": 2}, user_attrs={schema.ROLE: schema.ROLE_SEARCH, schema.ASSIGNED_DEPTH: 2})
    study.enqueue_trial({"depth": 2}, user_attrs={schema.ROLE: schema.ROLE_REPLICATE, schema.REPLICATE_OF: 0,
                                                 schema.REPLICATE_SEED: 7})  # fmt: skip
    waiting = study.get_trials()
    assert [schema.trial_depth(t) for t in waiting] == [2, None]  # a waiting replicate names no depth yet
    for _ in range(2):
        trial = study.ask()
        trial.suggest_int("depth", 1, 4)
        study.tell(trial, 0.5)
    old = study.ask()  # a trial of a study made before roles existed
    old.suggest_int("depth", 1, 4)
    study.tell(old, 0.4)
    trials = study.get_trials()
    assert [schema.is_replicate(t) for t in trials] == [False, True, False]
    assert [t.number for t in schema.search_trials(trials)] == [0, 2]
    groups = schema.replicate_groups(trials)
    assert list(groups) == [0] and [t.number for t in groups[0]] == [1]
    assert schema.replicate_seed(trials[1]) == 7 and schema.replicate_source(trials[0]) is None
    assert schema.trial_depth(trials[1]) == 2


def test_study_defaults_for_older_studies() -> None:
    assert schema.study_design({}) == "tpe"
    assert schema.study_design({"design": "balanced"}) == "balanced"
    assert schema.study_replicates({}) == 0 and schema.study_replicates({"replicates": 3}) == 3
    assert schema.study_depths({}) is None and schema.study_depths({"depths": [1, 2]}) == [1, 2]
    assert schema.role_of({}) == "search" and schema.role_of({"role": "bogus"}) == "search"


def test_surplus_trials_are_recognised() -> None:
    study = optuna.create_study()
    trial = study.ask()
    trial.set_user_attr(schema.ERROR, f"{schema.SURPLUS}: depth 2 has its 3 trials")
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    assert schema.is_surplus(study.trials[0])
