"""Build reports from an Optuna storage and write them out: what ``facesweep report`` calls.

    from facesweep.report.build import build_reports, write_outputs
    reports = build_reports("sqlite:///facesweep.db")            # every study, best model scored on val
    write_outputs(reports, Path("report/"), storage="sqlite:///facesweep.db")

Errors are ``StorageError`` (nothing to read, or no such study) with one line that never shows a password.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

from facesweep.errors import StorageError
from facesweep.report.analysis import N_BOOT, SEED, StudyReport, analyze_study
from facesweep.report.best_model import evaluate_best
from facesweep.report.markdown import render_markdown
from facesweep.report.plots import write_plots


def open_existing_storage(url: str):  # -> optuna.storages.BaseStorage
    """Open ``url`` read-only in spirit: a SQLite file that does not exist is an error, never created."""
    from facesweep.sweep.storage import open_storage, redact, sqlite_path

    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise StorageError(f"no study database at {path} (run 'facesweep study' first, or pass --storage URL)")
    if url.startswith("sqlite:///:memory:") or url == "sqlite://":
        raise StorageError(f"storage {redact(url)} is in memory and holds no study")
    return open_storage(url, heartbeat=None)


def load_studies(url: str, names: Sequence[str] | None = None) -> list:  # -> list[optuna.Study]
    """The studies named (all in the storage by default), in storage order; ``StorageError`` when none."""
    import optuna

    from facesweep.sweep.storage import redact

    storage = open_existing_storage(url)
    try:
        available = [s.study_name for s in storage.get_all_studies()]
    except Exception as exc:  # a database that is not an Optuna storage, a lost connection
        text = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise StorageError(f"cannot read studies from {redact(url)}: {text.replace(url, redact(url))[:200]}") from None
    if not available:
        raise StorageError(f"no study in {redact(url)} (run 'facesweep study' first)")
    wanted = list(dict.fromkeys(names or available))
    missing = [n for n in wanted if n not in available]
    if missing:
        raise StorageError(
            f"no study named {', '.join(repr(n) for n in missing)} in {redact(url)}; "
            f"studies there: {', '.join(available)}"
        )
    return [optuna.load_study(study_name=n, storage=storage) for n in wanted]


def build_reports(
    url: str,
    names: Sequence[str] | None = None,
    *,
    test: str | Path | None = None,
    evaluate: bool = True,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> list[StudyReport]:
    """Analyse each study; with ``evaluate``, score its best model on val (or ``test``) when the artifact exists."""
    reports = []
    for study in load_studies(url, names):
        trials = study.get_trials(deepcopy=False)
        report = analyze_study(study.study_name, trials, study_attrs=study.user_attrs, n_boot=n_boot, seed=seed)
        if evaluate:
            report = dataclasses.replace(report, best_model=evaluate_best(report, test=test))
        reports.append(report)
    return reports


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "study"


def write_outputs(reports: Sequence[StudyReport], out_dir: Path, *, storage: str) -> list[Path]:
    """``out_dir/report.md`` plus PNG plots (in ``out_dir`` for one study, ``out_dir/<study>/`` for several).

    ``storage`` must already be redacted. Returns the files written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    links: dict[str, dict[str, str]] = {}
    for report in reports:
        folder = out_dir if len(reports) == 1 else out_dir / slug(report.name)
        paths = write_plots(report, folder)
        written += paths.values()
        links[report.name] = {k: p.relative_to(out_dir).as_posix() for k, p in paths.items()}
    md = out_dir / "report.md"
    md.write_text(render_markdown(reports, storage=storage, plots=links), encoding="utf-8")
    return [md, *written]
