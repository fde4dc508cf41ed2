"""The study's pruners and its sampler: ``make_pruner`` (per-depth median, Hyperband over epochs, median, none)
and ``TrialSeededTPE`` (TPE reseeded per trial, so workers and resumed studies draw reproducibly).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from facesweep.errors import UsageError
from facesweep.sweep.design import DepthMedianPruner
from facesweep.sweep.options import PRUNERS


def make_pruner(name: str, max_epochs: int) -> optuna.pruners.BasePruner:
    """Hyperband over epochs (``max_resource`` = the most epochs in the space, never "auto"), median, per-depth
    median (``design.DepthMedianPruner``, the balanced design's), or none."""
    if name == "depth-median":
        return DepthMedianPruner(warmup=1 if max_epochs >= 4 else 0)
    if name == "hyperband":
        # The first epoch is the learning-rate warm-up, where every trial sits near chance: judge from epoch 2.
        min_resource = 2 if max_epochs >= 4 else 1
        return optuna.pruners.HyperbandPruner(min_resource=min_resource, max_resource=max(1, max_epochs),
                                              reduction_factor=3)  # fmt: skip
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    if name == "none":
        return optuna.pruners.NopPruner()
    raise UsageError(f"unknown pruner {name!r}; choose one of: {', '.join(PRUNERS)}")


class TrialSeededTPE(optuna.samplers.BaseSampler):
    """TPE whose randomness comes from (seed, trial number): a fresh ``TPESampler`` is made for every trial.

    Trial numbers are unique across workers, so two processes started together do not draw the same start-up
    configurations, and a resumed study draws what an uninterrupted one would have. TPE keeps no state between
    trials besides its random generator, so a fresh one per trial is TPE itself, reseeded through public API.
    """

    def __init__(self, seed: int, n_startup_trials: int = 8) -> None:
        self._base_seed, self._n_startup = seed, n_startup_trials
        self._tpe = self._make(seed)

    def _make(self, seed: int) -> optuna.samplers.TPESampler:
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=self._n_startup)

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._tpe = self._make(int(np.random.SeedSequence([self._base_seed, trial.number]).generate_state(1)[0]))
        self._tpe.before_trial(study, trial)

    def infer_relative_search_space(
        self, study: optuna.Study, trial: optuna.trial.FrozenTrial
    ) -> dict[str, optuna.distributions.BaseDistribution]:
        return self._tpe.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: optuna.Study, trial: optuna.trial.FrozenTrial,
        search_space: dict[str, optuna.distributions.BaseDistribution],
    ) -> dict[str, Any]:  # fmt: skip
        return self._tpe.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: optuna.Study, trial: optuna.trial.FrozenTrial, param_name: str,
        param_distribution: optuna.distributions.BaseDistribution,
    ) -> Any:  # fmt: skip
        return self._tpe.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self, study: optuna.Study, trial: optuna.trial.FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self._tpe.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._tpe.reseed_rng()
