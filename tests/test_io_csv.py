"""The FER-2013 CSV: Usage -> splits, conversion, and one-line errors for malformed files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facesweep.errors import DataError
from facesweep.io import load_dataset
from tests.io_helpers import write_fer_csv

ROWS = [(0, "Training"), (3, "Training"), (3, "Training"), (6, "Training"), (0, "PublicTest"), (3, "PublicTest"),
        (6, "PrivateTest"), (0, "PrivateTest")]  # fmt: skip


def test_usage_maps_to_train_val_test(tmp_path: Path) -> None:
    path = write_fer_csv(tmp_path / "fer2013.csv", ROWS)
    data = load_dataset("emotion", path)
    assert list(data.splits) == ["train", "val", "test"]
    assert data.train.labels.tolist() == [0, 3, 3, 6]
    assert data.val.labels.tolist() == [0, 3]
    assert data.splits["test"].labels.tolist() == [6, 0]
    assert data.train.images.shape == (4, 48, 48, 1)
    assert data.info["raw_sizes"]["channels"] == {"1": 8}
    assert data.source == f"csv {path}"


def test_pixels_keep_their_row_major_order(tmp_path: Path) -> None:
    pixels = " ".join(str(i % 256) for i in range(48 * 48))
    path = tmp_path / "f.csv"
    path.write_text(f"emotion,pixels,Usage\n1,{pixels},Training\n2,{pixels},PublicTest\n")
    image = load_dataset("emotion", path).train.images[0, :, :, 0]
    np.testing.assert_array_equal(image.ravel(), np.arange(48 * 48) % 256)


def test_csv_without_usage_gets_a_split_and_can_be_resized_to_rgb(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    write_fer_csv(path, [(i % 2, "Training") for i in range(10)], side=24)
    path.write_text("\n".join(",".join(line.split(",")[:2]) for line in path.read_text().splitlines()) + "\n")
    data = load_dataset("emotion", path, image_size=32, channels=3, val_fraction=0.2)
    assert data.train.images.shape == (8, 32, 32, 3)
    assert len(data.val) == 2
    assert data.info["split_made"]["from"] == "all"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("label_x,pix\n1,2\n", "expected columns emotion,pixels[,Usage], found label_x,pix"),
        ("", "empty or not a CSV file"),
        ("emotion,pixels,Usage\n", "no data rows"),
        ("emotion,pixels,Usage\n1,1 2 3 4,Training\n9,1 2 3 4,Training\n", "line 3: label 9 outside 0..6"),
        ("emotion,pixels,Usage\nhappy,1 2 3 4,Training\n", "line 2: label 'happy' is not an integer"),
        ("emotion,pixels,Usage\n1,1 2 3 4,Training\n1,1 2 3,Training\n", "line 3: pixels has 3 values, expected 4"),
        ("emotion,pixels,Usage\n1,1 2 x 4,Training\n", "line 2: pixels must be space-separated integers"),
        ("emotion,pixels,Usage\n1,1 2 3,Training\n", "line 2: pixels has 3 values, not a square image"),
        ("emotion,pixels,Usage\n1,1 2 3 999,Training\n", "line 2: pixel values must be 0..255"),
        ("emotion,pixels,Usage\n1,1 2 3 4,Training,extra\n", "line 2: 4 fields, expected 3"),
        ("emotion,pixels,Usage\n1,1 2 3 4,Holdout\n", "line 2: Usage 'Holdout' is not Training"),
    ],
)
def test_malformed_csv_raises_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        load_dataset("emotion", path)
    assert message in str(info.value) and str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_malformed_row_in_a_generated_fer_csv(tmp_path: Path) -> None:
    path = write_fer_csv(tmp_path / "fer2013.csv", ROWS)
    lines = path.read_text().splitlines()
    label, pixels, usage = lines[5].split(",")
    lines[5] = ",".join([label, " ".join(pixels.split()[:-1]), usage])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"line 6: pixels has 2303 values, expected 2304 \(48x48\)"):
        load_dataset("emotion", path)
