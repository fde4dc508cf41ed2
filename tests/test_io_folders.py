"""Image-folder datasets: every layout, class-name matching, conversion, bad files and each DataError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facesweep.errors import DataError
from facesweep.io import load_dataset
from facesweep.tasks import EMOTION_CLASSES
from tests.io_helpers import write_class_tree, write_corrupt, write_image

FOUR = {"happy": 6, "sad": 5, "angry": 4, "neutral": 5}


def counts(split, classes=EMOTION_CLASSES) -> dict[str, int]:
    return {c: int(n) for c, n in zip(classes, split.class_counts(len(classes)), strict=True) if n}


def test_train_val_layout_keeps_the_given_splits(tmp_path: Path) -> None:
    write_class_tree(tmp_path / "train", FOUR)
    write_class_tree(tmp_path / "val", {"happy": 2, "sad": 2, "angry": 1, "neutral": 1}, suffix=".png")
    data = load_dataset("emotion", tmp_path)
    assert list(data.splits) == ["train", "val"]
    assert counts(data.train) == FOUR
    assert counts(data.val) == {"happy": 2, "sad": 2, "angry": 1, "neutral": 1}
    assert data.classes == EMOTION_CLASSES
    assert data.train.images.shape == (20, 48, 48, 1) and data.train.images.dtype == np.uint8
    assert data.train.labels.dtype == np.int32
    assert "split_made" not in data.info


@pytest.mark.parametrize("val_name", ["validation", "Validation", "valid"])
def test_validation_folder_is_val(tmp_path: Path, val_name: str) -> None:
    write_class_tree(tmp_path / "train", FOUR)
    write_class_tree(tmp_path / val_name, {"happy": 1, "sad": 1, "angry": 1, "neutral": 1})
    assert len(load_dataset("emotion", tmp_path).val) == 4


def test_train_test_layout_splits_val_off_train_and_keeps_test(tmp_path: Path) -> None:
    write_class_tree(tmp_path / "train", {"happy": 10, "sad": 10})
    write_class_tree(tmp_path / "test", {"happy": 3, "sad": 3})
    data = load_dataset("emotion", tmp_path, val_fraction=0.2, seed=1)
    assert list(data.splits) == ["train", "val", "test"]
    assert counts(data.val) == {"happy": 2, "sad": 2}
    assert counts(data.train) == {"happy": 8, "sad": 8}
    assert counts(data.splits["test"]) == {"happy": 3, "sad": 3}
    assert data.info["split_made"] == {"from": "train", "val_fraction": 0.2, "seed": 1}


def test_bare_class_folders_get_a_seeded_stratified_split(tmp_path: Path) -> None:
    write_class_tree(tmp_path, {"Man": 10, "WOMAN": 20}, color=True)
    a = load_dataset("gender", tmp_path, val_fraction=0.3, seed=3)
    b = load_dataset("gender", tmp_path, val_fraction=0.3, seed=3)
    c = load_dataset("gender", tmp_path, val_fraction=0.3, seed=4)
    assert counts(a.val, a.classes) == {"man": 3, "woman": 6}
    assert counts(a.train, a.classes) == {"man": 7, "woman": 14}
    assert a.train.images.shape[1:] == (96, 96, 3)
    np.testing.assert_array_equal(a.val.images, b.val.images)
    assert a.info["split_made"] == {"from": "all", "val_fraction": 0.3, "seed": 3}
    assert counts(c.val, c.classes) == counts(a.val, a.classes)


def test_whole_puts_a_single_split_folder_into_test(tmp_path: Path) -> None:
    write_class_tree(tmp_path / "fer2013" / "val", FOUR)
    data = load_dataset("emotion", tmp_path / "fer2013" / "val", whole=True)
    assert list(data.splits) == ["test"]
    assert counts(data.splits["test"]) == FOUR


@pytest.mark.parametrize(
    ("names", "task"),
    [
        ({"male": 2, "female": 2}, "gender"),
        ({"Men": 2, "Women": 2}, "gender"),
        ({"Happiness": 2, "SURPRISED": 2, "fearful": 2}, "emotion"),
    ],
)
def test_class_aliases_match_case_insensitively(tmp_path: Path, names: dict[str, int], task: str) -> None:
    write_class_tree(tmp_path, names)
    data = load_dataset(task, tmp_path, whole=True)
    assert len(data.splits["test"]) == sum(names.values())
    assert len(np.unique(data.splits["test"].labels)) == len(names)


def test_labels_follow_the_task_order_not_the_folder_order(tmp_path: Path) -> None:
    write_image(tmp_path / "surprise" / "a.png", value=200)
    write_image(tmp_path / "angry" / "a.png", value=10)
    data = load_dataset("emotion", tmp_path, whole=True)
    test = data.splits["test"]
    by_label = {int(label): int(image.mean()) for image, label in zip(test.images, test.labels, strict=True)}
    assert by_label[EMOTION_CLASSES.index("angry")] < 50 < by_label[EMOTION_CLASSES.index("surprise")]


def test_bgr_files_become_rgb(tmp_path: Path) -> None:
    for name in ("man", "woman"):
        write_image(tmp_path / name / "a.png", color=True)  # BGR = (v, v/2, 30): blue-ish
    data = load_dataset("gender", tmp_path, whole=True)
    pixel = data.splits["test"].images[0, 10, 10]
    assert pixel[2] > pixel[1] > pixel[0]  # RGB order: blue channel last and largest


def test_image_size_and_channels_override(tmp_path: Path) -> None:
    write_class_tree(tmp_path, {"man": 2, "woman": 2}, color=True)
    data = load_dataset("gender", tmp_path, whole=True, image_size=32, channels=1)
    assert data.splits["test"].images.shape == (4, 32, 32, 1)
    assert data.task.image_size == 32 and data.task.channels == 1


def test_a_corrupt_image_is_skipped_and_named(tmp_path: Path) -> None:
    write_class_tree(tmp_path, {"happy": 3, "sad": 3})
    bad = write_corrupt(tmp_path / "sad" / "broken.jpg")
    empty = tmp_path / "happy" / "empty.png"
    empty.write_bytes(b"")
    (tmp_path / "happy" / "notes.txt").write_text("not an image, ignored")
    data = load_dataset("emotion", tmp_path, whole=True)
    assert len(data.splits["test"]) == 6
    assert set(data.skipped) == {str(bad), str(empty)}


def test_stored_sizes_are_reported(tmp_path: Path) -> None:
    write_image(tmp_path / "man" / "a.jpg", size=(100, 60), color=True)
    write_image(tmp_path / "woman" / "b.png", size=(50, 40))
    sizes = load_dataset("gender", tmp_path, whole=True).info["raw_sizes"]
    assert sizes["width"] == {"min": 40, "median": 50.0, "max": 60}
    assert sizes["height"] == {"min": 50, "median": 75.0, "max": 100}
    assert sizes["channels"] == {"1": 1, "3": 1}


def _missing(tmp: Path) -> Path:
    return tmp / "nope"


def _one_class(tmp: Path) -> Path:
    return write_class_tree(tmp / "d", {"happy": 3})


def _unknown_class(tmp: Path) -> Path:
    return write_class_tree(tmp / "d", {"happy": 2, "bored": 2, "sleepy": 1})


def _empty_class(tmp: Path) -> Path:
    write_class_tree(tmp / "d", {"happy": 2})
    (tmp / "d" / "sad").mkdir()
    return tmp / "d"


def _differing_splits(tmp: Path) -> Path:
    write_class_tree(tmp / "d" / "train", {"happy": 2, "sad": 2, "angry": 2})
    write_class_tree(tmp / "d" / "val", {"happy": 1, "sad": 1})
    return tmp / "d"


def _no_class_folders(tmp: Path) -> Path:
    write_image(tmp / "d" / "a.jpg")
    return tmp / "d"


def _not_csv(tmp: Path) -> Path:
    return write_image(tmp / "a.jpg")


def _all_corrupt_class(tmp: Path) -> Path:
    write_class_tree(tmp / "d", {"happy": 2})
    write_corrupt(tmp / "d" / "sad" / "x.jpg")
    return tmp / "d"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_missing, "no such file or folder"),
        (_one_class, "needs at least 2 classes, found 1 (happy)"),
        (_unknown_class, "class folder(s) bored, sleepy match no emotion class; expected: angry, disgust"),
        (_empty_class, "class folder has no images"),
        (_differing_splits, "splits have different classes: val lacks [angry]"),
        (_no_class_folders, "no class folders"),
        (_not_csv, "not a folder of class folders or a .csv file"),
        (_all_corrupt_class, "no readable images for class sad"),
    ],
)
def test_unusable_folders_raise_one_line_data_errors(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(DataError) as info:
        load_dataset("emotion", path)
    text = str(info.value)
    assert message in text and "\n" not in text
    assert text.startswith(str(path)) or str(path) in text
