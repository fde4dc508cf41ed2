"""One evaluation of a trained model on one split: what ``facesweep evaluate`` and the report's best-model section call.

    from facesweep.io import load_dataset
    from facesweep.model.artifacts import load_model
    from facesweep.model.evaluate import evaluate

    model = load_model("pretrained:gender")
    data = load_dataset("gender", "~/faces", whole=True, image_size=96, channels=3)
    result = evaluate(model, data.splits["test"], skipped=data.skipped)
    result.accuracy, result.macro_f1, result.macro_f1_present, result.to_dict()

Flip TTA follows the model's own default (``TrainedModel.tta``, stored in its config.json) unless ``tta`` says
otherwise, so the CLI and the report score a model the same way. Metrics come from
``facesweep.model.metrics`` (the one implementation); ``macro_f1`` follows its convention (classes with any true
or predicted image), ``macro_f1_present`` averages only the classes present in the data, which is what a reader
of a set without, say, ``neutral`` usually expects. Both are reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PREDICT_BATCH = 512  # images per predict call: bounds the probabilities held at once on a large folder


@dataclass(frozen=True)
class Evaluation:
    """Scores of one model on one split; ``to_dict()`` is ``facesweep evaluate --json``'s core."""

    classes: tuple[str, ...]  # label i means classes[i]
    n: int  # images scored
    accuracy: float
    macro_f1: float  # over classes with any true or predicted image (facesweep.model.metrics convention)
    macro_f1_present: float  # over the classes present in the data only
    per_class: list[dict[str, Any]]  # {class, name, precision, recall, f1, support}
    confusion_matrix: list[list[int]]  # rows true, columns predicted
    loss: float  # mean cross-entropy of the (TTA-averaged) probabilities
    tta: bool  # whether flip TTA was used
    seconds: float = 0.0  # predict + scoring time
    skipped: tuple[str, ...] = ()  # files of the dataset that could not be decoded (not scored)
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32), repr=False)  # y_true (N,)
    predicted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32), repr=False)  # argmax (N,)

    @property
    def present(self) -> list[str]:
        """Names of the classes with at least one image in the data."""
        return [row["name"] for row in self.per_class if row["support"] > 0]

    @property
    def correct(self) -> np.ndarray:
        """``bool (N,)``: which images were classified right (for per-group breakdowns)."""
        return self.labels == self.predicted

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: the keys ``evaluate --json`` has always had, plus ``macro_f1_present``, ``present_classes``
        and ``skipped`` (``{"count", "files"}``)."""
        return {
            "classes": list(self.classes),
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "macro_f1_present": self.macro_f1_present,
            "present_classes": self.present,
            "per_class": self.per_class,
            "confusion_matrix": self.confusion_matrix,
            "loss": self.loss,
            "tta": self.tta,
            "seconds": round(self.seconds, 3),
            "skipped": {"count": len(self.skipped), "files": list(self.skipped)},
        }


def predict_probs(model: Any, images: np.ndarray, *, tta: bool | None = None, batch_size: int = PREDICT_BATCH
                  ) -> np.ndarray:  # fmt: skip
    """``float32 (N, K)`` probabilities in chunks of ``batch_size``; ``tta=None`` leaves the model's default."""
    kwargs = {} if tta is None else {"tta": tta}  # stand-ins in tests may take no tta argument
    chunks = [
        np.asarray(model.predict(images[i : i + batch_size], **kwargs)) for i in range(0, len(images), batch_size)
    ]
    if not chunks:
        return np.zeros((0, len(model.classes)), np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)


def evaluate(
    model: Any,
    split: Any,
    *,
    tta: bool | None = None,
    batch_size: int = PREDICT_BATCH,
    skipped: tuple[str, ...] | list[str] = (),
) -> Evaluation:
    """Score ``model`` (a ``TrainedModel`` or anything with ``classes`` and ``predict``) on ``split`` (``images``
    uint8 (N, H, W, C), ``labels`` int32 (N,)). ``skipped`` (the dataset's unreadable files) is passed through."""
    from facesweep.model.metrics import classification_metrics  # jax: imported when scoring, not on import

    start = time.perf_counter()
    classes = tuple(model.classes)
    labels = np.asarray(split.labels, dtype=np.int32)
    probs = predict_probs(model, split.images, tta=tta, batch_size=batch_size)
    predicted = probs.argmax(axis=1).astype(np.int32) if len(labels) else np.zeros(0, np.int32)
    metrics = classification_metrics(labels, predicted, len(classes))
    per_class = [dict(row, name=classes[int(row["class"])]) for row in metrics["per_class"]]
    present = [row["f1"] for row in per_class if row["support"] > 0]
    picked = probs[np.arange(len(labels)), labels] if len(labels) else np.zeros(0)
    loss = float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0)))) if len(labels) else 0.0
    return Evaluation(
        classes=classes,
        n=int(metrics["n"]),
        accuracy=float(metrics["accuracy"]),
        macro_f1=float(metrics["macro_f1"]),
        macro_f1_present=float(np.mean(present)) if present else 0.0,
        per_class=per_class,
        confusion_matrix=[[int(v) for v in row] for row in metrics["confusion_matrix"]],
        loss=loss,
        tta=bool(getattr(model, "tta", False) if tta is None else tta),
        seconds=time.perf_counter() - start,
        skipped=tuple(skipped),
        labels=labels,
        predicted=predicted,
    )
