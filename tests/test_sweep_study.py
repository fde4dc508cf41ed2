"""The study loop with a fake train function: objective, pruning, resume, top-k, user attributes, faults."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from facesweep.cli import main
from facesweep.errors import StorageError, TrainingDiverged, UsageError
from facesweep.io.dataset import Dataset, Split
from facesweep.model.config import config_for_task
from facesweep.sweep import StudyOptions, best_model_dir, redact, run_study
from facesweep.sweep.objective import Objective
from facesweep.sweep.samplers import make_pruner
from facesweep.sweep.schema import CURVE_KEYS
from facesweep.sweep.space import Param, SearchSpace, default_space
from facesweep.sweep.storage import default_storage_url, fail_stale, open_storage
from facesweep.tasks import get_task

BASE = config_for_task("emotion", monitor="val_accuracy")
SPACE = SearchSpace(
    (
        Param("depth", "int", 1, 4),
        Param("epochs", "int", 2, 4),
        Param("learning_rate", "float", 1e-4, 1e-2, log=True),
        Param("batch_size", "categorical", choices=(32, 64)),
    )
)
ATTRS = {"curve", "param_count", "compile_seconds", "train_seconds", "config", "best_epoch", "stopped_early"}


def tiny_data(task: str = "emotion") -> Dataset:
    spec = get_task(task)
    split = Split(np.zeros((14, *spec.shape), np.uint8), np.arange(14, dtype=np.int32) % len(spec.classes))
    return Dataset(spec, spec.classes, {"train": split, "val": split}, "fake")


@dataclass
class FakeResult:
    model: Any
    history: list[dict]
    compile_seconds: float = 0.5
    train_seconds: float = 0.0
    param_count: int = 0
    best_epoch: int = 0
    stopped_early: bool = False
    interrupted: bool = False


def accuracy(config: Any, epoch: int) -> float:
    """Deeper is better, more epochs help: a curve the sampler can climb."""
    return round(0.1 + 0.15 * config.depth * (1 - math.exp(-epoch / 2)), 6)


def make_train(curve=accuracy, diverge_if=None, interrupt_at=None):  # noqa: ANN001, ANN201
    calls: list[Any] = []

    def train(config, data, *, on_epoch=None, on_step=None):  # noqa: ANN001, ANN202
        calls.append(config)
        history = []
        for epoch in range(1, config.epochs + 1):
            acc = curve(config, epoch)
            record = {"epoch": epoch, "train_loss": 1 - acc, "train_accuracy": acc, "val_loss": 1 - acc,
                      "val_accuracy": acc, "val_macro_f1": acc / 2, "epoch_seconds": 0.01, "learning_rate": 1e-3}
            history.append(record)
            if on_epoch is not None:
                on_epoch(epoch, dict(record))
            if diverge_if is not None and diverge_if(config) and epoch == 1:
                raise TrainingDiverged("loss became nan in epoch 1")
            if interrupt_at is not None and (len(calls), epoch) == interrupt_at:
                raise KeyboardInterrupt
        scores = [h["val_accuracy"] for h in history]
        return FakeResult(model={"depth": config.depth}, history=history, train_seconds=0.01 * len(history),
                          param_count=100 * config.depth, best_epoch=int(np.argmax(scores)) + 1)

    train.calls = calls  # type: ignore[attr-defined]
    return train


def fake_save(path, model, history=None, extra=None):  # noqa: ANN001, ANN201
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps({"model": model, "extra": extra}))
    return path


def options(tmp_path: Path, **overrides: Any) -> StudyOptions:
    values = dict(trials=4, workdir=tmp_path, space=SPACE, pruner="none", heartbeat=5, design="tpe")
    values.update(overrides)
    return StudyOptions(**values)


def study_of(tmp_path: Path, name: str = "emotion-synthetic") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=default_storage_url(tmp_path))


# -- the objective ------------------------------------------------------------------------------------------


def test_objective_with_fixed_trial() -> None:
    params = {"depth": 3, "epochs": 4, "learning_rate": 1e-3, "batch_size": 32}
    trial = optuna.trial.FixedTrial(params)
    value = Objective(tiny_data(), BASE, SPACE, train_fn=make_train())(trial)
    config = dataclasses.replace(BASE, **params)
    assert value == accuracy(config, 4)  # no patience: the last epoch's weights, the last epoch's metric
    attrs = trial.user_attrs
    assert ATTRS <= set(attrs)
    assert attrs["config"] == config.to_dict()
    assert attrs["curve"]["val_accuracy"] == [accuracy(config, e) for e in range(1, 5)]
    assert set(attrs["curve"]) == set(CURVE_KEYS)
    assert attrs["param_count"] > 0 and attrs["best_epoch"] == 4 and attrs["stopped_early"] is False


def test_objective_uses_the_chosen_metric() -> None:
    params = {"depth": 2, "epochs": 2, "learning_rate": 1e-3, "batch_size": 32}
    value = Objective(tiny_data(), BASE, SPACE, "val_macro_f1", train_fn=make_train())(optuna.trial.FixedTrial(params))
    assert value == accuracy(dataclasses.replace(BASE, **params), 2) / 2


def test_bad_curve_is_pruned_at_the_right_epoch() -> None:
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.MedianPruner(1, n_warmup_steps=3))
    space = SearchSpace((Param("depth", "fixed", value=3), Param("epochs", "fixed", value=6)))
    Objective(tiny_data(), BASE, space, train_fn=make_train())(trial := study.ask())
    study.tell(trial, 0.5)
    bad = make_train(curve=lambda config, epoch: 0.01)
    trial = study.ask()
    with pytest.raises(optuna.TrialPruned, match="pruned at epoch 3"):
        Objective(tiny_data(), BASE, space, train_fn=bad)(trial)
    study.tell(trial, state=TrialState.PRUNED)
    frozen = study.trials[-1]
    assert frozen.state == TrialState.PRUNED
    assert sorted(frozen.intermediate_values) == [1, 2, 3]
    assert len(frozen.user_attrs["curve"]["val_accuracy"]) == 3  # kept although the engine returned nothing
    assert frozen.user_attrs["train_seconds"] == pytest.approx(0.03)


def test_hyperband_max_resource_is_the_largest_epochs() -> None:
    from tests.test_sweep_optuna_contract import hyperband_max_resource

    assert hyperband_max_resource(make_pruner("hyperband", SPACE.max_epochs(BASE))) == 4
    space = default_space("emotion", 7000, synthetic=True)
    assert hyperband_max_resource(make_pruner("hyperband", space.max_epochs(BASE))) == int(space["epochs"].high)


# -- run_study ----------------------------------------------------------------------------------------------


def test_study_runs_resumes_and_says_so(tmp_path: Path) -> None:
    train = make_train()
    first = run_study(options(tmp_path, trials=3), train_fn=train, save_fn=fake_save, data=tiny_data())
    assert (first.complete, first.run_complete) == (3, 3)
    assert first.messages[0].startswith("new study emotion-synthetic in sqlite:///")
    second = run_study(options(tmp_path, trials=5), train_fn=train, save_fn=fake_save, data=tiny_data())
    assert second.messages[0].startswith("resuming study emotion-synthetic: 3 of 5 trials done")
    assert (second.complete, second.run_complete) == (5, 2)
    third = run_study(options(tmp_path, trials=5), train_fn=train, save_fn=fake_save, data=tiny_data())
    assert third.run_complete == 0 and len(train.calls) == 5
    trials = study_of(tmp_path).trials
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    assert study_of(tmp_path).user_attrs["task"] == "emotion"
    assert study_of(tmp_path).user_attrs["metric"] == "val_accuracy"
    assert study_of(tmp_path).user_attrs["data"] is None


def test_best_trial_params_rebuild_its_config(tmp_path: Path) -> None:
    run_study(options(tmp_path), train_fn=make_train(), save_fn=fake_save, data=tiny_data())
    best = study_of(tmp_path).best_trial
    base = config_for_task("emotion", seed=0, monitor="val_accuracy")
    assert dataclasses.replace(base, **best.params).to_dict() == best.user_attrs["config"]


def test_top_k_models_are_kept_and_best_points_at_the_best(tmp_path: Path) -> None:
    summary = run_study(options(tmp_path, trials=6, keep=2), train_fn=make_train(), save_fn=fake_save,
                        data=tiny_data())  # fmt: skip
    study = study_of(tmp_path)
    folder = tmp_path.resolve() / "runs" / "emotion-synthetic"
    complete = sorted(study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: (-t.value, t.number))
    kept = sorted(p.name for p in folder.glob("trial-*"))
    assert kept == sorted(f"trial-{t.number}" for t in complete[:2])
    for trial in complete:
        if "artifact" in trial.user_attrs:
            assert trial.user_attrs["artifact"] == str(folder / f"trial-{trial.number}")
    best = study.best_trial
    assert os.readlink(folder / "best") == f"trial-{best.number}"
    assert json.loads((folder / "best.json").read_text())["trial"] == best.number
    assert summary.best is not None and summary.best["number"] == best.number
    assert best_model_dir(default_storage_url(tmp_path), "emotion") == folder / f"trial-{best.number}"
    assert best_model_dir(default_storage_url(tmp_path), "gender") is None


def test_best_model_dir_without_a_database_creates_nothing(tmp_path: Path) -> None:
    assert best_model_dir(default_storage_url(tmp_path), "emotion") is None
    assert not (tmp_path / "facesweep.db").exists()


def test_every_trial_keeps_its_attributes_pruned_and_failed_too(tmp_path: Path) -> None:
    space = SearchSpace((Param("depth", "categorical", choices=(1, 3)), Param("epochs", "fixed", value=4)))
    train = make_train(diverge_if=lambda config: config.depth == 1)
    summary = run_study(options(tmp_path, trials=3, space=space, pruner="median"), train_fn=train,
                        save_fn=fake_save, data=tiny_data())  # fmt: skip
    trials = study_of(tmp_path).trials
    assert summary.complete + summary.pruned == 3 and summary.failed >= 1  # diverging trials fail alone; goes on
    for trial in trials:
        assert ATTRS <= set(trial.user_attrs), trial.number
        curve = trial.user_attrs["curve"]
        assert set(curve) == set(CURVE_KEYS)
        assert len(curve["val_accuracy"]) == len(trial.intermediate_values)
        if trial.state == TrialState.FAIL:
            assert trial.user_attrs["error"].startswith("TrainingDiverged")
            assert len(curve["val_accuracy"]) == 1
        if trial.state == TrialState.COMPLETE:
            assert len(curve["val_accuracy"]) == 4 and trial.user_attrs["compile_seconds"] == 0.5


def test_ctrl_c_fails_the_running_trial_and_propagates(tmp_path: Path) -> None:
    train = make_train(interrupt_at=(2, 2))  # second trial, second epoch
    with pytest.raises(KeyboardInterrupt):
        run_study(options(tmp_path, trials=5), train_fn=train, save_fn=fake_save, data=tiny_data())
    trials = study_of(tmp_path).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL]
    assert len(trials[1].user_attrs["curve"]["val_accuracy"]) == 2
    assert trials[1].user_attrs["error"] == "interrupted"
    again = run_study(options(tmp_path, trials=2), train_fn=make_train(), save_fn=fake_save, data=tiny_data())
    assert again.complete == 2


def test_a_study_keeps_its_task_and_metric(tmp_path: Path) -> None:
    run_study(options(tmp_path, trials=1), train_fn=make_train(), save_fn=fake_save, data=tiny_data())
    with pytest.raises(UsageError, match="was made with metric 'val_accuracy'"):
        run_study(options(tmp_path, trials=1, metric="val_macro_f1"), train_fn=make_train(), save_fn=fake_save,
                  data=tiny_data())  # fmt: skip


def test_threads_share_the_study(tmp_path: Path) -> None:
    summary = run_study(options(tmp_path, trials=5, jobs=2), train_fn=make_train(), save_fn=fake_save,
                        data=tiny_data())  # fmt: skip
    assert summary.complete == 5
    assert any("--jobs 2 on a CPU" in m for m in summary.messages)


# -- storage ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,expected",
    [
        ("postgresql://user:secret@db:5432/x", "postgresql://user:***@db:5432/x"),
        ("postgresql://user:p@ss:w@db/x", "postgresql://user:***@db/x"),
        ("postgresql://user@db/x", "postgresql://user@db/x"),
        ("postgresql://db/x?user=u&password=secret", "postgresql://db/x?user=u&password=***"),
        ("sqlite:////tmp/facesweep.db", "sqlite:////tmp/facesweep.db"),
    ],
)
def test_redact(url: str, expected: str) -> None:
    assert redact(url) == expected


def test_unreachable_storage_is_one_line_without_password() -> None:
    with pytest.raises(StorageError) as info:
        open_storage("postgresql://user:hunter2@127.0.0.1:1/facesweep")
    message = str(info.value)
    assert "hunter2" not in message and "\n" not in message
    assert message.startswith("cannot open storage postgresql://user:***@127.0.0.1:1/facesweep")


def test_cli_storage_error_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["study", "--storage", "postgresql://u:hunter2@127.0.0.1:1/x", "--workdir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 5 and "hunter2" not in err and err.count("\n") == 1


def test_cli_space_error_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s.toml").write_text("[depth]\nlow = 3\nhigh = 1\n")
    code = main(["study", "--space", str(tmp_path / "s.toml"), "--workdir", str(tmp_path)])
    assert code == 2 and "[depth]: empty range" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_heartbeat_beats_for_the_asked_trial(tmp_path: Path) -> None:
    from facesweep.sweep.scheduler import trial_id as _trial_id
    from facesweep.sweep.storage import Heartbeat

    storage = open_storage(default_storage_url(tmp_path), heartbeat=1)
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    with Heartbeat(storage, _trial_id(storage, study, trial)):
        time.sleep(0.2)
        fail_stale(study)
        assert study.trials[0].state == TrialState.RUNNING  # beating: not stale
    # Optuna fails only trials that have a heartbeat record: FAIL once the grace period (GRACE_FACTOR beats) has
    # passed with no beat proves the beats were recorded (public API). Poll: SQLite stores whole seconds.
    deadline = time.monotonic() + 15
    while study.trials[0].state == TrialState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.5)
        fail_stale(study)
    assert study.trials[0].state == TrialState.FAIL


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_trial_failed_as_stale_elsewhere_is_dropped_not_a_crash(tmp_path: Path) -> None:
    """A worker whose heartbeats came late (a starved or paused process) finds its trial already failed by another
    worker: it reports the trial FAIL ('taken over') and goes on, instead of a traceback that kills the worker."""
    from facesweep.sweep.progress import StateReporter, SweepState
    from facesweep.sweep.scheduler import TAKEN_OVER, run_trial

    storage = open_storage(default_storage_url(tmp_path), heartbeat=5)
    study = optuna.create_study(storage=storage, study_name="s", direction="maximize")
    trial = study.ask()
    elsewhere = optuna.load_study(study_name="s", storage=default_storage_url(tmp_path))
    inner = make_train()

    def train(config, data, *, on_epoch=None, on_step=None):  # noqa: ANN001, ANN202
        elsewhere.tell(trial.number, state=TrialState.FAIL)  # what fail_stale does in the other worker
        return inner(config, data, on_epoch=on_epoch, on_step=on_step)

    reporter = StateReporter()
    state = SweepState("s", "val_accuracy", 1)
    reporter.start(state)
    reporter.trial_started(trial.number, {}, 2)
    objective = Objective(tiny_data(), BASE, SPACE, train_fn=train)
    outcome = run_trial(study, storage, trial, objective, reporter, lambda *a: None, tmp_path, options(tmp_path),
                        state)  # fmt: skip
    assert outcome == TrialState.FAIL
    assert state.rows[trial.number].note == TAKEN_OVER
    assert study.trials[0].state == TrialState.FAIL


@pytest.mark.parametrize(
    "task,data,expected",
    [("emotion", None, "emotion-synthetic"), ("emotion", "../shared/data/fer2013", "emotion-fer2013"),
     ("gender", "/x/fer2013.csv", "gender-fer2013"), ("gender", "/x/My Faces", "gender-my-faces")],
)
def test_default_study_names(task: str, data: str | None, expected: str) -> None:
    from facesweep.sweep.options import default_study_name

    assert default_study_name(task, data) == expected


def test_train_limit_takes_a_fixed_subset_and_keeps_val() -> None:
    from facesweep.sweep.data import limit_train

    spec = get_task("emotion")
    data = Dataset(spec, spec.classes, {
        "train": Split(np.arange(70, dtype=np.uint8).reshape(70, 1, 1, 1), np.arange(70, dtype=np.int32) % 7),
        "val": Split(np.zeros((5, 1, 1, 1), np.uint8), np.zeros(5, np.int32)),
    }, "fake")  # fmt: skip
    small = limit_train(data, 21)
    assert len(small.train) == 21 and len(small.val) == 5 and small.source == "fake, 21 of 70 train images"
    assert np.array_equal(small.train.images, limit_train(data, 21).train.images)
    assert limit_train(data, None) is data and limit_train(data, 500) is data


# -- the balanced design and replicates ------------------------------------------------------------------------


def balanced(tmp_path: Path, **overrides: Any) -> StudyOptions:
    return options(tmp_path, **{"design": "balanced", "replicates": 0, **overrides})


def complete_by_depth(trials: list) -> dict[int, int]:
    from facesweep.sweep import schema

    counts: dict[int, int] = {}
    for t in schema.search_trials(trials):
        if t.state == TrialState.COMPLETE:
            counts[t.params["depth"]] = counts.get(t.params["depth"], 0) + 1
    return dict(sorted(counts.items()))


def test_balanced_design_gives_every_depth_its_share(tmp_path: Path) -> None:
    from facesweep.sweep.design import depth_quotas

    summary = run_study(balanced(tmp_path, trials=10), train_fn=make_train(), save_fn=fake_save, data=tiny_data())
    study = study_of(tmp_path)
    quotas = depth_quotas(10, (1, 2, 3, 4), 0)
    assert sorted(quotas.values()) == [2, 2, 3, 3]
    assert complete_by_depth(study.trials) == quotas == summary.complete_by_depth
    for trial in study.trials:  # every depth was assigned by the queue, none sampled
        assert trial.user_attrs["role"] == "search" and trial.user_attrs["assigned_depth"] == trial.params["depth"]
    assert study.user_attrs["design"] == "balanced" and study.user_attrs["depths"] == [1, 2, 3, 4]
    # the first round holds every depth once, in a shuffled order
    assert sorted(t.params["depth"] for t in study.trials[:4]) == [1, 2, 3, 4]


def test_balanced_design_counts_pruned_trials_and_leaves_the_first_five_alone(tmp_path: Path) -> None:
    # The learning rate decides the curve, so the per-depth median pruner has something to prune.
    def curve(config: Any, epoch: int) -> float:
        return round(0.1 * config.depth + 0.05 * (math.log10(config.learning_rate) + 4) * epoch / 4, 6)

    space = SearchSpace((Param("depth", "categorical", choices=(1, 3)), *SPACE.params[1:]))
    summary = run_study(balanced(tmp_path, trials=24, pruner="auto", space=space), train_fn=make_train(curve),
                        save_fn=fake_save, data=tiny_data())  # fmt: skip
    trials = study_of(tmp_path).trials
    assert summary.pruned >= 1  # pruning happened, and a pruned trial is a finished trial: not re-queued
    assert len(trials) == 24 and summary.complete + summary.pruned == 24
    for depth in (1, 3):
        same = [t for t in trials if t.params.get("depth") == depth]
        assert len(same) == 12  # each depth its quota of finished trials
        first_pruned = next((i for i, t in enumerate(same) if t.state == TrialState.PRUNED), len(same))
        assert sum(t.state == TrialState.COMPLETE for t in same[:first_pruned]) >= 5  # never before 5 complete
        assert complete_by_depth(trials)[depth] >= 5


def test_hyperband_with_the_balanced_design_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--pruner hyperband compares trials across depths"):
        run_study(balanced(tmp_path, pruner="hyperband"), train_fn=make_train(), save_fn=fake_save, data=tiny_data())


def test_replicates_retrain_each_depths_best_with_new_seeds(tmp_path: Path) -> None:
    from facesweep.sweep import schema
    from facesweep.sweep.design import best_by_depth

    space = SearchSpace((*SPACE.params, Param("patience", "categorical", choices=(0, 2))))
    train = make_train()
    summary = run_study(balanced(tmp_path, trials=8, replicates=2, space=space), train_fn=train, save_fn=fake_save,
                        data=tiny_data())  # fmt: skip
    trials = study_of(tmp_path).trials
    replicates = schema.replicate_trials(trials)
    best = best_by_depth(trials, (1, 2, 3, 4))
    assert summary.complete == 8 and summary.run_complete == 8  # replicates are not search trials
    assert (summary.replicates_target, summary.replicates_complete, summary.run_replicates) == (8, 8, 8)
    assert len(replicates) == 8 and all(t.state == TrialState.COMPLETE for t in replicates)
    groups = schema.replicate_groups(trials)
    assert sorted(groups) == sorted(t.number for t in best.values())
    for source, group in groups.items():
        assert sorted(schema.replicate_seed(t) for t in group) == [1, 2]
        for t in group:
            # every parameter fixed from the source trial, but the epochs: every replicate runs the space's most
            assert t.params == {**trials[source].params, "epochs": 4}
            config = t.user_attrs["config"]
            assert config["seed"] == schema.replicate_seed(t) and config["patience"] == 0  # no early stopping
            assert len(t.user_attrs["curve"]["val_accuracy"]) == 4  # its whole curve
            assert "artifact" not in t.user_attrs  # models are kept for search trials only
    assert sorted(c.seed for c in train.calls[-8:]) == [1, 1, 1, 1, 2, 2, 2, 2]
    again = run_study(balanced(tmp_path, trials=8, replicates=2, space=space), train_fn=train, save_fn=fake_save,
                      data=tiny_data())  # fmt: skip
    assert (again.run_complete, again.run_replicates, len(train.calls)) == (0, 0, 16)  # nothing left to do


def test_a_study_from_before_replicate_epochs_keeps_each_source_trials_epochs(tmp_path: Path) -> None:
    """Resuming a study made before replicates trained the space's most epochs must not mix schedules in a group."""
    from facesweep.sweep import schema

    study = optuna.create_study(storage=default_storage_url(tmp_path), study_name="emotion-synthetic",
                                direction="maximize")  # fmt: skip
    for key, value in ((schema.TASK, "emotion"), (schema.METRIC, "val_accuracy"), (schema.DESIGN, "balanced")):
        study.set_user_attr(key, value)
    run_study(balanced(tmp_path, trials=8, replicates=2), train_fn=make_train(), save_fn=fake_save, data=tiny_data())
    trials = study_of(tmp_path).trials
    assert schema.REPLICATE_EPOCHS not in study_of(tmp_path).user_attrs
    for source, group in schema.replicate_groups(trials).items():
        assert all(t.params == trials[source].params for t in group)


