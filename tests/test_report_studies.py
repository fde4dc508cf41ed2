"""Synthetic Optuna studies of known structure for the report tests, built through ask/tell.

Every trial carries the user attributes of docs/ARCHITECTURE.md (``curve``, ``param_count``, ``train_seconds``,
``config``, ``best_epoch``, ...); learning curves are closed-form with seeded noise, so each study's answer is known.
Run: ``pytest tests/test_report_studies.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import optuna
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from facesweep.model.config import config_for_task
from facesweep.sweep import schema

optuna.logging.set_verbosity(optuna.logging.WARNING)

DISTRIBUTIONS = {"depth": IntDistribution(1, 5), "epochs": IntDistribution(2, 32)}
CurveFn = Callable[[int, int, np.random.Generator], dict[str, list[float]]]


def saturating(plateau: Callable[[int], float], tau: float = 2.0, noise: float = 0.01) -> CurveFn:
    """val_accuracy climbs to ``plateau(depth)`` with time constant ``tau`` epochs; losses fall."""

    def curve(depth: int, epochs: int, rng: np.random.Generator) -> dict[str, list[float]]:
        t = np.arange(1, epochs + 1, dtype=float)
        top = plateau(depth) + rng.normal(0, noise)
        acc = top - (top - 0.15) * np.exp(-t / tau) + rng.normal(0, noise / 3, t.size)
        val_loss = 1.2 + 0.8 * np.exp(-t / tau) - 0.5 * (top - 0.4) + rng.normal(0, 0.005, t.size)
        train_loss = 1.0 + 0.9 * np.exp(-t / tau)
        return _curve(acc, val_loss, train_loss)

    return curve


def overfitting(peak_epoch: int = 8) -> CurveFn:
    """val_accuracy rises to ``peak_epoch`` then falls; val loss turns up there while train loss keeps falling."""

    def curve(depth: int, epochs: int, rng: np.random.Generator) -> dict[str, list[float]]:
        t = np.arange(1, epochs + 1, dtype=float)
        late = np.maximum(0.0, t - peak_epoch)
        acc = 0.6 - 0.45 * np.exp(-t / 2.5) - 0.008 * late + rng.normal(0, 0.003, t.size)
        val_loss = 1.0 + 0.9 * np.exp(-t / 2.5) + 0.04 * late + rng.normal(0, 0.002, t.size)
        train_loss = 1.6 * np.exp(-t / 6.0) + 0.1
        return _curve(acc, val_loss, train_loss)

    return curve


def _curve(acc: np.ndarray, val_loss: np.ndarray, train_loss: np.ndarray) -> dict[str, list[float]]:
    return {
        "train_loss": train_loss.tolist(),
        "train_accuracy": np.clip(acc + 0.05, 0, 1).tolist(),
        "val_loss": val_loss.tolist(),
        "val_accuracy": np.clip(acc, 0, 1).tolist(),
        "val_macro_f1": np.clip(acc - 0.1, 0, 1).tolist(),
        "epoch_seconds": [0.5] * acc.size,
    }


def build_study(
    curve_fn: CurveFn,
    *,
    depths: list[int],
    epochs: list[int],
    n_trials: int = 30,
    prune_every: int = 0,
    prune_after: int = 2,
    fail: int = 0,
    running: int = 0,
    storage: str | None = None,
    name: str = "synthetic",
    seed: int = 0,
    artifact: Callable[[int], str | None] | None = None,
) -> optuna.Study:
    """A study whose trial i has depth ``depths[i % len]`` and epochs ``epochs[(i // len(depths)) % len]``.

    Every ``prune_every``-th trial is pruned after ``prune_after`` epochs; ``fail`` trials fail after one epoch;
    ``running`` trials are asked and never told.
    """
    study = optuna.create_study(
        study_name=name, direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed)
    )
    study.set_user_attr("task", "emotion")
    study.set_user_attr("metric", "val_accuracy")
    study.set_user_attr("data", None)
    study.set_user_attr("data_source", "synthetic")
    study.set_user_attr("facesweep_version", "0.1.0")
    rng = np.random.default_rng(seed)
    for i in range(n_trials + fail + running):
        depth = depths[i % len(depths)]
        n_epochs = epochs[(i // len(depths)) % len(epochs)]
        study.enqueue_trial({"depth": depth, "epochs": n_epochs})
        trial = study.ask(DISTRIBUTIONS)
        curve = curve_fn(depth, n_epochs, rng)
        pruned = prune_every and i % prune_every == prune_every - 1 and i < n_trials
        failed = i >= n_trials and i < n_trials + fail
        if i >= n_trials + fail:
            continue  # running: asked, never told
        keep = prune_after if pruned else 1 if failed else n_epochs
        curve = {k: v[:keep] for k, v in curve.items()}
        acc = curve["val_accuracy"]
        best = int(np.argmax(acc)) + 1
        config = config_for_task("emotion", depth=depth, epochs=n_epochs).to_dict()
        attrs = {
            "curve": curve,
            "param_count": int(2000 * 4**depth),
            "compile_seconds": 3.0,
            "train_seconds": 0.5 * keep * depth,
            "config": config,
            "best_epoch": best,
            "stopped_early": False,
        }
        if artifact is not None and not pruned and not failed and artifact(trial.number) is not None:
            attrs["artifact"] = artifact(trial.number)
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        if pruned:
            study.tell(trial, state=TrialState.PRUNED)
        elif failed:
            study.tell(trial, state=TrialState.FAIL)
        else:
            study.tell(trial, max(acc))
    if storage is None:
        return study
    # Built in memory, then written in one transaction per trial: SQLite commits are slow on a busy disk.
    stored = optuna.create_study(study_name=name, storage=storage, direction="maximize")
    for key, value in study.user_attrs.items():
        stored.set_user_attr(key, value)
    stored.add_trials(study.get_trials(deepcopy=False))
    return stored


def depth_helps(**kw) -> optuna.Study:
    return build_study(saturating(lambda d: 0.35 + 0.07 * d), depths=[1, 2, 3, 4, 5], epochs=[4, 8, 16], **kw)


def depth_flat(**kw) -> optuna.Study:
    return build_study(
        saturating(lambda d: 0.55, noise=0.02), depths=[1, 2, 3, 4, 5], epochs=[4, 8, 16], **kw
    )


def depth_plateau(**kw) -> optuna.Study:
    return build_study(
        saturating(lambda d: 0.40 + 0.08 * min(d, 3)), depths=[1, 2, 3, 4, 5], epochs=[4, 8, 16], **kw
    )


def epochs_overfit(**kw) -> optuna.Study:
    return build_study(overfitting(8), depths=[2, 3, 4], epochs=[8, 16, 24, 32], **kw)


# --------------------------------------------------------------------------------------------------------------
def test_builder_stores_the_architecture_schema() -> None:
    study = depth_helps(prune_every=5, fail=1, running=1)
    states = [t.state for t in study.trials]
    assert states.count(TrialState.PRUNED) == 6
    assert states.count(TrialState.FAIL) == 1
    assert states.count(TrialState.RUNNING) == 1
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert set(done[0].user_attrs) >= {"curve", "param_count", "compile_seconds", "train_seconds", "config",
                                        "best_epoch", "stopped_early"}
    assert set(done[0].user_attrs["curve"]) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy",
                                                "val_macro_f1", "epoch_seconds"}
    assert math.isclose(done[0].value, max(done[0].user_attrs["curve"]["val_accuracy"]))
    assert done[0].params["depth"] == done[0].user_attrs["config"]["depth"]


# -- designed studies: seed replicates of the best configuration at each depth ----------------------------------
def add_replicates(
    study: optuna.Study,
    curve_fn: CurveFn,
    *,
    k: int = 3,
    seed: int = 1,
    depths: list[int] | None = None,
    missing: dict[int, int] | None = None,
) -> optuna.Study:
    """Re-run the best complete search trial at each depth ``k`` times (enqueued, fixed params, full epochs), as
    ``facesweep study --replicates k`` does; ``missing`` = {depth: replicates to leave out}. Marks the design."""
    rng = np.random.default_rng(seed)
    done = [t for t in study.trials if t.state == TrialState.COMPLETE and not schema.is_replicate(t)]
    by_depth = sorted({t.params["depth"] for t in done})
    study.set_user_attr(schema.DESIGN, schema.DESIGN_BALANCED)
    study.set_user_attr(schema.REPLICATES, k)
    study.set_user_attr(schema.DEPTHS, depths or by_depth)
    for depth in by_depth:
        source = max((t for t in done if t.params["depth"] == depth), key=lambda t: t.value)
        for j in range(k - (missing or {}).get(depth, 0)):
            study.enqueue_trial(dict(source.params))
            trial = study.ask(DISTRIBUTIONS)
            n_epochs = source.params["epochs"]
            curve = curve_fn(depth, n_epochs, rng)
            attrs = {
                **{key: source.user_attrs[key] for key in ("param_count", "compile_seconds", "train_seconds")},
                schema.CURVE: curve,
                schema.CONFIG: {**source.user_attrs["config"], "seed": j + 1, "patience": 0},
                schema.BEST_EPOCH: int(np.argmax(curve["val_accuracy"])) + 1,
                schema.STOPPED_EARLY: False,
                schema.ROLE: schema.ROLE_REPLICATE,
                schema.REPLICATE_OF: source.number,
                schema.REPLICATE_SEED: j + 1,
            }
            for key, value in attrs.items():
                trial.set_user_attr(key, value)
            study.tell(trial, curve["val_accuracy"][-1])  # full run, no early stopping: the last epoch
    return study


def designed(plateau: Callable[[int], float], *, noise: float = 0.005, k: int = 3, epochs: int = 8,
             depths: tuple[int, ...] = (1, 2, 3, 4), **kw) -> optuna.Study:  # fmt: skip
    """A balanced study (3 search trials per depth, ``epochs`` each) plus ``k`` replicates per depth."""
    fn = saturating(plateau, noise=noise)
    study = build_study(fn, depths=list(depths), epochs=[epochs], n_trials=3 * len(depths))
    return add_replicates(study, fn, k=k, **kw)
