"""`facesweep data`: tables, JSON, the skipped-files warning, and each error as one line + exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facesweep.cli import main
from tests.io_helpers import write_class_tree, write_corrupt


@pytest.fixture
def small_synthetic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("facesweep.io.load.SYNTHETIC_TRAIN", 35)
    monkeypatch.setattr("facesweep.io.load.SYNTHETIC_VAL", 14)


def test_text_output_for_folders_with_a_split_made(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_class_tree(tmp_path, {"male": 10, "female": 5}, color=True)
    assert main(["data", "--task", "gender", "--data", str(tmp_path), "--val-fraction", "0.2", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    for expected in ("man", "woman", "train", "val", "share", "imbalance (max/min)", "2.0x", "66.7%",
                     "split made", "20% of all images per class, seed 3", "96x96x3", "stored width"):  # fmt: skip
        assert expected in out, expected


def test_json_output_is_one_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_class_tree(tmp_path / "train", {"happy": 4, "sad": 2})
    write_class_tree(tmp_path / "val", {"happy": 2, "sad": 1})
    assert main(["data", "--data", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["splits"]["train"] == {
        "total": 6,
        "counts": {"happy": 4, "sad": 2},
        "shares": {"happy": 4 / 6, "sad": 2 / 6},
        "imbalance": 2.0,
    }
    assert summary["splits"]["val"]["total"] == 3
    assert summary["split_made"] is None
    assert summary["input_shape"] == [48, 48, 1]
    assert summary["data"] == str(tmp_path)
    assert "angry" in summary["missing_classes"]
    assert summary["skipped"] == {"count": 0, "first": []}


def test_synthetic_default(small_synthetic: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "synthetic (seed 0)" in out and "surprise" in out and "1.0x" in out


def test_skipped_files_give_one_warning_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_class_tree(tmp_path, {"happy": 4, "sad": 4})
    bad = [write_corrupt(tmp_path / "sad" / f"bad_{i}.jpg") for i in range(7)]
    assert main(["data", "--data", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert "skipped 7 unreadable file(s)" in warnings[0] and "(first 5 shown)" in warnings[0]
    assert str(bad[0]) in warnings[0] and str(bad[6]) not in warnings[0]


def _one_class(tmp: Path) -> Path:
    return write_class_tree(tmp / "d", {"happy": 3})


def _bad_csv(tmp: Path) -> Path:
    path = tmp / "bad.csv"
    path.write_text("emotion,pixels,Usage\n1,1 2 3 4,Training\n2,1 2,Training\n")
    return path


@pytest.mark.parametrize(
    ("make", "args", "code", "message"),
    [
        (lambda tmp: tmp / "nonexistent", [], 3, "no such file or folder"),
        (_one_class, [], 3, "needs at least 2 classes"),
        (_bad_csv, [], 3, "line 3: pixels has 2 values, expected 4"),
        (lambda tmp: write_class_tree(tmp / "d", {"happy": 3, "sad": 3}), ["--val-fraction", "1.5"], 2,
         "val fraction must be between 0 and 1"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_an_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make, args: list[str], code: int, message: str
) -> None:
    path = make(tmp_path)
    assert main(["data", "--data", str(path), *args]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("facesweep data: error: ") and message in lines[0]
