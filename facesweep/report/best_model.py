"""The best trial's model on the validation split (or a ``--test`` folder): confusion matrix and per-class scores.

    from facesweep.report.best_model import evaluate_best
    evaluation = evaluate_best(report, test="~/fer2013/test")   # loads the artifact, predicts, scores

Scoring is ``facesweep.model.evaluate.evaluate``, the same function ``facesweep evaluate`` calls (the model's own
TTA default, the same batching and metrics), so the report and the CLI give the same numbers for the same model
and data. Loading goes through ``facesweep.model.artifacts.load_model`` and ``facesweep.io.load_dataset``. All
three are imported when called (the report's analysis must not pay for jax), and tests may pass stand-ins for the
loaders. A missing artifact is not an error: the section says why it was skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from facesweep.errors import FacesweepError
from facesweep.report.tables import CONFUSION_TITLE, TableDoc, confusion_table, fmt, per_class_table


@dataclass(frozen=True)
class BestModelEvaluation:
    """Scores of the best trial's model, or why there are none (``skipped``)."""

    trial: int | None
    artifact: str | None
    split: str | None  # "val" or "test"
    source: str | None  # what load_dataset read ("synthetic ...", "folders ~/fer2013/test", ...)
    classes: list[str] = field(default_factory=list)
    n: int = 0
    accuracy: float | None = None
    macro_f1: float | None = None  # over classes with any true or predicted image
    per_class: list[dict[str, Any]] = field(default_factory=list)  # {class, name, precision, recall, f1, support}
    confusion_matrix: list[list[int]] = field(default_factory=list)  # rows true, columns predicted
    skipped: str | None = None  # the reason this section has no numbers
    macro_f1_present: float | None = None  # over the classes present in the data only
    loss: float | None = None  # mean cross-entropy
    tta: bool | None = None  # whether flip TTA was used (the model's own default)


def skipped(trial: int | None, artifact: str | None, reason: str) -> BestModelEvaluation:
    return BestModelEvaluation(trial, artifact, None, None, skipped=reason)


def from_evaluation(
    trial: int | None, artifact: str | None, split: str, source: str | None, evaluation: Any
) -> BestModelEvaluation:
    """Wrap a ``facesweep.model.evaluate.Evaluation``."""
    return BestModelEvaluation(
        trial=trial,
        artifact=artifact,
        split=split,
        source=source,
        classes=list(evaluation.classes),
        n=evaluation.n,
        accuracy=evaluation.accuracy,
        macro_f1=evaluation.macro_f1,
        per_class=evaluation.per_class,
        confusion_matrix=evaluation.confusion_matrix,
        macro_f1_present=evaluation.macro_f1_present,
        loss=evaluation.loss,
        tta=evaluation.tta,
    )


def evaluate_best(
    report: Any,
    *,
    test: str | Path | None = None,
    load_model: Callable[[str | Path], Any] | None = None,
    load_dataset: Callable[..., Any] | None = None,
) -> BestModelEvaluation:
    """Score the best trial of ``report`` (a ``StudyReport``) on its validation split, or on ``test``.

    The validation split is rebuilt from the study's ``data`` attribute with ``load_dataset``'s defaults (the same
    call the sweep makes). ``FacesweepError``s from loading (missing data, a truncated artifact) become a skip
    reason, so the rest of the report still prints.
    """
    best = report.summary.best
    if best is None:
        return skipped(None, None, "no completed trial, so no best model")
    artifact = best.artifact
    if not artifact:
        return skipped(best.number, None, f"trial {best.number} kept no model artifact (no 'artifact' attribute)")
    if not Path(artifact).is_dir():
        return skipped(best.number, artifact, f"the artifact of trial {best.number} is missing: {artifact}")
    try:
        if load_model is None:
            from facesweep.model.artifacts import load_model
        if load_dataset is None:
            from facesweep.io import load_dataset
        from facesweep.model.evaluate import evaluate
    except ImportError as exc:
        return skipped(best.number, artifact, f"the training engine is not available ({exc})")

    try:
        model = load_model(artifact)
        config = model.config
        task = report.task or getattr(config, "task", "emotion")
        size, channels = getattr(config, "image_size", None), getattr(config, "channels", None)
        if test is not None:
            dataset = load_dataset(task, test, whole=True, image_size=size, channels=channels)
            split_name = "test" if "test" in dataset.splits else next(iter(dataset.splits))
        else:
            dataset = load_dataset(task, report.data, image_size=size, channels=channels)
            split_name = "val"
        split = dataset.splits[split_name]
        if len(split.labels) == 0:
            return skipped(best.number, artifact, f"the {split_name} split is empty")
        evaluation = evaluate(model, split, skipped=getattr(dataset, "skipped", ()))
    except FacesweepError as exc:
        return skipped(best.number, artifact, f"could not evaluate the best model: {exc}")
    source = getattr(dataset, "source", None)
    if test is None and report.data is None:
        source = f"{source}, default size: the study may have drawn another size"  # synthetic size is not stored
    return from_evaluation(best.number, artifact, "test" if test is not None else "val", source, evaluation)


def best_model_headline(ev: BestModelEvaluation) -> str:
    """One line for the terminal view and report.md: trial, split, n, accuracy and macro-F1 (also over the
    classes present, when some class has no image)."""
    present = sum(1 for row in ev.per_class if row["support"] > 0)
    macro = f"macro-F1 {fmt(ev.macro_f1)}"
    if ev.macro_f1_present is not None and present < len(ev.classes):
        macro += f" ({fmt(ev.macro_f1_present)} over the {present} class(es) present)"
    tta = " with flip TTA" if ev.tta else ""
    return f"trial #{ev.trial} on {ev.split} ({ev.source}){tta}: n = {ev.n:,}, accuracy {fmt(ev.accuracy)}, {macro}"


def best_model_tables(ev: BestModelEvaluation) -> tuple[TableDoc, TableDoc]:
    """The confusion matrix and per-class documents (``facesweep.report.tables``) of a scored evaluation."""
    cm = confusion_table(ev.classes, ev.confusion_matrix, title=f"{CONFUSION_TITLE}, {ev.split} split")
    return cm, per_class_table(ev.per_class)
