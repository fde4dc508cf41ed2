"""The sweep: an Optuna study over ``Config`` fields, driven with ask/tell so every trial ends in a known state.

    summary = run_study(StudyOptions(task="emotion", trials=30))

- Data is loaded once per study; ``Objective`` samples a config, trains it through the engine's ``on_epoch`` hook
  (which records the curve, reports each epoch and prunes) and stores the user attributes of ARCHITECTURE.md on
  every trial, complete, pruned or failed.
- ``--trials N`` means N *complete search* trials in storage, across every worker: a worker starts a trial only
  while complete + running < N, so two processes on one PostgreSQL study end with exactly N (a dead worker's trial
  is failed through the heartbeat and replaced).
- The design (``sweep/design.py``): ``balanced`` (default) enqueues each search trial's depth so every depth gets
  an equal share; ``tpe`` lets the sampler pick it. Then each depth's best configuration is re-trained with more
  seeds, as ordinary enqueued trials (stored, resumed, shared like any other): by default in rounds until every
  verdict is decided (``verdicts.sequential``: 3 seeds, +2 a round for undecided depths, at most ``--max-seeds``),
  or a fixed ``--replicates K``.
- Ctrl-C: the running trial is told FAIL (attributes kept), then KeyboardInterrupt propagates (the CLI exits 130).
  ``TrainingDiverged`` (and any other ``FacesweepError``) fails that trial alone and the study goes on.
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.trial import TrialState

from facesweep import __version__
from facesweep.errors import FacesweepError, UsageError
from facesweep.io.dataset import Dataset, Split
from facesweep.model.config import Config, config_for_task
from facesweep.sweep import artifacts, design, schema
from facesweep.sweep.design import DepthMedianPruner, Plan, depth_values, next_round, replicate_slots, surplus_reason
from facesweep.sweep.progress import Reporter, StateReporter, SweepState
from facesweep.sweep.schema import CURVE_KEYS, DESIGNS
from facesweep.sweep.space import SearchSpace, default_space, suggest_config
from facesweep.sweep.storage import DEFAULT_HEARTBEAT, Heartbeat, default_storage_url, fail_stale, open_storage, redact
from facesweep.verdicts.rules import MIN_EFFECT
from facesweep.verdicts.sequential import DEFAULT_MAX_SEEDS, DEFAULT_START, SeedPlan

METRICS = ("val_accuracy", "val_macro_f1")
PRUNERS = ("auto", "depth-median", "hyperband", "median", "none")
# The default synthetic sweep trains on this many of the 7000 synthetic train images (val stays whole) so that
# `facesweep study --trials 30`, replicates included, fits in about ten minutes on a 2-core CPU.
SYNTHETIC_TRAIN_LIMIT = 1000
POLL_SECONDS = 1.0  # how often an idle worker re-reads storage while others finish the last trials

TrainFn = Callable[..., Any]  # train_and_evaluate's signature: (config, data, *, on_epoch, on_step) -> TrainResult
SaveFn = Callable[..., Any]  # save_model's signature: (path, model, history, extra) -> Path


@dataclass(frozen=True)
class StudyOptions:
    task: str = "emotion"  # "emotion" | "gender"
    data: str | None = None  # dataset path; None = the embedded synthetic set
    trials: int = 30  # search trials wanted in storage, in total: complete + pruned (failed ones are re-run)
    timeout: float | None = None  # seconds after which this worker starts no new trial
    storage: str | None = None  # Optuna storage URL; None = sqlite:///<workdir>/facesweep.db
    study_name: str | None = None  # None = "<task>-<data name>", e.g. emotion-synthetic
    metric: str = "val_accuracy"  # "val_accuracy" | "val_macro_f1"; maximized
    pruner: str = "auto"  # "auto" (depth-median for balanced, hyperband for tpe) | "depth-median" | "hyperband" |
    #                       "median" | "none"
    design: str = "balanced"  # "balanced": depth assigned in equal shares | "tpe": the sampler picks it
    replicates: int | None = None  # a fixed K seeds per depth's best config; None = seeds until decided (balanced),
    #                                0 (tpe)
    max_seeds: int = DEFAULT_MAX_SEEDS  # seeds per depth at most, seeds until decided
    min_effect: float = MIN_EFFECT  # metric units: the smallest difference worth having (the no-gain band)
    space: SearchSpace | None = None  # None = default_space(task, data size)
    seed: int = 0  # sampler seed (per trial: seed and trial number) and Config.seed
    workdir: Path = Path(".")  # holds facesweep.db and runs/<study>/
    keep: int = 5  # models kept on disk (top-k by metric)
    jobs: int = 1  # trials at once in this process (threads); pays on a GPU, not a CPU
    heartbeat: int = DEFAULT_HEARTBEAT  # seconds between heartbeats; a trial is stale after 3 missed
    synthetic_size: tuple[int, int] | None = None  # (n_train, n_val) of the synthetic set; None = the default
    train_limit: int | None = -1  # train on at most this many images (fixed seeded subset); None = all,
    #                               -1 = SYNTHETIC_TRAIN_LIMIT for the default synthetic set, all for real data

    def resolved_storage(self) -> str:
        return self.storage or default_storage_url(self.workdir)

    def resolved_name(self) -> str:
        return self.study_name or default_study_name(self.task, self.data)

    def resolved_pruner(self) -> str:
        if self.pruner != "auto":
            return self.pruner
        return "depth-median" if self.design == schema.DESIGN_BALANCED else "hyperband"

    def resolved_seed_plan(self) -> SeedPlan | None:
        """The fixed ``--replicates K``, seeds until decided (balanced default), or None (no replicates)."""
        if self.replicates is not None:
            return SeedPlan.fixed(self.replicates, self.min_effect) if self.replicates > 0 else None
        if self.design != schema.DESIGN_BALANCED:
            return None
        return SeedPlan(max_seeds=self.max_seeds, min_effect=self.min_effect)


@dataclass
class StudySummary:
    study_name: str
    storage: str  # redacted
    task: str
    metric: str
    target: int  # search trials wanted (complete + pruned)
    complete: int  # complete search trials in storage (replicates not counted)
    pruned: int
    failed: int  # trials that gave way to another worker's ("surplus", never trained) not counted
    run_complete: int  # search trials finished by this worker in this run
    run_pruned: int
    run_failed: int
    design: str  # "balanced" | "tpe"
    complete_by_depth: dict[int, int]  # complete search trials per depth
    replicates: int  # seeds per depth's best configuration in the first round (0: none)
    replicates_target: int  # seeds planned over the depths with a complete search trial (grows by rounds)
    replicates_complete: int  # complete replicates of those sources in storage
    run_replicates: int  # replicates completed by this worker in this run
    best: dict | None  # number, value, params, artifact
    best_dir: str | None  # runs/<study>/best when it exists
    wall_seconds: float
    data_seconds: float  # loading the data, once
    train_seconds: float  # inside train calls (compile + epochs) of this worker's trials
    messages: list[str] = field(default_factory=list)

    @property
    def overhead_seconds(self) -> float:
        """Sweep overhead: storage, sampling, reporting, artifacts (wall minus data loading and training)."""
        return max(0.0, self.wall_seconds - self.data_seconds - self.train_seconds)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["overhead_seconds"] = round(self.overhead_seconds, 3)
        out["overhead_fraction"] = round(self.overhead_seconds / self.wall_seconds, 4) if self.wall_seconds else 0.0
        for key in ("wall_seconds", "data_seconds", "train_seconds"):
            out[key] = round(out[key], 3)
        return out


def default_study_name(task: str, data: str | None) -> str:
    """``emotion-synthetic``, ``emotion-fer2013`` (from ``../shared/data/fer2013`` or ``fer2013.csv``)."""
    if data is None:
        return f"{task}-synthetic"
    path = Path(data)
    name = path.stem if path.suffix.lower() == ".csv" else path.resolve().name
    return f"{task}-" + (re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-") or "data")


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


# -- the study loop -------------------------------------------------------------------------------------------


class _Counts:
    """This worker's finished trials, search trials by state and replicates apart."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.complete = self.pruned = self.failed = self.replicates = 0

    def add(self, state: TrialState, replicate: bool) -> None:
        with self.lock:
            if replicate:
                self.replicates += state == TrialState.COMPLETE
            elif state == TrialState.COMPLETE:
                self.complete += 1
            elif state == TrialState.PRUNED:
                self.pruned += 1
            else:
                self.failed += 1


