"""Classification metrics: the one implementation used by training, evaluation, the sweep and the report.

``classification_metrics(y_true, y_pred, num_classes)`` works on integer labels (never one-hot, never
probabilities) over the *whole* set at once -- averaging per-batch F1 scores, or passing scores where labels
belong, is how a model at 61% accuracy gets reported as "F1 0.18".

Conventions:
- confusion matrix rows are true classes, columns predicted classes.
- a class that is never predicted has precision 0 (0/0 -> 0), so its F1 is 0 and it *counts* in the macro mean.
- a class that is absent from ``y_true`` *and* never predicted has nothing to score: its per-class entries are
  0 with support 0, and it is *left out* of the macro mean (averaging in a 0 would punish a model for a class
  the evaluation set does not contain; sklearn with ``labels=`` would count it as 0). If no class has any
  true or predicted sample (empty input) macro-F1 is 0.
- a class absent from ``y_true`` but predicted has recall 0/0 -> 0 and precision 0, so F1 0, counted.

``softmax_cross_entropy`` is the loss shared by ``train_step`` and ``eval_step``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def softmax_cross_entropy(
    logits: jax.Array, labels: jax.Array, *, label_smoothing: float = 0.0
) -> jax.Array:
    """Per-example cross-entropy ``(N,)`` of integer ``labels`` under ``logits (N, K)``, optionally smoothed."""
    num_classes = logits.shape[-1]
    targets = jax.nn.one_hot(labels, num_classes, dtype=logits.dtype)
    if label_smoothing > 0:
        targets = targets * (1.0 - label_smoothing) + label_smoothing / num_classes
    return -jnp.sum(targets * jax.nn.log_softmax(logits, axis=-1), axis=-1)


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """``int64 (K, K)`` counts; entry ``[t, p]`` = samples of true class ``t`` predicted as ``p``."""
    y_true = np.asarray(y_true, dtype=np.int64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.shape[0]} vs {y_pred.shape[0]}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= num_classes):
            raise ValueError(f"{name} has labels outside 0..{num_classes - 1}: min {y.min()}, max {y.max()}")
    return np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes
    )


def metrics_from_confusion(cm: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class precision/recall/F1/support from a confusion matrix."""
    cm = np.asarray(cm, dtype=np.int64)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)  # true samples per class
    predicted = cm.sum(axis=0).astype(np.float64)  # predictions per class
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    scored = (support > 0) | (predicted > 0)  # classes with anything to score (see module docstring)
    total = int(cm.sum())
    return {
        "n": total,
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "macro_f1": float(f1[scored].mean()) if scored.any() else 0.0,
        "per_class": [
            {
                "class": k,
                "precision": float(precision[k]),
                "recall": float(recall[k]),
                "f1": float(f1[k]),
                "support": int(support[k]),
            }
            for k in range(cm.shape[0])
        ],
        "confusion_matrix": cm.tolist(),
    }


def classification_metrics(y_true: Any, y_pred: Any, num_classes: int) -> dict[str, Any]:
    """``accuracy``, ``macro_f1``, ``per_class`` (list of {class, precision, recall, f1, support}),
    ``confusion_matrix`` (nested lists, rows true) and ``n`` for integer labels."""
    return metrics_from_confusion(confusion_matrix(y_true, y_pred, num_classes))