def test_seeds_until_decided_add_rounds_only_where_a_verdict_is_open(tmp_path: Path) -> None:
    """Depth 1 -> 2 is a 10-point step (decided by the first 3 seeds); 2 -> 3 is 1.5 points at 1 point of seed
    noise (open at 3 seeds): only depths 2 and 3 get more seeds, in lockstep rounds, and the study stops when the
    verdicts are decided or at --max-seeds; a second run has nothing left to do."""
    from facesweep.sweep import schema
    from facesweep.sweep.design import replicate_answers, replicate_targets
    from facesweep.verdicts.sequential import SeedPlan

    base = {1: 0.50, 2: 0.60, 3: 0.615}

    def curve(config: Any, epoch: int) -> float:  # flat curves: the epoch verdict is 'no gain' at once
        return base[config.depth] + float(np.random.default_rng(config.seed).normal(0, 0.01))

    space = SearchSpace((Param("depth", "categorical", choices=(1, 2, 3)), Param("epochs", "fixed", value=3),
                         Param("learning_rate", "float", 1e-4, 1e-2, log=True)))  # fmt: skip
    opts = balanced(tmp_path, trials=6, replicates=None, max_seeds=9, space=space)
    summary = run_study(opts, train_fn=make_train(curve), save_fn=fake_save, data=tiny_data())
    study = study_of(tmp_path)
    trials = study.trials
    assert study.user_attrs["seed_plan"] == {"start": 3, "step": 2, "max_seeds": 9, "min_effect": 0.01, "looks": 4}
    seeds = {d: sorted(schema.replicate_seed(t) for t in schema.replicate_trials(trials) if schema.trial_depth(t) == d)
             for d in (1, 2, 3)}  # fmt: skip
    assert seeds[1] == [1, 2, 3]  # decided at the first look: never more
    assert len(seeds[2]) == len(seeds[3]) > 3 and seeds[2] == list(range(1, len(seeds[2]) + 1))
    plan_answers = replicate_answers(trials, _plan_of(study))
    assert plan_answers is not None
    assert plan_answers.decided or len(seeds[2]) == 9  # stopped because decided, or at --max-seeds
    assert replicate_targets(trials, _plan_of(study)) == {d: len(v) for d, v in seeds.items()}  # nothing more
    assert summary.replicates_target == summary.replicates_complete == sum(len(v) for v in seeds.values())
    assert summary.decided == plan_answers.decided and summary.lead[0] == plan_answers.complexity.headline
    again = run_study(opts, train_fn=make_train(curve), save_fn=fake_save, data=tiny_data())
    assert again.run_replicates == 0 and again.run_complete == 0
    assert SeedPlan.from_dict(study.user_attrs["seed_plan"]).looks == 4


