"""The embedded synthetic face set: shapes, balance, determinism, and that classes really differ."""

from __future__ import annotations

import numpy as np
import pytest

from facesweep.io import load_dataset, synthetic_dataset
from facesweep.io.synthetic import WORK, render_face
from facesweep.tasks import EMOTION_CLASSES, GENDER_CLASSES


@pytest.mark.parametrize(("task", "shape", "classes"), [("emotion", (48, 48, 1), EMOTION_CLASSES),
                                                        ("gender", (96, 96, 3), GENDER_CLASSES)])  # fmt: skip
def test_shapes_dtypes_and_balance(task: str, shape: tuple[int, int, int], classes: tuple[str, ...]) -> None:
    data = synthetic_dataset(task, n_train=71, n_val=15, seed=0)
    assert data.classes == classes
    assert data.train.images.shape == (71, *shape) and data.train.images.dtype == np.uint8
    assert data.val.images.shape == (15, *shape)
    assert data.train.labels.dtype == np.int32
    for split in (data.train, data.val):
        counts = split.class_counts(len(classes))
        assert counts.max() - counts.min() <= 1
    assert data.source == "synthetic (seed 0)"


def test_deterministic_per_seed() -> None:
    a = synthetic_dataset("emotion", n_train=30, n_val=10, seed=5)
    b = synthetic_dataset("emotion", n_train=30, n_val=10, seed=5)
    c = synthetic_dataset("emotion", n_train=30, n_val=10, seed=6)
    np.testing.assert_array_equal(a.train.images, b.train.images)
    np.testing.assert_array_equal(a.val.labels, b.val.labels)
    assert not np.array_equal(a.train.images, c.train.images)
    assert not np.array_equal(a.train.images, a.val.images[:1].repeat(30, 0))


def test_images_are_varied_not_blank() -> None:
    images = synthetic_dataset("gender", n_train=20, n_val=0, seed=1).train.images.astype(np.float32)
    assert images.std(axis=(1, 2, 3)).min() > 10  # each face has contrast
    assert np.abs(images[0] - images[1]).mean() > 5  # and faces differ from each other


def test_expression_classes_differ_in_the_drawing() -> None:
    """Clean (difficulty and pose 0), same identity: each pair of expressions gives visibly different pixels."""
    faces = [render_face(np.random.default_rng(0), k, 0, difficulty=0.0, pose=0.0) for k in range(len(EMOTION_CLASSES))]
    assert faces[0].shape == (WORK, WORK, 3)
    for i in range(len(faces)):
        for j in range(i + 1, len(faces)):
            assert np.abs(faces[i].astype(int) - faces[j].astype(int)).mean() > 0.3, (i, j)


def test_difficulty_zero_is_clean_and_one_is_noisy() -> None:
    clean = synthetic_dataset("emotion", n_train=14, n_val=0, seed=2, difficulty=0.0, pose=0.0).train.images
    noisy = synthetic_dataset("emotion", n_train=14, n_val=0, seed=2, difficulty=1.0, pose=0.0).train.images
    posed = synthetic_dataset("emotion", n_train=14, n_val=0, seed=2, difficulty=0.0, pose=1.0).train.images
    assert not np.array_equal(clean, noisy)
    assert not np.array_equal(clean, posed)  # pose is its own knob


def test_load_dataset_without_data_is_the_cached_synthetic_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("facesweep.io.load.SYNTHETIC_TRAIN", 21)
    monkeypatch.setattr("facesweep.io.load.SYNTHETIC_VAL", 7)
    first = load_dataset("emotion")
    second = load_dataset("emotion")
    assert (len(first.train), len(first.val)) == (21, 7)
    assert second.info["cache"] == "hit"
    np.testing.assert_array_equal(first.train.images, second.train.images)
    direct = synthetic_dataset("emotion", n_train=21, n_val=7, seed=0)
    np.testing.assert_array_equal(first.train.images, direct.train.images)
