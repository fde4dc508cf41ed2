"""Worst-group epoch selection (issue 19): the score is the worst group's, the engine keeps the epoch it prefers
over the mean's, and `facesweep train --select worst-group` reads groups from file names with one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from facesweep.cli import main
from facesweep.errors import DataError
from facesweep.io.dataset import Split
from facesweep.model import select as select_module
from facesweep.model.config import tiny
from facesweep.model.select import read_groups, worst_group, worst_group_scorer
from facesweep.model.train import train_and_evaluate
from facesweep.tasks import EMOTION_CLASSES
from tests.test_model_train import easy_dataset, easy_split

CLASSES = ("man", "woman")


def _two_bands() -> tuple[np.ndarray, list[dict[str, str]]]:
    """40 young (20 per class) and 20 old (10 per class) faces."""
    labels = np.array([0] * 20 + [1] * 20 + [0] * 10 + [1] * 10)
    attrs = [{"age": "18-29"}] * 40 + [{"age": "60-119"}] * 20
    return labels, attrs


def test_worst_group_is_the_lowest_class_recall_in_any_group() -> None:
    labels, attrs = _two_bands()
    predicted = labels.copy()
    predicted[40:46] = 1  # 6 of the 10 old men called women: old men recall 0.4; overall accuracy 0.9
    worst = worst_group(labels, predicted, attrs, CLASSES)
    assert (worst.attribute, worst.value, worst.cls, worst.n) == ("age", "60-119", "man", 10)
    assert worst.score == pytest.approx(0.4)
    by_accuracy = worst_group(labels, predicted, attrs, CLASSES, metric="accuracy")
    assert (by_accuracy.value, by_accuracy.cls, by_accuracy.score) == ("60-119", None, pytest.approx(0.7))
    # a class with fewer than min_group images in a group is not scored: the young groups decide
    assert worst_group(labels, predicted, attrs, CLASSES, min_group=11).score == 1.0
    with pytest.raises(DataError, match="no group has 21"):
        worst_group(labels, predicted, attrs, CLASSES, min_group=21)
    with pytest.raises(DataError, match="recall, accuracy"):
        worst_group(labels, predicted, attrs, CLASSES, metric="mean")


def test_read_groups_from_utkface_names_with_age_bands() -> None:
    paths = ["val/man/25_0_1_a.jpg", "val/woman/71_1_3_b.jpg", "val/woman/notes.jpg"]
    attrs, match = read_groups(paths, pattern=select_module.UTKFACE_PATTERN, bins={"age": select_module.AGE_EDGES})
    assert attrs == [{"age": "18-29", "race": "1"}, {"age": "60-119", "race": "3"}, {}]
    assert match.images_without_row == ["val/woman/notes.jpg"]
    with pytest.raises(DataError, match="none of the 1 validation images has a group"):
        read_groups(["val/man/face_1.jpg"], pattern=select_module.UTKFACE_PATTERN)
    with pytest.raises(DataError, match="needs an image folder"):
        read_groups(None, pattern=select_module.UTKFACE_PATTERN)
    with pytest.raises(DataError, match="no group attribute named 'year'"):
        read_groups(paths, pattern=select_module.UTKFACE_PATTERN, bins={"year": [0, 50]})


class _Scripted:
    """Stands in for TrainedModel: the n-th model built predicts the n-th scripted labels."""

    script: list[np.ndarray] = []
    built = 0

    def __init__(self, config: object, classes: tuple, variables: dict) -> None:
        self.predicted = _Scripted.script[_Scripted.built]
        _Scripted.built += 1

    def predict(self, images: np.ndarray, *, tta: bool | None = None) -> np.ndarray:
        return np.eye(2, dtype=np.float32)[self.predicted]


def test_training_keeps_the_epoch_with_the_best_worst_group_not_the_best_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    labels, attrs = _two_bands()
    good_mean, fair, bad = labels.copy(), labels.copy(), labels.copy()
    good_mean[40:47] = 1  # epoch 1: accuracy 0.883, but old men recall 0.3
    fair[40:42], fair[0:8] = 1, 1  # epoch 2: accuracy 0.833, worst recall 0.6 (young men)
    bad[:] = 0  # epoch 3: everything "man": woman recall 0
    _Scripted.script, _Scripted.built = [good_mean, fair, bad], 0
    monkeypatch.setattr(select_module, "TrainedModel", _Scripted)
    means = [float((p == labels).mean()) for p in _Scripted.script]
    assert int(np.argmax(means)) == 0  # the mean would keep epoch 1

    split = Split(np.zeros((60, 48, 48, 1), np.uint8), labels.astype(np.int32), [f"{i}.png" for i in range(60)])
    kept: dict[int, dict] = {}
    scorer = worst_group_scorer(tiny(), CLASSES, split, attrs, on_score=lambda e, w, v: kept.setdefault(e, v))
    result = train_and_evaluate(tiny(epochs=3), easy_dataset(n_train=96, n_val=32), score_epoch=scorer)
    scores = [h["select_score"] for h in result.history]
    assert scores == pytest.approx([0.3, 0.6, 0.0])
    assert result.best_epoch == 2
    np.testing.assert_array_equal(result.model.variables["params"]["logits"]["kernel"],
                                  kept[2]["params"]["logits"]["kernel"])  # fmt: skip


def test_scorer_fails_fast_when_no_group_is_big_enough() -> None:
    labels, attrs = _two_bands()
    split = Split(np.zeros((60, 48, 48, 1), np.uint8), labels.astype(np.int32), None)
    with pytest.raises(DataError, match="no group has 50"):
        worst_group_scorer(tiny(), CLASSES, split, attrs, min_group=50)


# -- the CLI ----------------------------------------------------------------------------------------------------
TINY = ["--depth", "2", "--width", "8", "--dense", "16", "--batch-size", "16", "--no-augment", "--lr", "0.003"]
UTK = r"^(?P<age>\d+)_\d_(?P<race>\d)_"


@pytest.fixture(scope="module")
def utk_folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train/ and val/ class folders whose files carry UTKFace-style AGE_GENDER_RACE_ names."""
    root = tmp_path_factory.mktemp("utk")
    for part, n, seed in (("train", 112, 0), ("val", 70, 1)):
        split = easy_split(n, seed)
        for i, (image, label) in enumerate(zip(split.images, split.labels, strict=True)):
            folder = root / part / EMOTION_CLASSES[label]
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{(20, 50, 70)[i % 3]}_0_{i % 2}_{i}.png"), image[:, :, 0])
    return root


