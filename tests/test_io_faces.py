"""``load_dataset(..., detect=...)``: the face crop path in the data layer (counts, drop after split, cache keys)."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from facesweep.errors import DataError
from facesweep.faces.align import DEFAULT_TEMPLATE, Template
from facesweep.faces.crop import CropSpec
from facesweep.io import load_dataset
from tests.io_helpers import write_class_tree


def faceless_tree(root: Path) -> Path:
    """Tiny 40x30 'crops' (no face: each is kept whole) plus one 400x400 noise photo (no face: dropped)."""
    write_class_tree(root, {"man": 6, "woman": 6})
    noise = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    assert cv2.imwrite(str(root / "woman" / "noise.png"), noise)
    return root


def test_detect_counts_whole_and_none_and_drops_the_faceless_photo_after_the_split(tmp_path):
    root = faceless_tree(tmp_path / "g")
    plain = load_dataset("gender", root)
    data = load_dataset("gender", root, detect=True)
    faces = data.info["faces"]
    assert faces["counts"] == {"face": 0, "whole": 12, "none": 1}
    assert faces["none_paths"] == ["woman/noise.png"]
    assert faces["template"] == DEFAULT_TEMPLATE.to_dict() and faces["template_measured"] is False
    assert faces["detector"]["name"] == "yunet"
    # the split is the one made without detection, minus the faceless photo
    for name in ("train", "val"):
        expected = [p for p in plain.splits[name].paths if p != "woman/noise.png"]
        assert list(data.splits[name].paths) == expected
    assert sum(len(s) for s in data.splits.values()) == 12
    assert data.train.images.shape[1:] == (96, 96, 3)
    # a whole image is the plain conversion of the file
    i = plain.train.paths.index(data.train.paths[0])
    np.testing.assert_array_equal(data.train.images[0], plain.train.images[i])


def test_detect_cache_hits_and_its_key_changes_with_the_template_and_detector(tmp_path):
    root = faceless_tree(tmp_path / "g")
    first = load_dataset("gender", root, detect=True)
    assert first.info["cache"] == "miss"
    assert load_dataset("gender", root, detect=True).info["cache"] == "hit"
    other = Template(((0.3, 0.4), (0.7, 0.4), (0.5, 0.6), (0.35, 0.8), (0.65, 0.8)))
    moved = load_dataset("gender", root, detect=CropSpec(template=other))
    assert moved.info["cache"] == "miss (detections: hit)"  # new template: re-crop, no re-detection
    assert moved.info["faces"]["template"] == other.to_dict()
    assert load_dataset("gender", root, detect=CropSpec(detector="haar")).info["cache"] == "miss"
    assert "faces" not in load_dataset("gender", root).info


def test_detect_needs_an_image_folder(tmp_path):
    with pytest.raises(DataError, match="the synthetic set: face detection .--detect. needs a folder of images"):
        load_dataset("emotion", None, detect=True)
    csv = tmp_path / "fer.csv"
    csv.write_text("emotion,pixels,Usage\n")
    with pytest.raises(DataError, match="needs a folder of images"):
        load_dataset("emotion", csv, detect=True)


@pytest.mark.realdata
def test_detect_on_real_face_crops_measures_the_training_template(tmp_path, shared_data):
    root = tmp_path / "g"
    for name in ("man", "woman"):
        (root / name).mkdir(parents=True)
        for path in sorted((shared_data / "gender" / name).iterdir())[:15]:
            shutil.copy(path, root / name / path.name)
    data = load_dataset("gender", root, detect=True, image_size=48, channels=1)
    faces = data.info["faces"]
    assert faces["counts"]["face"] >= 28 and faces["counts"]["none"] == 0
    assert faces["template_measured"] is True and "training split" in faces["template"]["source"]
    template = Template.from_dict(faces["template"])
    assert template.n >= 20 and template.n <= len(data.train)  # measured on the training split only
    eyes = template.array()[:2]
    assert 0.25 < eyes[1, 0] - eyes[0, 0] < 0.6 and 0.25 < eyes[0, 1] < 0.5  # an eye line in a face crop
    assert data.train.images.shape[1:] == (48, 48, 1)