def load_study_data(options: StudyOptions) -> Dataset:
    """The dataset, loaded once for the whole study (its train split cut to ``train_limit``)."""
    if options.data is None and options.synthetic_size is not None:
        from facesweep.io.synthetic import synthetic_dataset

        n_train, n_val = options.synthetic_size
        dataset = synthetic_dataset(options.task, n_train=n_train, n_val=n_val, seed=0)
    else:
        from facesweep.io import load_dataset

        dataset = load_dataset(options.task, options.data)
    limit = options.train_limit
    if limit == -1:
        limit = SYNTHETIC_TRAIN_LIMIT if options.data is None and options.synthetic_size is None else None
    return limit_train(dataset, limit)


def limit_train(dataset: Dataset, limit: int | None, seed: int = 0) -> Dataset:
    """``dataset`` with a fixed, seeded subset of ``limit`` train images (class shares kept by the shuffle)."""
    if limit is None or limit <= 0 or limit >= len(dataset.train):
        return dataset
    keep = np.sort(np.random.default_rng(seed).permutation(len(dataset.train))[:limit])
    train = Split(dataset.train.images[keep], dataset.train.labels[keep])
    source = f"{dataset.source}, {limit} of {len(dataset.train)} train images"
    return dataclasses.replace(dataset, splits={**dataset.splits, "train": train}, source=source)