def test_train_select_worst_group_keeps_the_epoch_with_the_best_worst_group(
    utk_folders: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["train", "--data", str(utk_folders), *TINY, "--epochs", "3", "--out", str(tmp_path / "m"), "--json",
            "--select", "worst-group", "--groups-from-name", UTK, "--bin", "age=0,30,60,120",
            "--select-metric", "accuracy"]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    scores = [h["select_score"] for h in summary["history"]]
    assert summary["select"] == "worst-group" and len(scores) == 3
    assert summary["best_epoch"] == 1 + int(np.argmax(scores))  # first of the best, by the worst group
    assert summary["worst_group"].startswith(("age=", "race=")) and "accuracy" in summary["worst_group"]


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--select", "worst-group"], 2, "needs --groups-from-name REGEX or --groups FILE.csv"),
        (["--groups-from-name", UTK], 2, "need --select worst-group"),
        (["--select", "worst-group", "--groups-from-name", r"^(?P<year>\d{4})-"], 3, "has a group from"),
        (["--select", "worst-group", "--groups-from-name", UTK, "--min-group", "500"], 3, "no group has 500"),
        (["--select", "worst-group", "--groups-from-name", UTK, "--bin", "year=0,5"], 3, "no group attribute"),
        (["--select", "worst-group", "--groups", "/no/such.csv"], 3, "cannot read the groups CSV"),
    ],
)
def test_train_select_errors_are_one_line(
    utk_folders: Path, tmp_path: Path, extra: list[str], code: int, message: str, capsys: pytest.CaptureFixture
) -> None:
    argv = ["train", "--data", str(utk_folders), *TINY, "--epochs", "1", "--out", str(tmp_path / "m"), *extra]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "m").exists()


def test_train_select_worst_group_needs_image_folders(capsys: pytest.CaptureFixture) -> None:
    assert main(["train", *TINY, "--epochs", "1", "--select", "worst-group", "--groups-from-name", UTK]) == 3
    assert "needs an image folder" in capsys.readouterr().err
