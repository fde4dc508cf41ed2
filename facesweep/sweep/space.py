"""The search space: which ``Config`` fields a study samples, and over what range.

Parameter names are ``Config`` field names, so ``dataclasses.replace(base, **trial.params)`` rebuilds a trial's
config exactly (a fixed value is suggested as a one-choice categorical, so it is in ``trial.params`` too).

Defaults depend on the task and the data size (``default_space``); a small TOML file overrides any of them::

    [depth]
    low = 1
    high = 4

    [learning_rate]
    low = 1e-4
    high = 3e-3
    log = true

    [dense]
    choices = ["128", "256,128"]

    [batch_size]
    choices = [32, 64]

    [epochs]
    value = 3          # fixed: every trial trains 3 epochs (``epochs = 3`` at top level means the same)

Parameters not named in the file keep their defaults. ``load_space(path, base)`` validates every bound and
choice against ``Config.validate()`` and names the file and key in each error.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from facesweep.errors import ConfigError
from facesweep.model.config import Config, max_depth_for, searchable_fields
from facesweep.tasks import get_task

# Fields fixed by the data (input shape, classes) or not training knobs at all: never sampled (Config's metadata).
UNSEARCHABLE = tuple(f.name for f in dataclasses.fields(Config) if f.name not in searchable_fields())
KINDS = ("int", "float", "categorical", "fixed")
TABLE_KEYS = {"low", "high", "log", "step", "choices", "value"}


@dataclass(frozen=True)
class Param:
    name: str  # a Config field name; also the Optuna parameter name
    kind: str  # "int" | "float" | "categorical" | "fixed"
    low: float | None = None  # inclusive bounds for int/float
    high: float | None = None
    log: bool = False  # sample on a log scale (int/float)
    step: float | None = None  # grid step (int/float); None = continuous / 1 for int
    choices: tuple[Any, ...] = ()  # categorical values (None, bool, int, float or str, as Optuna requires)
    value: Any = None  # the fixed value

    def suggest(self, trial: optuna.trial.BaseTrial) -> Any:
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        if self.kind == "float":
            return trial.suggest_float(self.name, float(self.low), float(self.high), step=self.step, log=self.log)
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        # One choice: recorded in trial.params, so replace(base, **params) needs nothing from the base.
        return trial.suggest_categorical(self.name, [self.value])

    def extremes(self) -> list[Any]:
        """Values worth validating: both bounds, every choice, or the fixed value."""
        if self.kind in ("int", "float"):
            return [self.low, self.high]
        if self.kind == "categorical":
            return list(self.choices)
        return [self.value]

    def largest(self) -> float:
        """The largest value this parameter can take (for Hyperband's ``max_resource``)."""
        return max(float(v) for v in self.extremes())

    def describe(self) -> str:
        if self.kind in ("int", "float"):
            text = f"{self.low:g}..{self.high:g}"
            return text + (" log" if self.log else "") + (f" step {self.step:g}" if self.step else "")
        if self.kind == "categorical":
            return "{" + ", ".join(str(c) for c in self.choices) + "}"
        return f"= {self.value}"


@dataclass(frozen=True)
class SearchSpace:
    params: tuple[Param, ...]
    source: str = "defaults"  # "defaults" or the TOML file that overrode them

    def __getitem__(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(p.name == name for p in self.params)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def max_epochs(self, base: Config) -> int:
        """The most epochs any trial can train: Hyperband's ``max_resource``."""
        return int(self["epochs"].largest()) if "epochs" in self else base.epochs

    def merged(self, overrides: SearchSpace) -> SearchSpace:
        """This space with each of ``overrides``' parameters replacing (or adding) its own."""
        by_name = {p.name: p for p in self.params}
        by_name.update({p.name: p for p in overrides.params})
        return SearchSpace(tuple(by_name.values()), source=overrides.source)

    def to_dict(self) -> dict[str, str]:
        return {p.name: p.describe() for p in self.params}


def suggest_config(trial: optuna.trial.BaseTrial, base: Config, space: SearchSpace) -> Config:
    """Sample every parameter of ``space`` on ``trial`` and return ``base`` with them replaced, validated."""
    values = {param.name: param.suggest(trial) for param in space.params}
    return dataclasses.replace(base, **values).validate()


# -- defaults --------------------------------------------------------------------------------------------------


def default_space(task: str, n_train: int, *, synthetic: bool = False) -> SearchSpace:
    """Depth and epochs plus the knobs that matter most, sized for the task and the data.

    The synthetic default is sized so ``facesweep study --trials 30`` (30 search trials, then seeds of each
    depth's best until both answers are decided) finishes within ten minutes on a 2-core CPU (8m20s measured),
    compiles included: narrow, few epochs, and the knobs that only multiply compiled programs (width, dropout,
    batch size) fixed. Small real sets get a little more room; larger ones wider nets and more epochs.
    """
    max_depth = max_depth_for(get_task(task).image_size)  # 48 px -> 1 px after 5 pools; 96 px -> 1 px after 6
    if synthetic:
        # Depth and epochs are the questions; the learning rate is the one knob TPE tunes, within the range where
        # every seed of depths 2-4 converges by 10 epochs (bench/cpu/synthetic_pilot.py). No conv dropout: at 0.1
        # the same nets were still climbing at epoch 10 and one seed in three lagged 5-10 points. The head's
        # updates are scaled by sqrt(64 / fan-in) (dense_lr_ref 64, not the general 1024): behind depth 2's
        # 12x12x32 flatten, 12 seeds at lr 3.6e-3 spread SD 10.9 points with 1024 (one at 0.529), 2.8 with 256,
        # 1.6 with 64; depths 3 and 4 lost nothing (0.950 / 0.962 against 0.952 / 0.962). Depth 1 is left out:
        # behind its 24x24 flatten the posed faces are memorised by position, and its seeds spread 6-20 points.
        params = [
            Param("depth", "int", 2, 4),
            Param("epochs", "int", 6, 10),
            Param("width", "fixed", value=16),
            Param("dense", "fixed", value="64"),
            Param("dropout", "fixed", value=0.0),
            Param("conv_dropout", "fixed", value=0.0),
            Param("learning_rate", "float", 2e-3, 4e-3, log=True),
            Param("batch_size", "fixed", value=32),
            Param("augment", "fixed", value=False),
            Param("patience", "fixed", value=0),
            Param("dense_lr_ref", "fixed", value=64),
        ]
    elif n_train <= 10_000:
        params = [
            Param("depth", "int", 1, 4),
            Param("epochs", "int", 2, 10),
            Param("width", "categorical", choices=(8, 16)),
            Param("dense", "categorical", choices=("none", "64")),
            Param("dropout", "categorical", choices=(0.0, 0.25)),  # few values: each is its own compiled program
            Param("learning_rate", "float", 5e-4, 5e-3, log=True),
            Param("batch_size", "categorical", choices=(64, 128)),
            Param("augment", "categorical", choices=(False, True)),
            Param("patience", "categorical", choices=(0, 4)),
        ]
    else:
        params = [
            Param("depth", "int", 1, max_depth),
            Param("epochs", "int", 5, 40),
            Param("width", "categorical", choices=(16, 32, 64)),
            Param("dense", "categorical", choices=("128", "256", "256,128")),
            Param("dropout", "float", 0.0, 0.5, step=0.1),
            Param("learning_rate", "float", 1e-4, 3e-3, log=True),
            Param("batch_size", "categorical", choices=(64, 128)),
            Param("augment", "categorical", choices=(False, True)),
            Param("patience", "categorical", choices=(0, 5)),
        ]
    return SearchSpace(tuple(params))


# -- the TOML file ---------------------------------------------------------------------------------------------


def load_space(path: str | Path, base: Config) -> SearchSpace:
    """Read a space file (TOML) and validate it against ``base``; errors name the file and the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read space file {path}: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_space(doc, base, source=str(path))


def parse_space(doc: Mapping[str, Any], base: Config, *, source: str = "space") -> SearchSpace:
    """Turn a parsed TOML document into a validated ``SearchSpace`` (only the parameters it names)."""
    fields = {f.name: f for f in dataclasses.fields(Config)}
    searchable = [name for name in fields if name not in UNSEARCHABLE]
    params = []
    for name, entry in doc.items():
        where = f"{source}: [{name}]"
        if name not in fields:
            raise ConfigError(f"{where}: {name!r} is not a Config field; choose from: {', '.join(searchable)}")
        if name in UNSEARCHABLE:
            raise ConfigError(f"{where}: {name!r} is set by the task and data, not searched")
        if not isinstance(entry, Mapping):
            entry = {"value": entry}  # `epochs = 3` at top level fixes it
        param = _parse_param(name, entry, getattr(base, name), where)
        _check_against_config(param, base, where)
        params.append(param)
    return SearchSpace(tuple(params), source=source)


def _parse_param(name: str, entry: Mapping[str, Any], default: Any, where: str) -> Param:
    unknown = sorted(set(entry) - TABLE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; use low/high (log, step), choices or value")
    kinds = [key for key in ("value", "choices") if key in entry] + (["range"] if {"low", "high"} & set(entry) else [])
    if len(kinds) != 1:
        got = ", ".join(kinds) or "none"
        raise ConfigError(f"{where}: give exactly one of low+high, choices, or value (got {got})")
    if "value" in entry:
        return Param(name, "fixed", value=_coerce(entry["value"], default, where, "value"))
    if "choices" in entry:
        choices = entry["choices"]
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{where}: choices must be a non-empty list, got {choices!r}")
        values = tuple(_coerce(c, default, where, "choices") for c in choices)
        if len(set(values)) != len(values):
            raise ConfigError(f"{where}: choices repeat a value: {list(values)}")
        return Param(name, "categorical", choices=values)
    return _parse_range(name, entry, default, where)


def _parse_range(name: str, entry: Mapping[str, Any], default: Any, where: str) -> Param:
    if "low" not in entry or "high" not in entry:
        raise ConfigError(f"{where}: a range needs both low and high")
    if isinstance(default, bool) or not isinstance(default, int | float):
        raise ConfigError(f"{where}: {name} is a {type(default).__name__}; give choices or value, not low/high")
    kind = "int" if isinstance(default, int) else "float"
    low, high = entry["low"], entry["high"]
    for key, bound in (("low", low), ("high", high)):
        ok = isinstance(bound, int) if kind == "int" else isinstance(bound, int | float)
        if isinstance(bound, bool) or not ok:
            raise ConfigError(f"{where}: {key} must be {'an integer' if kind == 'int' else 'a number'}, got {bound!r}")
    if low > high:
        raise ConfigError(f"{where}: empty range, low={low} > high={high}")
    log = entry.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}: log must be true or false, got {log!r}")
    if log and low <= 0:
        raise ConfigError(f"{where}: a log range needs low > 0, got low={low}")
    step = entry.get("step")
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int | float) or step <= 0:
            raise ConfigError(f"{where}: step must be a positive number, got {step!r}")
        if kind == "int" and not isinstance(step, int):
            raise ConfigError(f"{where}: step must be an integer for {name}, got {step!r}")
        if log:
            raise ConfigError(f"{where}: step and log cannot be combined")
    if kind == "float":
        low, high = float(low), float(high)
    return Param(name, kind, low, high, log=log, step=step)


def _coerce(value: Any, default: Any, where: str, key: str) -> Any:
    """Check a TOML value against the field's type; dense stays a string such as "256,128" (Optuna needs scalars)."""
    if isinstance(default, tuple):  # dense
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be a string like '256,128' or a list of integers, got {value!r}")
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {key} must be an integer, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string, got {value!r}")
    return value


def _check_against_config(param: Param, base: Config, where: str) -> None:
    """Each bound/choice must make a valid Config on its own (e.g. depth within what the input size allows)."""
    for value in param.extremes():
        try:
            dataclasses.replace(base, **{param.name: value}).validate()
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