def run_study(
    options: StudyOptions,
    *,
    train_fn: TrainFn | None = None,
    save_fn: SaveFn | None = None,
    reporter: Reporter | None = None,
    notify: Callable[[str], None] | None = None,
    data: Dataset | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> StudySummary:
    """Create or resume the study; run search trials until ``options.trials`` are complete in storage, then the
    replicates (or until the timeout)."""
    started = clock()
    messages: list[str] = []

    def say(message: str) -> None:
        messages.append(message)
        if notify is not None:
            notify(message)

    _check_options(options)
    if save_fn is None:
        from facesweep.model.artifacts import save_model as save_fn
    url, name = options.resolved_storage(), options.resolved_name()
    workdir = Path(options.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    storage = open_storage(url, heartbeat=options.heartbeat)  # fail fast, before loading data

    data_start = clock()
    dataset = data if data is not None else load_study_data(options)
    data_seconds = clock() - data_start
    base = config_for_task(dataset.task, seed=options.seed, monitor=options.metric)
    space = default_space(options.task, len(dataset.train), synthetic=options.data is None)
    if options.space is not None:  # a space file names only what it changes
        space = space.merged(options.space)
    for param in space.params:  # defaults are checked too: a bad default must not surface mid-sweep
        for value in param.extremes():
            dataclasses.replace(base, **{param.name: value}).validate()
    plan = Plan.make(options.design, options.trials, depth_values(space, base), options.resolved_seed_plan(),
                     options.seed, options.metric)  # fmt: skip
    pruner = options.resolved_pruner()
    if plan.balanced and pruner in ("hyperband", "median") and len(plan.depths) > 1:
        raise UsageError(
            f"--pruner {pruner} compares trials across depths, so the shallow depths of --design balanced would be "
            "pruned again and again and never fill; use --pruner depth-median (the default) or none, or --design tpe"
        )

    def new_study() -> optuna.Study:
        return optuna.create_study(
            storage=storage,
            study_name=name,
            direction="maximize",
            load_if_exists=True,
            sampler=TrialSeededTPE(options.seed),
            pruner=make_pruner(pruner, space.max_epochs(base)),
        )

    try:
        study = new_study()
    except FacesweepError:
        raise
    except Exception as exc:
        from facesweep.errors import StorageError

        raise StorageError(f"cannot create study {name!r} in {redact(url)}: {exc}") from None
    _claim_study(study, options, dataset, space, plan)
    fail_stale(study)
    before = study.get_trials(deepcopy=False)
    finished_before = design.finished_search(before)
    if before:
        say(f"resuming study {name}: {finished_before} of {options.trials} trials done ({redact(url)})")
    else:
        say(f"new study {name} in {redact(url)}")
    if plan.balanced and min(plan.quotas.values()) < design.MIN_COMPLETE_PER_DEPTH:
        say(f"--trials {options.trials} over {len(plan.depths)} depths gives {min(plan.quotas.values())} trials at "
            f"some depth; the report wants >= {design.MIN_COMPLETE_PER_DEPTH} per depth "
            f"(--trials {design.MIN_COMPLETE_PER_DEPTH * len(plan.depths)})")  # fmt: skip
    if options.jobs > 1:
        import jax

        if jax.default_backend() == "cpu":
            say(f"--jobs {options.jobs} on a CPU: one trial at a time (--jobs 1) uses both cores best")

    reporter = reporter or StateReporter()
    state = SweepState(name, options.metric, options.trials, finished_before=finished_before)
    best_before = artifacts.best_kept(before)
    state.observe_best(best_before.number if best_before else None, best_before.value if best_before else None)
    stop = threading.Event()
    objective = Objective(dataset, base, space, options.metric, train_fn=train_fn, reporter=reporter, stop=stop)
    counts = _Counts()
    folder = artifacts.study_dir(workdir, name)
    deadline = None if options.timeout is None else time.monotonic() + options.timeout

    def worker(study: optuna.Study) -> None:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            trial = _next_trial(study, plan, stop, deadline)
            if trial is None:
                return
            replicate = schema.role_of(trial.user_attrs) == schema.ROLE_REPLICATE
            counts.add(_run_trial(study, storage, trial, objective, reporter, save_fn, folder, options, state),
                       replicate)  # fmt: skip

    reporter.start(state)
    try:
        if options.jobs <= 1:
            worker(study)
        else:
            _run_threads(worker, new_study, options.jobs, stop)
    finally:
        reporter.stop()

    trials = study.get_trials(deepcopy=False)
    best = artifacts.best_kept(trials)
    search = schema.search_trials(trials)
    by_state = {s: sum(1 for t in search if t.state == s and not schema.is_surplus(t)) for s in TrialState}
    by_depth = {d: sum(1 for t in search if t.state == TrialState.COMPLETE and schema.trial_depth(t) == d)
                for d in plan.depths}  # fmt: skip
    sources = design.best_by_depth(trials, plan.depths)
    targets = design.replicate_targets(trials, plan)
    wanted = {(t.number, s) for d, t in sources.items() for s in design.replicate_seeds(plan, targets.get(d, 0))}
    replicated = [t for t in schema.replicate_trials(trials) if t.state == TrialState.COMPLETE
                  and (schema.replicate_source(t), schema.replicate_seed(t)) in wanted]  # fmt: skip
    link = folder / "best"
    return StudySummary(
        study_name=name,
        storage=redact(url),
        task=options.task,
        metric=options.metric,
        target=options.trials,
        complete=by_state[TrialState.COMPLETE],
        pruned=by_state[TrialState.PRUNED],
        failed=by_state[TrialState.FAIL],
        run_complete=counts.complete,
        run_pruned=counts.pruned,
        run_failed=counts.failed,
        design=plan.design,
        complete_by_depth=by_depth,
        replicates=plan.replicates,
        replicates_target=len(wanted),
        replicates_complete=len(replicated),
        run_replicates=counts.replicates,
        best=None if best is None else {
            "number": best.number, "value": best.value, "params": best.params,
            "artifact": best.user_attrs.get("artifact"),
        },
        best_dir=str(link) if link.exists() else None,
        wall_seconds=clock() - started,
        data_seconds=data_seconds,
        train_seconds=objective.train_seconds,
        messages=messages,
    )


def _check_options(options: StudyOptions) -> None:
    if options.trials < 1:
        raise UsageError(f"--trials must be >= 1, got {options.trials}")
    if options.metric not in METRICS:
        raise UsageError(f"unknown metric {options.metric!r}; choose one of: {', '.join(METRICS)}")
    if options.pruner not in PRUNERS:
        raise UsageError(f"unknown pruner {options.pruner!r}; choose one of: {', '.join(PRUNERS)}")
    if options.keep < 1:
        raise UsageError(f"--keep must be >= 1 (the best model is always kept), got {options.keep}")
    if options.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {options.jobs}")
    if options.heartbeat < 1:
        raise UsageError(f"--heartbeat must be >= 1 second, got {options.heartbeat}")
    if options.timeout is not None and options.timeout <= 0:
        raise UsageError(f"--timeout must be > 0 seconds, got {options.timeout}")
    if options.design not in DESIGNS:
        raise UsageError(f"unknown design {options.design!r}; choose one of: {', '.join(DESIGNS)}")
    if options.replicates is not None and options.replicates < 0:
        raise UsageError(f"--replicates must be >= 0, got {options.replicates}")
    if options.max_seeds < DEFAULT_START:
        raise UsageError(f"--max-seeds must be >= {DEFAULT_START} (the first round), got {options.max_seeds}")
    if not 0 < options.min_effect < 1:
        raise UsageError(f"--min-effect must be between 0 and 100 points, got {100 * options.min_effect:g}")


def _claim_study(
    study: optuna.Study, options: StudyOptions, dataset: Dataset, space: SearchSpace, plan: Plan
) -> None:
    """Write the study attributes of a new study; refuse to mix tasks, metrics or designs in an existing one."""
    attrs = study.user_attrs
    made = {schema.TASK: attrs.get(schema.TASK), schema.METRIC: attrs.get(schema.METRIC)}
    if schema.TASK in attrs:  # an existing study: one made before designs existed was a TPE study
        made[schema.DESIGN] = schema.study_design(attrs)
    for key, value in ((schema.TASK, options.task), (schema.METRIC, options.metric), (schema.DESIGN, plan.design)):
        if made.get(key) is not None and made[key] != value:
            flag = f" (--design {made[key]} resumes it)" if key == schema.DESIGN else ""
            raise UsageError(
                f"study {study.study_name!r} was made with {key} {made[key]!r}, not {value!r}{flag}; "
                f"pick another --study-name"
            )
    if schema.DESIGN not in attrs:  # first: a worker that sees TASK then also sees DESIGN (new studies)
        study.set_user_attr(schema.DESIGN, plan.design)
    if schema.TASK not in attrs:
        study.set_user_attr(schema.TASK, options.task)
        study.set_user_attr(schema.METRIC, options.metric)
        study.set_user_attr(schema.DATA, options.data)
        study.set_user_attr(schema.DATA_SOURCE, dataset.source)
        study.set_user_attr(schema.FACESWEEP_VERSION, __version__)
        study.set_user_attr(schema.SPACE, space.to_dict())
    study.set_user_attr(schema.REPLICATES, plan.replicates)  # the latest run's first round: what the report expects
    study.set_user_attr(schema.SEED_PLAN, plan.seeds.to_dict() if plan.seeds is not None else None)
    study.set_user_attr(schema.DEPTHS, list(plan.depths))


# One ask at a time in this process. Claiming an enqueued trial is read-then-write in Optuna's RDB storage (its
# row lock is a no-op on SQLite), so two threads (--jobs 2) could both pop the same waiting trial and run it
# twice; seen once in a clean-clone test run. Across processes PostgreSQL's row lock does hold.
_ASK_LOCK = threading.Lock()


def _ask(study: optuna.Study) -> optuna.Trial:
    with _ASK_LOCK, warnings.catch_warnings():  # we beat ourselves (Heartbeat); Optuna only knows optimize() does
        warnings.filterwarnings("ignore", message="Heartbeat of storage")
        return study.ask()


def _next_trial(study: optuna.Study, plan: Plan, stop: threading.Event, deadline: float | None) -> optuna.Trial | None:
    """The next trial this worker should run, or None when the study has what it wants.

    Search phase (finished search trials < target): ask only while finished + running < target, after enqueueing
    a round of depths when the balanced design's queue is empty. Replicate phase: enqueue the missing replicates,
    ask, and wait while others run the last ones (they may fail and need redoing). Every decision is read from
    storage, so workers on one study agree; a trial another worker made unnecessary is told FAIL as surplus.
    """
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        fail_stale(study)
        trials = study.get_trials(deepcopy=False)
        search = schema.search_trials(trials)
        finished = design.finished_search(trials)
        running = sum(1 for t in search if t.state == TrialState.RUNNING)
        waiting = [t for t in trials if t.state == TrialState.WAITING]
        if finished < plan.target:
            if finished + running >= plan.target:  # enough running elsewhere; one may still fail
                stop.wait(POLL_SECONDS)
                continue
            if plan.balanced and not any(not schema.is_replicate(t) for t in waiting):
                depths = next_round(trials, plan)
                if not depths:  # every depth is full counting running trials; one may still fail
                    stop.wait(POLL_SECONDS)
                    continue
                for depth in depths:
                    study.enqueue_trial({"depth": depth}, user_attrs=design.search_user_attrs(depth),
                                        skip_if_exists=False)  # fmt: skip
        else:
            missing = replicate_slots(trials, plan)
            if not missing and not waiting:
                if any(t.state == TrialState.RUNNING for t in schema.replicate_trials(trials)):
                    stop.wait(POLL_SECONDS)
                    continue
                return None
            for slot in missing:
                study.enqueue_trial(slot.params(), user_attrs=slot.user_attrs(), skip_if_exists=False)
        trial = _ask(study)
        reason = surplus_reason(trial, study.get_trials(deepcopy=False), plan)
        if reason is not None:
            trial.set_user_attr(schema.CURVE, {key: [] for key in CURVE_KEYS})
            _tell_failed(study, trial, reason)
            continue
        if schema.ROLE not in trial.user_attrs:
            trial.set_user_attr(schema.ROLE, schema.ROLE_SEARCH)
        return trial
    return None


def _trial_id(storage: optuna.storages.BaseStorage, study: optuna.Study, trial: optuna.Trial) -> int:
    """A trial's storage id through public storage API (``Trial._trial_id`` is private)."""
    return storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name(study.study_name),
                                                           trial.number)  # fmt: skip


def _run_trial(
    study: optuna.Study,
    storage: optuna.storages.BaseStorage,
    trial: optuna.Trial,
    objective: Objective,
    reporter: Reporter,
    save_fn: SaveFn,
    folder: Path,
    options: StudyOptions,
    state: SweepState,
) -> TrialState:
    """Run one asked trial to a final state; Ctrl-C tells FAIL and re-raises. Replicates save no model."""
    replicate = schema.role_of(trial.user_attrs) == schema.ROLE_REPLICATE

    def failed(reason: str, label: str) -> TrialState:
        _tell_failed(study, trial, reason)
        reporter.trial_finished(trial.number, "FAIL", None, label)
        return TrialState.FAIL

    with Heartbeat(storage, _trial_id(storage, study, trial)):
        try:
            outcome = objective.run(trial)
        except optuna.TrialPruned as exc:
            study.tell(trial, state=TrialState.PRUNED)
            reporter.trial_finished(trial.number, "PRUNED", None, str(exc).split(":")[0])
            _count_elsewhere(state, study.get_trials(deepcopy=False))
            return TrialState.PRUNED
        except FacesweepError as exc:  # TrainingDiverged, a bad config: this trial fails, the study goes on
            return failed(f"{type(exc).__name__}: {exc}", type(exc).__name__)
        except StopRequested:
            return failed("interrupted", "interrupted")
        except BaseException as exc:  # Ctrl-C, or a bug: record it on the trial, then let it surface
            interrupted = isinstance(exc, KeyboardInterrupt)
            failed("interrupted" if interrupted else f"{type(exc).__name__}: {exc}",
                   "interrupted" if interrupted else type(exc).__name__)  # fmt: skip
            raise
        try:
            value = outcome.value
            if not math.isfinite(value):
                raise FacesweepError(f"{options.metric} is {value}")
            finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if not replicate and artifacts.worth_saving(value, finished, options.keep):
                path = artifacts.trial_dir(options.workdir, study.study_name, trial.number)
                extra = {"study": study.study_name, "trial": trial.number, "metric": options.metric, "value": value}
                save_fn(path, outcome.result.model, outcome.result.history, extra)
                trial.set_user_attr(schema.ARTIFACT, str(path))
            study.tell(trial, value)
        except FacesweepError as exc:  # a non-finite value, a model that could not be written
            return failed(f"{type(exc).__name__}: {exc}", type(exc).__name__)
        except BaseException:
            _tell_failed(study, trial, "interrupted while saving")
            raise
    reporter.trial_finished(trial.number, "COMPLETE", value)
    with artifacts.locked(folder):
        trials = study.get_trials(deepcopy=False)
        artifacts.retain_top_k(folder, trials, options.keep)
        artifacts.update_best(folder, artifacts.best_kept(trials), options.metric)
    _count_elsewhere(state, trials)
    return TrialState.COMPLETE


def _count_elsewhere(state: SweepState, trials: Sequence[optuna.trial.FrozenTrial]) -> None:
    """Search trials other workers finished during this run, for the progress header and the ETA."""
    finished = design.finished_search(trials)
    with state.lock:
        state.finished_elsewhere = max(0, finished - state.finished_before - state.finished_here)


def _tell_failed(study: optuna.Study, trial: optuna.Trial, reason: str) -> None:
    """Record why and tell FAIL, keeping the curve; never mask the exception that got us here."""
    try:
        trial.set_user_attr(schema.ERROR, reason)
        study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
    except Exception as exc:  # storage gone: the heartbeat will fail the trial later
        warnings.warn(f"could not mark trial {trial.number} failed: {exc}", stacklevel=2)


def _run_threads(
    worker: Callable[[optuna.Study], None], new_study: Callable[[], optuna.Study], jobs: int, stop: threading.Event
) -> None:
    """``jobs`` workers in threads, each with its own Study (own sampler); Ctrl-C stops them at the next step."""
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            worker(new_study())
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=guarded, name=f"trial-worker-{i}", daemon=True) for i in range(jobs)]
    for thread in threads:
        thread.start()
    try:
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(timeout=0.2)
    except KeyboardInterrupt:
        stop.set()
        for thread in threads:
            thread.join()
        raise
    if errors:
        raise errors[0]
