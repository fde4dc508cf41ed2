"""The objective: sample a config, train it through the engine's ``on_epoch`` hook (which records the curve, reports
each epoch and prunes) and store the trial user attributes of ``sweep/schema.py``. Works with ``FixedTrial``.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna

from facesweep.errors import FacesweepError
from facesweep.io.dataset import Dataset
from facesweep.model.config import Config
from facesweep.sweep import schema
from facesweep.sweep.progress import Reporter
from facesweep.sweep.schema import CURVE_KEYS
from facesweep.sweep.space import SearchSpace, suggest_config

TrainFn = Callable[..., Any]  # train_and_evaluate's signature: (config, data, *, on_epoch, on_step) -> TrainResult

# -- the objective --------------------------------------------------------------------------------------------


class StopRequested(Exception):
    """Raised inside a training hook when the sweep is stopping (Ctrl-C in another thread)."""


@dataclass
class TrialOutcome:
    value: float
    config: Config
    result: Any  # the engine's TrainResult


class Objective:
    """Sample a config, train it, report every epoch, keep user attributes current. Works with ``FixedTrial``.

    A replicate (``role = "replicate"`` in the trial's user attributes, all parameters fixed by the queue) trains
    with its ``replicate_seed`` and no early stopping, and is never pruned: its whole curve is the point.
    """

    def __init__(
        self,
        data: Dataset,
        base: Config,
        space: SearchSpace,
        metric: str = "val_accuracy",
        *,
        train_fn: TrainFn | None = None,
        reporter: Reporter | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if train_fn is None:
            from facesweep.model.train import train_and_evaluate as train_fn
        self.data, self.base, self.space, self.metric = data, base, space, metric
        self.train_fn = train_fn
        self.reporter = reporter
        self.stop = stop or threading.Event()
        self.train_seconds = 0.0  # wall seconds inside train_fn, all trials (threads add under the lock)
        self._lock = threading.Lock()

    def __call__(self, trial: optuna.trial.BaseTrial) -> float:
        return self.run(trial).value

    def run(self, trial: optuna.trial.BaseTrial) -> TrialOutcome:
        from facesweep.model.cnn import count_params

        config = suggest_config(trial, self.base, self.space)
        replicate = schema.role_of(trial.user_attrs) == schema.ROLE_REPLICATE
        if replicate:
            seed = int(trial.user_attrs[schema.REPLICATE_SEED])
            config = dataclasses.replace(config, seed=seed, patience=0).validate()
        number = getattr(trial, "number", 0)
        curve: dict[str, list[float]] = {key: [] for key in CURVE_KEYS}
        trial.set_user_attr(schema.CONFIG, config.to_dict())
        trial.set_user_attr(schema.PARAM_COUNT, int(count_params(config)))
        trial.set_user_attr(schema.CURVE, curve)
        if self.reporter is not None:
            role = f"replicate of {trial.user_attrs[schema.REPLICATE_OF]}, seed {config.seed}" if replicate else ""
            self.reporter.trial_started(number, dict(trial.params), config.epochs, role=role)
        start = time.perf_counter()
        first_epoch_at: list[float] = []

        def on_epoch(epoch: int, metrics: dict) -> None:
            if not first_epoch_at:
                first_epoch_at.append(time.perf_counter())
            for key in CURVE_KEYS:
                curve[key].append(float(metrics[key]))
            trial.set_user_attr(schema.CURVE, curve)  # as epochs go: pruned/failed/interrupted trials keep theirs
            value = float(metrics[self.metric])
            if self.reporter is not None:
                self.reporter.epoch_done(number, epoch, value)
            if self.stop.is_set():
                raise StopRequested("sweep stopping")
            if math.isfinite(value):
                trial.report(value, epoch)
                if not replicate and trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at epoch {epoch}: {self.metric}={value:.4f}")

        def on_step(epoch: int, step: int, steps: int, metrics: dict) -> None:
            if self.stop.is_set():
                raise StopRequested("sweep stopping")

        result = None
        try:
            result = self.train_fn(config, self.data, on_epoch=on_epoch, on_step=on_step)
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self.train_seconds += elapsed
            if result is not None:
                compile_seconds, train_seconds = float(result.compile_seconds), float(result.train_seconds)
                best_epoch, stopped_early = int(result.best_epoch), bool(result.stopped_early)
            else:  # pruned, failed or interrupted: the engine returned nothing, so estimate from the clock
                epoch_seconds = curve["epoch_seconds"]
                first = (first_epoch_at[0] - start) if first_epoch_at else elapsed
                compile_seconds = max(0.0, first - (epoch_seconds[0] if epoch_seconds else 0.0))
                train_seconds = float(sum(epoch_seconds))
                scores = curve[self.metric]
                best_epoch = int(np.argmax(scores)) + 1 if scores else 0
                stopped_early = False
            trial.set_user_attr(schema.COMPILE_SECONDS, round(compile_seconds, 4))
            trial.set_user_attr(schema.TRAIN_SECONDS, round(train_seconds, 4))
            trial.set_user_attr(schema.BEST_EPOCH, best_epoch)
            trial.set_user_attr(schema.STOPPED_EARLY, stopped_early)
        return TrialOutcome(trial_value(result, config, self.metric), config, result)


def trial_value(result: Any, config: Config, metric: str) -> float:
    """The metric of the weights the engine returned: the best epoch when it restores best, else the last."""
    history = result.history
    if not history:
        raise FacesweepError("training returned no epochs")
    restored = (config.patience > 0 or result.interrupted) and result.best_epoch > 0
    return float(history[result.best_epoch - 1][metric] if restored else history[-1][metric])