def _plan_of(study: optuna.Study):  # noqa: ANN202
    from facesweep.sweep import schema
    from facesweep.sweep.design import Plan

    return Plan.make("balanced", 6, (1, 2, 3), schema.study_seed_plan(study.user_attrs))


def test_replicates_interrupted_then_resumed_end_with_exactly_k(tmp_path: Path) -> None:
    from facesweep.sweep import schema

    train = make_train(interrupt_at=(6, 1))  # 4 search trials, then the second replicate, first epoch
    with pytest.raises(KeyboardInterrupt):
        run_study(balanced(tmp_path, trials=4, replicates=2), train_fn=train, save_fn=fake_save, data=tiny_data())
    interrupted = [t for t in study_of(tmp_path).trials if t.state == TrialState.FAIL]
    assert len(interrupted) == 1 and schema.is_replicate(interrupted[0])
    run_study(balanced(tmp_path, trials=4, replicates=2), train_fn=make_train(), save_fn=fake_save, data=tiny_data())
    groups = schema.replicate_groups(study_of(tmp_path).trials)
    assert len(groups) == 4
    for group in groups.values():
        done = [t for t in group if t.state == TrialState.COMPLETE]
        assert sorted(schema.replicate_seed(t) for t in done) == [1, 2]


def test_replicates_zero_and_tpe_design_run_no_replicates(tmp_path: Path) -> None:
    from facesweep.sweep import schema

    summary = run_study(options(tmp_path, trials=4), train_fn=make_train(), save_fn=fake_save, data=tiny_data())
    study = study_of(tmp_path)
    assert summary.design == "tpe" and summary.replicates == 0 and not schema.replicate_trials(study.trials)
    assert not any("assigned_depth" in t.user_attrs for t in study.trials)  # the sampler picked every depth
    assert study.user_attrs["design"] == "tpe" and study.user_attrs["replicates"] == 0
    with pytest.raises(UsageError, match="was made with design 'tpe', not 'balanced'"):
        run_study(balanced(tmp_path, trials=4), train_fn=make_train(), save_fn=fake_save, data=tiny_data())
    other = tmp_path / "b"
    summary = run_study(balanced(other, trials=4, replicates=0), train_fn=make_train(), save_fn=fake_save,
                        data=tiny_data())  # fmt: skip
    assert summary.replicates == 0 and not schema.replicate_trials(study_of(other).trials)


