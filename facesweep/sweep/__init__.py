"""Optuna sweeps over ``Config`` fields: search space, storage, the study loop, artifacts and progress.

    from facesweep.sweep import StudyOptions, run_study
    summary = run_study(StudyOptions(task="emotion", trials=30))

Modules: ``space`` (what is sampled; TOML overrides), ``storage`` (SQLite/PostgreSQL, heartbeat, ``redact``),
``study`` (``run_study``, ``Objective``), ``artifacts`` (top-k models, ``best``, ``best_model_dir``),
``progress`` (rich view as a pure function of state).
"""

from facesweep.sweep.artifacts import best_model_dir
from facesweep.sweep.objective import Objective
from facesweep.sweep.options import StudyOptions, StudySummary
from facesweep.sweep.space import SearchSpace, default_space, load_space, suggest_config
from facesweep.sweep.storage import redact
from facesweep.sweep.study import run_study

__all__ = [
    "Objective",
    "SearchSpace",
    "StudyOptions",
    "StudySummary",
    "best_model_dir",
    "default_space",
    "load_space",
    "redact",
    "run_study",
    "suggest_config",
]
