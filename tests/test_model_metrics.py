"""Metrics against hand-computed values, including classes that are never predicted or absent."""

from __future__ import annotations

import numpy as np
import pytest

from facesweep.model.metrics import classification_metrics, confusion_matrix, softmax_cross_entropy

# y_true 0 0 1 1 2 2 / y_pred 0 1 1 1 0 0 -> rows true, columns predicted:
#   [[1, 1, 0],      class 0: P = 1/3, R = 1/2, F1 = 0.4
#    [0, 2, 0],      class 1: P = 2/3, R = 1,   F1 = 0.8
#    [2, 0, 0]]      class 2: never predicted: P = R = F1 = 0, still counted -> macro-F1 = (0.4 + 0.8 + 0) / 3
Y_TRUE = [0, 0, 1, 1, 2, 2]
Y_PRED = [0, 1, 1, 1, 0, 0]


def test_hand_computed_case() -> None:
    m = classification_metrics(Y_TRUE, Y_PRED, 3)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [2, 0, 0]]
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["n"] == 6
    expected = [(1 / 3, 1 / 2, 0.4, 2), (2 / 3, 1.0, 0.8, 2), (0.0, 0.0, 0.0, 2)]
    for row, (p, r, f1, support) in zip(m["per_class"], expected, strict=True):
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx((p, r, f1, support))
    assert m["macro_f1"] == pytest.approx(0.4)


def test_class_absent_and_never_predicted_is_left_out_of_the_mean() -> None:
    m = classification_metrics(Y_TRUE, Y_PRED, 4)  # class 3: no true samples, no predictions
    assert m["per_class"][3] == {"class": 3, "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["macro_f1"] == pytest.approx(0.4)


def test_class_absent_but_predicted_counts_as_zero() -> None:
    m = classification_metrics([0, 0, 1, 1], [0, 0, 1, 2], 3)
    # class 0: F1 1; class 1: P 1, R 1/2, F1 2/3; class 2: predicted once, never true -> F1 0, counted
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)


def test_accuracy_and_macro_f1_agree_on_a_balanced_perfect_and_a_majority_guess() -> None:
    assert classification_metrics([0, 1, 2], [0, 1, 2], 3)["macro_f1"] == 1.0
    # Always predicting class 0 on 60/20/20 data: accuracy 0.6, class 0 F1 = 2*0.6*1/1.6 = 0.75, others 0.
    y_true = [0] * 6 + [1] * 2 + [2] * 2
    m = classification_metrics(y_true, [0] * 10, 3)
    assert m["accuracy"] == pytest.approx(0.6) and m["macro_f1"] == pytest.approx(0.75 / 3)


def test_confusion_matrix_rejects_bad_labels() -> None:
    with pytest.raises(ValueError, match="outside 0..2"):
        confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="differ in length"):
        confusion_matrix([0, 1], [0], 3)
    assert classification_metrics([], [], 3)["macro_f1"] == 0.0


def test_cross_entropy_hand_values() -> None:
    logits = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]], np.float32))
    loss = np.asarray(softmax_cross_entropy(logits, np.array([0, 1])))
    np.testing.assert_allclose(loss, [-np.log(0.5), -np.log(0.8)], rtol=1e-6)
    smoothed = np.asarray(softmax_cross_entropy(logits, np.array([0, 1]), label_smoothing=0.3))
    target = np.array([0.8, 0.1, 0.1])  # 0.7 * one_hot + 0.3 / 3
    np.testing.assert_allclose(smoothed[0], -(target * logits[0]).sum(), rtol=1e-6)