def test_balanced_threads_share_one_queue_and_one_set_of_replicates(tmp_path: Path) -> None:
    from facesweep.sweep import schema

    space = SearchSpace((Param("depth", "categorical", choices=(1, 2)), *SPACE.params[1:]))
    summary = run_study(balanced(tmp_path, trials=4, jobs=2, replicates=1, space=space), train_fn=make_train(),
                        save_fn=fake_save, data=tiny_data())  # fmt: skip
    trials = study_of(tmp_path).trials
    assert complete_by_depth(trials) == {1: 2, 2: 2} and summary.failed == 0  # racing surplus trials not counted
    assert not any(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in trials)
    for t in trials:
        if t.state == TrialState.FAIL:
            assert schema.is_surplus(t) and t.user_attrs["curve"]["val_accuracy"] == []  # gave way, never trained
    groups = schema.replicate_groups(trials)
    assert sorted(len([t for t in g if t.state == TrialState.COMPLETE]) for g in groups.values()) == [1, 1]


@pytest.mark.parametrize(
    "flags,message",
    [(["--max-seeds", "2"], "--max-seeds must be >= 3 (the first round), got 2"),
     (["--min-effect", "0"], "--min-effect must be between 0 and 100 points, got 0")],
)  # fmt: skip
def test_seed_flags_are_checked_before_anything_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags,
                                                     message) -> None:  # noqa: ANN001
    code = main(["study", *flags, "--workdir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "facesweep.db").exists()  # nothing written
