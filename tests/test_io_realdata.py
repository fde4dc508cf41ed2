"""Real data in ../shared/data (skips when absent): FER-2013 folders and the gender set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facesweep.io import load_dataset
from facesweep.tasks import EMOTION_CLASSES, GENDER_CLASSES

pytestmark = pytest.mark.realdata


@pytest.mark.slow
def test_fer2013_folders(shared_data: Path) -> None:
    data = load_dataset("emotion", shared_data / "fer2013")
    assert data.classes == EMOTION_CLASSES
    assert (len(data.train), len(data.val)) == (28_709, 3_589)
    assert data.train.images.shape == (28_709, 48, 48, 1)
    assert data.train.class_counts(7)[EMOTION_CLASSES.index("disgust")] == 436
    assert data.train.class_counts(7)[EMOTION_CLASSES.index("happy")] == 7_215
    assert data.skipped == ()
    assert "split_made" not in data.info


def test_gender_folders_get_a_seeded_stratified_split(shared_data: Path) -> None:
    data = load_dataset("gender", shared_data / "gender", seed=0)
    assert data.classes == GENDER_CLASSES
    total = data.train.class_counts(2) + data.val.class_counts(2)
    assert total.tolist() == [920, 932]
    assert data.val.class_counts(2).tolist() == [184, 186]
    assert data.train.images.shape[1:] == (96, 96, 3)
    assert data.info["split_made"] == {"from": "all", "val_fraction": 0.2, "seed": 0}
    again = load_dataset("gender", shared_data / "gender", seed=0)
    np.testing.assert_array_equal(again.val.images, data.val.images)
