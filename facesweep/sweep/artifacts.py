"""Trial models on disk: ``WORKDIR/runs/<study>/trial-<n>/``, the top-k kept, ``best`` naming the winner.

Optuna lets a trial's user attributes change only while it runs, so a trial's ``artifact`` attribute says where
its model *was* saved; retention may delete it later. Readers check ``Path(artifact).exists()`` (as
``best_model_dir`` does). ``runs/<study>/best`` is a relative symlink to the best kept trial's folder, replaced
atomically, and ``best.json`` says the same in words (trial, value, metric, params).

Several workers (processes or machines) may share a study: ranking uses every complete trial in storage, and
each worker deletes only folders it can see; a file lock serialises retention within one workdir.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from facesweep.sweep.storage import open_storage, sqlite_path


def study_dir(workdir: str | Path, study_name: str) -> Path:
    return Path(workdir).resolve() / "runs" / study_name


def trial_dir(workdir: str | Path, study_name: str, number: int) -> Path:
    return study_dir(workdir, study_name) / f"trial-{number}"


def _ranked(trials: Sequence[FrozenTrial]) -> list[FrozenTrial]:
    """Complete trials with a saved model, best first (ties: the earlier trial)."""
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.value is not None and "artifact" in t.user_attrs]
    return sorted(done, key=lambda t: (-float(t.value), t.number))


def worth_saving(value: float, trials: Sequence[FrozenTrial], keep: int) -> bool:
    """Would a trial scoring ``value`` be among the ``keep`` best saved ones? (Saves writing models to delete.)"""
    better = sum(1 for t in _ranked(trials) if float(t.value) >= value)
    return better < keep


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder/.lock`` (workers in one workdir take turns at retention)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def retain_top_k(folder: Path, trials: Sequence[FrozenTrial], keep: int) -> list[Path]:
    """Delete saved models beyond the ``keep`` best (those this machine can see); return what was deleted."""
    deleted = []
    for trial in _ranked(trials)[keep:]:
        path = Path(trial.user_attrs["artifact"])
        if path.parent == folder and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            deleted.append(path)
    # Models of trials that never completed (killed while saving, or interrupted) are not ranked: drop them too.
    complete = {Path(t.user_attrs["artifact"]) for t in _ranked(trials)}
    for path in folder.glob("trial-*"):
        number = path.name.removeprefix("trial-")
        owner = next((t for t in trials if str(t.number) == number), None)
        if path.is_dir() and path not in complete and owner is not None and owner.state.is_finished():
            shutil.rmtree(path, ignore_errors=True)
            deleted.append(path)
    return deleted


def best_kept(trials: Sequence[FrozenTrial]) -> FrozenTrial | None:
    """The best complete trial whose model still exists here."""
    return next((t for t in _ranked(trials) if Path(t.user_attrs["artifact"]).is_dir()), None)


def update_best(folder: Path, trial: FrozenTrial | None, metric: str) -> None:
    """Point ``folder/best`` at ``trial``'s model and rewrite ``best.json`` (both replaced atomically)."""
    link, info = folder / "best", folder / "best.json"
    if trial is None:
        for path in (link, info):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return
    target = Path(trial.user_attrs["artifact"])
    tmp = folder / f".best.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(os.path.relpath(target, folder), tmp)
    os.replace(tmp, link)
    payload = {"trial": trial.number, "value": trial.value, "metric": metric, "artifact": str(target),
               "params": trial.params}
    tmp_json = folder / f".best.json.{os.getpid()}"
    tmp_json.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp_json, info)


def best_model_dir(storage: str, task: str) -> Path | None:
    """The model folder of the best complete trial (with an existing artifact) among the studies of ``task``.

    For ``facesweep live`` defaults. A SQLite file that does not exist means no sweep yet: None, nothing created.
    """
    path = sqlite_path(storage)
    if path is not None and not path.is_file():
        return None
    rdb = open_storage(storage, heartbeat=None)
    best: tuple[float, Path] | None = None
    for summary in optuna.get_all_study_summaries(rdb, include_best_trial=False):
        if summary.user_attrs.get("task") != task:
            continue
        study = optuna.load_study(study_name=summary.study_name, storage=rdb)
        trial = best_kept(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        if trial is not None and (best is None or float(trial.value) > best[0]):
            best = (float(trial.value), Path(trial.user_attrs["artifact"]))
    return None if best is None else best[1]


__all__ = ["best_model_dir", "retain_top_k", "study_dir", "trial_dir", "update_best", "worth_saving"]
