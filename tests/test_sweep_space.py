"""The search space: defaults, the TOML file and its errors, and configs rebuilt from trial params."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import optuna
import pytest

from facesweep.errors import ConfigError
from facesweep.model.config import Config, config_for_task
from facesweep.sweep.space import SearchSpace, default_space, load_space, suggest_config

BASE = config_for_task("emotion")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("task", ["emotion", "gender"])
@pytest.mark.parametrize("n_train,synthetic", [(7000, True), (28000, False)])
def test_default_spaces_are_valid_and_sample_depth_and_epochs(task: str, n_train: int, synthetic: bool) -> None:
    space = default_space(task, n_train, synthetic=synthetic)
    base = config_for_task(task)
    assert {"depth", "epochs"} <= set(space.names)
    assert set(space.names) <= {f.name for f in dataclasses.fields(Config)}
    for param in space.params:
        for value in param.extremes():
            dataclasses.replace(base, **{param.name: value}).validate()


def test_synthetic_default_is_small() -> None:
    space = default_space("emotion", 7000, synthetic=True)
    assert space["depth"].low == 2 and space["depth"].high == 4  # depth 1's seeds spread 6-20 points on posed faces
    assert space.max_epochs(BASE) == 10
    # depth and epochs are the questions; the learning rate is the one knob tuned (in the range where seeds train)
    assert {p.name for p in space.params if p.kind != "fixed"} == {"depth", "epochs", "learning_rate"}
    assert space["learning_rate"].high <= 4e-3 and space["conv_dropout"].value == 0.0
    small_real = default_space("emotion", 1500)  # a small real set searches those too
    assert not any(p.kind == "fixed" for p in small_real.params) and small_real.max_epochs(BASE) == 10


def test_space_file_overrides_and_fixes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        epochs = 3
        [depth]
        low = 1
        high = 4
        [learning_rate]
        low = 1e-4
        high = 3e-3
        log = true
        [dense]
        choices = ["128", [256, 128]]
        [batch_size]
        choices = [32, 64]
        [augment]
        value = false
        """,
    )
    space = load_space(path, BASE)
    assert space.source == str(path)
    assert space["epochs"].kind == "fixed" and space["epochs"].value == 3
    assert space["learning_rate"].log and space["learning_rate"].kind == "float"
    assert space["dense"].choices == ("128", "256,128")
    assert space.max_epochs(BASE) == 3
    merged = default_space("emotion", 7000, synthetic=True).merged(space)
    assert merged["epochs"].value == 3 and "width" in merged


@pytest.mark.parametrize(
    "text,message",
    [
        ("[depht]\nlow=1\nhigh=3", "[depht]: 'depht' is not a Config field"),
        ("[depth]\nlow=4\nhigh=2", "[depth]: empty range, low=4 > high=2"),
        ("[depth]\nlow=1\nhigh=9", "[depth]: depth must be 1..5 for 48x48 input"),
        ("[depth]\nlow=1.5\nhigh=3", "[depth]: low must be an integer, got 1.5"),
        ("[learning_rate]\nlow=0\nhigh=1e-2\nlog=true", "[learning_rate]: a log range needs low > 0"),
        ("[batch_size]\nchoices=[]", "[batch_size]: choices must be a non-empty list"),
        ("[batch_size]\nchoices=['big']", "[batch_size]: choices must be an integer, got 'big'"),
        ("[augment]\nlow=0\nhigh=1", "[augment]: augment is a bool; give choices or value"),
        ("[depth]\nlo=1\nhigh=3", "[depth]: unknown key(s) lo"),
        ("[depth]\nvalue=2\nlow=1\nhigh=3", "[depth]: give exactly one of low+high, choices, or value"),
        ("[image_size]\nvalue=64", "[image_size]: 'image_size' is set by the task and data"),
        ("depth = 'deep'", "[depth]: value must be an integer, got 'deep'"),
        ("[depth\nlow=1", "not valid TOML"),
    ],
)
def test_space_file_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_space(path, BASE)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_missing_space_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read space file"):
        load_space(tmp_path / "nope.toml", BASE)


def test_replace_with_trial_params_rebuilds_the_config_exactly(tmp_path: Path) -> None:
    space = default_space("emotion", 7000, synthetic=True).merged(
        load_space(write(tmp_path, "epochs = 3\n[dense]\nchoices=['32', '64,32']"), BASE)
    )
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(12):
        trial = study.ask()
        config = suggest_config(trial, BASE, space)
        study.tell(trial, 0.5)
        assert set(trial.params) == set(space.names)  # fixed values too: nothing left to the base
        assert dataclasses.replace(BASE, **trial.params) == config
        assert dataclasses.replace(config_for_task("emotion", depth=5, width=64), **trial.params).depth == config.depth
    best = study.best_trial
    assert dataclasses.replace(BASE, **best.params) == Config.from_dict(best.params | {
        k: v for k, v in BASE.to_dict().items() if k not in best.params
    })


def test_fixed_trial_suggests_given_values() -> None:
    space = SearchSpace(default_space("emotion", 1500).params)
    params = {"depth": 2, "epochs": 3, "width": 16, "dense": "64", "dropout": 0.25, "learning_rate": 1e-3,
              "batch_size": 64, "augment": False, "patience": 0}
    config = suggest_config(optuna.trial.FixedTrial(params), BASE, space)
    assert (config.depth, config.epochs, config.width, config.dense) == (2, 3, 16, (64,))
