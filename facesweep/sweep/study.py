"""The sweep: an Optuna study over ``Config`` fields, driven with ask/tell so every trial ends in a known state.

    summary = run_study(StudyOptions(task="emotion", trials=30))

This module opens the study and runs the workers; each job has its own module: ``options`` (what is asked and
reported), ``data`` (loaded once), ``samplers`` (pruners, the per-trial-seeded TPE), ``objective`` (train one
trial), ``design`` (which depth and which seeds next), ``scheduler`` (the worker loop: next trial, run, tell).

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
import threading
import time
from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.trial import TrialState

from facesweep import __version__
from facesweep.errors import FacesweepError, UsageError
from facesweep.io.dataset import Dataset
from facesweep.model.config import config_for_task
from facesweep.sweep import artifacts, design, schema
from facesweep.sweep.data import load_study_data
from facesweep.sweep.design import Plan, depth_values
from facesweep.sweep.objective import Objective, TrainFn
from facesweep.sweep.options import StudyOptions, StudySummary, check_options
from facesweep.sweep.progress import Reporter, StateReporter, SweepState
from facesweep.sweep.samplers import TrialSeededTPE, make_pruner
from facesweep.sweep.scheduler import Counts, SaveFn, next_trial, run_threads, run_trial
from facesweep.sweep.space import SearchSpace, default_space
from facesweep.sweep.storage import fail_stale, open_storage, redact

__all__ = ["StudyOptions", "StudySummary", "load_study_data", "run_study"]  # the rest: options, objective,
#                                                      samplers, data, scheduler (one module a job)


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

    check_options(options)
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
    claim_study(study, options, dataset, space, plan, space.max_epochs(base))
    plan = dataclasses.replace(plan, replicate_epochs=schema.study_replicate_epochs(study.user_attrs))
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
            say(f"--jobs {options.jobs} on a CPU: the trials share the cores (about 1.2x the trials an hour of "
                "--jobs 1 on a 2-core machine), and their order, so the sampler's choices, varies run to run")

    reporter = reporter or StateReporter()
    state = SweepState(name, options.metric, options.trials, finished_before=finished_before)
    best_before = artifacts.best_kept(before)
    state.observe_best(best_before.number if best_before else None, best_before.value if best_before else None)
    stop = threading.Event()
    objective = Objective(dataset, base, space, options.metric, train_fn=train_fn, reporter=reporter, stop=stop)
    counts = Counts()
    folder = artifacts.study_dir(workdir, name)
    deadline = None if options.timeout is None else time.monotonic() + options.timeout

    def worker(study: optuna.Study) -> None:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            trial = next_trial(study, plan, stop, deadline)
            if trial is None:
                return
            replicate = schema.role_of(trial.user_attrs) == schema.ROLE_REPLICATE
            counts.add(run_trial(study, storage, trial, objective, reporter, save_fn, folder, options, state),
                       replicate)  # fmt: skip

    reporter.start(state)
    try:
        if options.jobs <= 1:
            worker(study)
        else:
            run_threads(worker, new_study, options.jobs, stop)
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
    answers = design.replicate_answers(trials, plan)
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
        lead=[answers.complexity.headline, answers.epochs.headline] if answers is not None else [],
        decided=answers.decided if answers is not None else None,
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



def claim_study(
    study: optuna.Study, options: StudyOptions, dataset: Dataset, space: SearchSpace, plan: Plan,
    replicate_epochs: int | None = None,
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
        if replicate_epochs is not None:  # set once, at creation: a resumed study keeps the epochs it began with
            study.set_user_attr(schema.REPLICATE_EPOCHS, int(replicate_epochs))
    study.set_user_attr(schema.REPLICATES, plan.replicates)  # the latest run's first round: what the report expects
    study.set_user_attr(schema.SEED_PLAN, plan.seeds.to_dict() if plan.seeds is not None else None)
    study.set_user_attr(schema.DEPTHS, list(plan.depths))
