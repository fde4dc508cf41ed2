"""The worker loop's parts: which trial to run next (``next_trial``: search rounds, then seed rounds, every decision
read from storage so workers agree), running one asked trial to a final state (``run_trial``), telling, and the
``--jobs`` threads. Ctrl-C: the running trial is told FAIL (attributes kept), then KeyboardInterrupt propagates.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from facesweep.errors import FacesweepError
from facesweep.sweep import artifacts, design, schema
from facesweep.sweep.design import Plan, next_round, replicate_slots, surplus_reason
from facesweep.sweep.objective import Objective, StopRequested
from facesweep.sweep.options import StudyOptions
from facesweep.sweep.progress import Reporter, SweepState
from facesweep.sweep.schema import CURVE_KEYS
from facesweep.sweep.storage import Heartbeat, fail_stale

TAKEN_OVER = "taken over: another worker failed it as stale"  # a late heartbeat; the slot is redone
POLL_SECONDS = 1.0  # how often an idle worker re-reads storage while others finish the last trials
SaveFn = Callable[..., Any]  # save_model's signature: (path, model, history, extra) -> Path

class Counts:
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



# One ask at a time in this process. Claiming an enqueued trial is read-then-write in Optuna's RDB storage (its
# row lock is a no-op on SQLite), so two threads (--jobs 2) could both pop the same waiting trial and run it
# twice; seen once in a clean-clone test run. Across processes PostgreSQL's row lock does hold.
_ASK_LOCK = threading.Lock()


def _ask(study: optuna.Study) -> optuna.Trial:
    with _ASK_LOCK, warnings.catch_warnings():  # we beat ourselves (Heartbeat); Optuna only knows optimize() does
        warnings.filterwarnings("ignore", message="Heartbeat of storage")
        return study.ask()


def next_trial(study: optuna.Study, plan: Plan, stop: threading.Event, deadline: float | None) -> optuna.Trial | None:
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
            tell_failed(study, trial, reason)
            continue
        if schema.ROLE not in trial.user_attrs:
            trial.set_user_attr(schema.ROLE, schema.ROLE_SEARCH)
        return trial
    return None



def trial_id(storage: optuna.storages.BaseStorage, study: optuna.Study, trial: optuna.Trial) -> int:
    """A trial's storage id through public storage API (``Trial.trial_id`` is private)."""
    return storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name(study.study_name),
                                                           trial.number)  # fmt: skip


def run_trial(
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
        tell_failed(study, trial, reason)
        reporter.trial_finished(trial.number, "FAIL", None, label)
        return TrialState.FAIL

    def taken_over() -> TrialState:
        # Another worker failed this trial as stale (its heartbeats reached storage late: a starved or paused
        # process) and the study redoes its slot; drop this run's result instead of writing into a finished trial.
        reporter.trial_finished(trial.number, "FAIL", None, TAKEN_OVER)
        return TrialState.FAIL

    with Heartbeat(storage, trial_id(storage, study, trial)):
        try:
            outcome = objective.run(trial)
        except optuna.TrialPruned as exc:
            study.tell(trial, state=TrialState.PRUNED)
            reporter.trial_finished(trial.number, "PRUNED", None, str(exc).split(":")[0])
            count_elsewhere(state, study.get_trials(deepcopy=False))
            return TrialState.PRUNED
        except FacesweepError as exc:  # TrainingDiverged, a bad config: this trial fails, the study goes on
            return failed(f"{type(exc).__name__}: {exc}", type(exc).__name__)
        except StopRequested:
            return failed("interrupted", "interrupted")
        except UpdateFinishedTrialError:
            return taken_over()
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
        except UpdateFinishedTrialError:
            return taken_over()
        except BaseException:
            tell_failed(study, trial, "interrupted while saving")
            raise
    reporter.trial_finished(trial.number, "COMPLETE", value)
    with artifacts.locked(folder):
        trials = study.get_trials(deepcopy=False)
        artifacts.retain_top_k(folder, trials, options.keep)
        artifacts.update_best(folder, artifacts.best_kept(trials), options.metric)
    count_elsewhere(state, trials)
    return TrialState.COMPLETE


def count_elsewhere(state: SweepState, trials: Sequence[optuna.trial.FrozenTrial]) -> None:
    """Search trials other workers finished during this run, for the progress header and the ETA."""
    finished = design.finished_search(trials)
    with state.lock:
        state.finished_elsewhere = max(0, finished - state.finished_before - state.finished_here)


def tell_failed(study: optuna.Study, trial: optuna.Trial, reason: str) -> None:
    """Record why and tell FAIL, keeping the curve; never mask the exception that got us here."""
    try:
        trial.set_user_attr(schema.ERROR, reason)
        study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
    except Exception as exc:  # storage gone: the heartbeat will fail the trial later
        warnings.warn(f"could not mark trial {trial.number} failed: {exc}", stacklevel=2)



def run_threads(
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
