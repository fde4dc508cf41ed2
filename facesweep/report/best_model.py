"""The best trial's model on the validation split (or a ``--test`` folder): confusion matrix and per-class scores.

    from facesweep.report.best_model import evaluate_best
    evaluation = evaluate_best(report, test="~/fer2013/test")   # loads the artifact, predicts, scores

Loading goes through the shared pieces only: ``facesweep.model.artifacts.load_model``,
``facesweep.io.load_dataset`` and ``facesweep.model.metrics.classification_metrics``. They are imported when
called (the report's analysis must not pay for jax), and tests may pass stand-ins. A missing artifact is not an
error: the section says why it was skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facesweep.errors import FacesweepError

PREDICT_BATCH = 512  # images per predict call; bounds host memory on a full test folder


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
    macro_f1: float | None = None
    per_class: list[dict[str, Any]] = field(default_factory=list)  # {class, name, precision, recall, f1, support}
    confusion_matrix: list[list[int]] = field(default_factory=list)  # rows true, columns predicted
    skipped: str | None = None  # the reason this section has no numbers


def skipped(trial: int | None, artifact: str | None, reason: str) -> BestModelEvaluation:
    return BestModelEvaluation(trial, artifact, None, None, skipped=reason)


def evaluation_from_metrics(
    trial: int | None, artifact: str | None, split: str, source: str | None, classes: list[str],
    metrics: dict[str, Any],
) -> BestModelEvaluation:  # fmt: skip
    """Wrap ``classification_metrics`` output (class indices gain their names)."""
    per_class = [dict(row, name=classes[int(row["class"])]) for row in metrics["per_class"]]
    return BestModelEvaluation(
        trial=trial,
        artifact=artifact,
        split=split,
        source=source,
        classes=list(classes),
        n=int(metrics.get("n", int(np.sum(metrics["confusion_matrix"])))),
        accuracy=float(metrics["accuracy"]),
        macro_f1=float(metrics["macro_f1"]),
        per_class=per_class,
        confusion_matrix=[[int(v) for v in row] for row in metrics["confusion_matrix"]],
    )


def evaluate_best(
    report: Any,
    *,
    test: str | Path | None = None,
    load_model: Callable[[str | Path], Any] | None = None,
    load_dataset: Callable[..., Any] | None = None,
    classification_metrics: Callable[..., dict[str, Any]] | None = None,
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
        if classification_metrics is None:
            from facesweep.model.metrics import classification_metrics
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
        predicted = np.concatenate(
            [
                np.asarray(model.predict(split.images[i : i + PREDICT_BATCH])).argmax(-1)
                for i in range(0, len(split.labels), PREDICT_BATCH)
            ]
        )
        classes = list(getattr(model, "classes", None) or dataset.classes)
        metrics = classification_metrics(split.labels, predicted, len(classes))
    except FacesweepError as exc:
        return skipped(best.number, artifact, f"could not evaluate the best model: {exc}")
    source = getattr(dataset, "source", None)
    if test is None and report.data is None:
        source = f"{source}, default size: the study may have drawn another size"  # synthetic size is not stored
    return evaluation_from_metrics(
        best.number, artifact, "test" if test is not None else "val", source, classes, metrics
    )
