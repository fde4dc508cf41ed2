"""`facesweep evaluate` on anyone's folder and the per-group audit, with a stand-in model whose every prediction is
known (it reads the image's brightness), so accuracies, recalls and intervals can be checked exactly.

Also: the one table renderer gives the same numbers in rich and Markdown; the library evaluation matches the
report's best-model numbers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from rich.console import Console

from facesweep.cli import main
from facesweep.io.dataset import Split
from facesweep.model import artifacts
from facesweep.model.evaluate import evaluate
from facesweep.model.groups import audit_groups, bootstrap_interval
from facesweep.report.tables import confusion_table, group_table, per_class_table
from facesweep.tasks import EMOTION_CLASSES, GENDER_CLASSES
from tests.io_helpers import write_fer_csv

BRIGHT, DARK = 200, 40


class BrightnessModel:
    """Gender: 'woman' when the image is bright, else 'man'. Emotion: class = brightness // 32 (clipped)."""

    def __init__(self, task: str = "gender") -> None:
        size, channels = (24, 3) if task == "gender" else (24, 1)
        self.config = SimpleNamespace(task=task, image_size=size, channels=channels)
        self.classes = GENDER_CLASSES if task == "gender" else EMOTION_CLASSES
        self.tta = False
        self.calls: list[bool | None] = []

    def predict(self, images: np.ndarray, *, tta: bool | None = None) -> np.ndarray:
        self.calls.append(tta)
        mean = images.reshape(len(images), -1).mean(axis=1)
        k = len(self.classes)
        picked = (mean > 128).astype(int) if k == 2 else np.clip(mean // 32, 0, k - 1).astype(int)
        probs = np.full((len(images), k), 0.1 / (k - 1), np.float32)
        probs[np.arange(len(images)), picked] = 0.9
        return probs


def write(path: Path, value: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((30, 30), value, np.uint8))
    return path


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> dict[str, BrightnessModel]:
    """``load_model`` in the CLI returns a stand-in: ``pretrained:gender`` / ``pretrained:emotion``."""
    models = {"gender": BrightnessModel("gender"), "emotion": BrightnessModel("emotion")}
    monkeypatch.setattr(artifacts, "load_model", lambda ref: models[str(ref).split(":")[-1]])
    return models


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["evaluate", *argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def run_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["evaluate", *argv]) == 0
    return capsys.readouterr().out


def run_error(capsys: pytest.CaptureFixture[str], *argv: str, code: int) -> str:
    assert main(["evaluate", *argv]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


# -- evaluate any folder ---------------------------------------------------------------------------------------------
def test_one_class_folder_scores_its_recall(tmp_path: Path, model, capsys) -> None:
    for i in range(3):
        write(tmp_path / "woman" / f"b{i}.png", BRIGHT)  # right
    write(tmp_path / "woman" / "d0.png", DARK)  # called a man
    report = run_json(capsys, "--model", "pretrained:gender", "--data", str(tmp_path))
    assert report["n"] == 4 and report["present_classes"] == ["woman"]
    assert report["per_class"][1]["recall"] == pytest.approx(0.75) == report["accuracy"]
    assert report["confusion_matrix"] == [[0, 0], [1, 3]]
    text = run_text(capsys, "--model", "pretrained:gender", "--data", str(tmp_path))
    assert "one class in the data (woman): accuracy is its recall" in text and "accuracy 0.7500" in text


def test_ignore_class_leaves_a_folder_out(tmp_path: Path, model, capsys) -> None:
    write(tmp_path / "angry" / "a.png", 10)  # 10 // 32 = 0: angry, right
    write(tmp_path / "fear" / "a.png", 70)  # 2: fear, right
    write(tmp_path / "contempt" / "a.png", 100)
    err = run_error(capsys, "--model", "pretrained:emotion", "--data", str(tmp_path), code=3)
    assert "class folder(s) contempt match no emotion class" in err and "--ignore-class contempt" in err
    report = run_json(capsys, "--model", "pretrained:emotion", "--data", str(tmp_path), "--ignore-class", "contempt")
    assert report["n"] == 2 and report["accuracy"] == 1.0 and report["ignored_classes"] == ["contempt"]
    err = run_error(capsys, "--model", "pretrained:emotion", "--data", str(tmp_path), "--ignore-class", "contempt",
                    "--ignore-class", "bored", code=3)  # fmt: skip
    assert "no class folder named bored to ignore" in err


def test_unreadable_files_are_skipped_and_listed(tmp_path: Path, model, capsys) -> None:
    write(tmp_path / "man" / "a.png", DARK)
    write(tmp_path / "woman" / "a.png", BRIGHT)
    (tmp_path / "woman" / "empty.jpg").write_bytes(b"")
    (tmp_path / "woman" / "text.jpg").write_text("not an image\n")
    report = run_json(capsys, "--model", "pretrained:gender", "--data", str(tmp_path))
    assert report["n"] == 2 and report["skipped"]["count"] == 2
    assert sorted(Path(p).name for p in report["skipped"]["files"]) == ["empty.jpg", "text.jpg"]
    text = run_text(capsys, "--model", "pretrained:gender", "--data", str(tmp_path))
    assert "skipped 2 unreadable file(s), not scored:" in text and "empty.jpg" in text


def test_other_tasks_classes_give_a_hint(tmp_path: Path, model, capsys) -> None:
    write(tmp_path / "man" / "a.png", DARK)
    write(tmp_path / "women" / "a.png", BRIGHT)  # an alias of woman
    assert main(["data", "--data", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "match no emotion class" in err and "did you mean --task gender?" in err and err.count("\n") == 1
    err = run_error(capsys, "--model", "pretrained:emotion", "--data", str(tmp_path), code=3)
    assert "these look like gender classes: use a gender model (e.g. --model pretrained:gender)" in err


def test_macro_f1_over_present_classes_beside_the_convention(tmp_path: Path, model, capsys) -> None:
    write(tmp_path / "angry" / "a.png", 10)  # angry, right
    write(tmp_path / "angry" / "b.png", 110)  # predicted happy (3): a class with no images
    write(tmp_path / "fear" / "a.png", 70)  # fear, right
    report = run_json(capsys, "--model", "pretrained:emotion", "--data", str(tmp_path))
    # scored classes: angry (F1 2/3), fear (1), happy (0, predicted only); present: angry, fear
    assert report["macro_f1"] == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert report["macro_f1_present"] == pytest.approx((2 / 3 + 1) / 2)
    text = run_text(capsys, "--model", "pretrained:emotion", "--data", str(tmp_path))
    assert f"macro-F1 {report['macro_f1']:.4f} ({report['macro_f1_present']:.4f} over the 2 class(es) present)" in text


# -- per-group audit -------------------------------------------------------------------------------------------------
@pytest.fixture
def two_sites(tmp_path: Path) -> Path:
    """Site A: 10 images all right (5 women bright, 5 men dark). Site B: 10 women, 5 bright (right), 5 dark
    (called men). Overall 15/20. One image has no row; one row names no image."""
    data = tmp_path / "data"
    rows = ["path,site,age"]
    for i in range(5):
        rows.append(f"woman/a{i}.png,A,{20 + i}")
        write(data / "woman" / f"a{i}.png", BRIGHT)
        rows.append(f"man/a{i}.png,A,{60 + i}")
        write(data / "man" / f"a{i}.png", DARK)
        rows.append(f"woman/b{i}.png,B,{20 + i}")
        write(data / "woman" / f"b{i}.png", BRIGHT)
        rows.append(f"./woman/c{i}.png,B,{60 + i}")  # "./" is tolerated
        write(data / "woman" / f"c{i}.png", DARK)
    write(data / "man" / "norow.png", DARK)  # right, but in no group
    rows.append("woman/ghost.png,B,30")
    (tmp_path / "attrs.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def test_groups_csv_gives_known_accuracies_and_intervals(two_sites: Path, model, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")  # one line per table row
    report = run_json(capsys, "--model", "pretrained:gender", "--data", str(two_sites / "data"),
                      "--groups", str(two_sites / "attrs.csv"))  # fmt: skip
    groups = report["groups"]
    assert report["n"] == 21 and groups["overall_accuracy"] == pytest.approx(16 / 21)
    assert groups["images_without_row"] == {"count": 1, "first": ["man/norow.png"]}
    assert groups["unmatched_rows"] == {"count": 1, "first": ["woman/ghost.png"]}
    site = next(a for a in groups["attributes"] if a["name"] == "site")
    a, b = site["groups"]
    assert (a["value"], a["n"], a["accuracy"], a["accuracy_ci"]) == ("A", 10, 1.0, [1.0, 1.0])
    assert a["recall"]["woman"]["recall"] == 1.0 and a["recall"]["man"]["support"] == 5
    assert (b["value"], b["n"], b["accuracy"]) == ("B", 10, 0.5)
    assert set(b["recall"]) == {"woman"} and b["recall"]["woman"]["recall"] == 0.5
    low, high = b["accuracy_ci"]
    assert 0.1 <= low <= 0.3 and 0.7 <= high <= 0.9
    assert site["worst"] == {"value": "B", "accuracy": 0.5, "gap": pytest.approx(0.5 - 16 / 21)}

    # The binomial shortcut is the bootstrap: resampling B's ten outcomes directly gives the same interval.
    outcomes = np.array([1] * 5 + [0] * 5)
    rng = np.random.default_rng(123)
    direct = np.percentile(rng.choice(outcomes, size=(4000, 10)).mean(axis=1), [2.5, 97.5])
    assert np.allclose([low, high], direct, atol=0.1)

    # Seeded: the same command gives the same intervals.
    again = run_json(capsys, "--model", "pretrained:gender", "--data", str(two_sites / "data"),
                     "--groups", str(two_sites / "attrs.csv"))  # fmt: skip
    assert again["groups"] == groups

    text = run_text(capsys, "--model", "pretrained:gender", "--data", str(two_sites / "data"),
                    "--groups", str(two_sites / "attrs.csv"), "--bin", "age=0,40,100")  # fmt: skip
    assert "site: worst group 'B' accuracy 0.5000, gap -0.2619 to overall" in text
    assert "1 image(s) without attributes, e.g. man/norow.png" in text and "1 row(s) matching no scored image" in text
    assert re.search(r"B\s+│\s+10 │ 0\.50 \[0\.\d\d-0\.\d\d\] │ -0\.262", text)
    assert "0-39" in text and "40-99" in text  # the binned age attribute


def test_groups_from_file_names(tmp_path: Path, model, capsys) -> None:
    for i, (age, value) in enumerate([(25, BRIGHT), (27, BRIGHT), (64, BRIGHT), (70, DARK)]):
        write(tmp_path / "woman" / f"{age}_1_{i}_2017.png", value)
    write(tmp_path / "woman" / "unnamed.png", BRIGHT)
    argv = ["--model", "pretrained:gender", "--data", str(tmp_path), "--groups-from-name", r"^(?P<age>\d+)_"]
    report = run_json(capsys, *argv, "--bin", "age=18,30,60,80", "--min-group", "2")
    (age,) = report["groups"]["attributes"]
    assert [(g["value"], g["n"], g["accuracy"]) for g in age["groups"]] == [("18-29", 2, 1.0), ("60-79", 2, 0.5)]
    assert age["worst"]["value"] == "60-79" and age["n_missing"] == 1
    assert report["groups"]["images_without_row"]["first"] == ["woman/unnamed.png"]
    text = run_text(capsys, *argv, "--bin", "age=18,30,60,80")  # the default --min-group 10: no group qualifies
    assert "age: no group of 10+ images to name the worst; 1 image(s) without a value" in text
    err = run_error(capsys, "--model", "pretrained:gender", "--data", str(tmp_path), "--groups-from-name", "(\\d+",
                    code=2)  # fmt: skip
    assert "does not compile" in err
    err = run_error(capsys, *argv, "--bin", "age=18", code=2)
    assert "--bin expects ATTR=EDGE,EDGE" in err


def test_groups_need_image_paths(tmp_path: Path, model, capsys) -> None:
    fer = write_fer_csv(tmp_path / "fer.csv", [(0, "PublicTest"), (3, "PublicTest")], side=24)
    err = run_error(capsys, "--model", "pretrained:emotion", "--data", str(fer), "--groups", str(tmp_path / "x.csv"),
                    code=2)  # fmt: skip
    assert "needs an image folder (per-image paths); csv" in err


def test_audit_groups_in_the_library() -> None:
    ev = SimpleNamespace(classes=("man", "woman"), labels=np.array([0, 1, 1, 1]), predicted=np.array([0, 1, 0, 1]),
                         accuracy=0.75)  # fmt: skip
    audit = audit_groups(ev, [{"g": "x"}, {"g": "x"}, {"g": "y"}, {"g": ""}], n_boot=200, seed=3)
    (g,) = audit.attributes
    assert [(s.value, s.n, s.accuracy) for s in g.groups] == [("x", 2, 1.0), ("y", 1, 0.0)]
    assert g.n_missing == 1 and g.worst is None  # no group of MIN_GROUP images
    audit = audit_groups(ev, [{"g": "x"}, {"g": "x"}, {"g": "y"}, {"g": ""}], n_boot=200, seed=3, min_group=1)
    assert audit.attributes[0].worst == "y" and audit.attributes[0].worst_gap == pytest.approx(-0.75)
    assert bootstrap_interval(3, 10, key="k", seed=1) == bootstrap_interval(3, 10, key="k", seed=1)
    assert bootstrap_interval(300, 1000, key="k", n_boot=50) != bootstrap_interval(300, 1000, key="o", n_boot=50)


# -- one evaluation, one renderer ------------------------------------------------------------------------------------
def test_evaluation_follows_the_model_tta_default_and_passes_skipped() -> None:
    model = BrightnessModel("gender")
    split = Split(np.full((3, 24, 24, 3), BRIGHT, np.uint8), np.array([1, 1, 0], np.int32))
    result = evaluate(model, split, skipped=("bad.jpg",), batch_size=2)
    assert model.calls == [None, None]  # two chunks, the model's own TTA default each time
    assert result.accuracy == pytest.approx(2 / 3) and result.tta is False and result.skipped == ("bad.jpg",)
    assert result.loss == pytest.approx(-(2 * np.log(0.9) + np.log(0.1)) / 3, rel=1e-5)
    evaluate(model, split, tta=True)
    assert model.calls[-1] is True
    assert result.to_dict()["skipped"] == {"count": 1, "files": ["bad.jpg"]}


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d[\d,]*\.?\d*", text)


@pytest.mark.parametrize("which", ["per_class", "confusion", "group"])
def test_rich_and_markdown_show_the_same_numbers(which: str) -> None:
    per_class = [{"name": "man", "precision": 0.91234, "recall": 0.5, "f1": 0.64706, "support": 1234},
                 {"name": "woman", "precision": 0.25, "recall": 0.98765, "f1": 0.399, "support": 8}]  # fmt: skip
    attribute = {"name": "age", "groups": [
        {"value": "18-29", "n": 40, "accuracy": 0.9, "accuracy_ci": [0.8, 0.975], "gap": 0.05,
         "recall": {"woman": {"recall": 0.88, "ci": [0.7, 1.0], "support": 20}}},
        {"value": "60-79", "n": 10, "accuracy": 0.5, "accuracy_ci": [0.2, 0.8], "gap": -0.35,
         "recall": {}}]}  # fmt: skip
    doc = {"per_class": per_class_table(per_class),
           "confusion": confusion_table(["man", "woman"], [[1200, 34], [6, 2]]),
           "group": group_table(attribute, ["man", "woman"])}[which]  # fmt: skip
    console = Console(record=True, width=200, color_system=None)
    console.print(doc.to_rich())
    rich_text = console.export_text()
    markdown = "\n".join(doc.to_markdown())
    rich_rows = [line for line in rich_text.splitlines() if "│" in line]  # the header row is drawn with ┃
    markdown_rows = [line for line in markdown.splitlines() if line.startswith("|")][2:]  # after header + align
    assert _numbers("\n".join(rich_rows)) == _numbers("\n".join(markdown_rows))
    assert len(rich_rows) == len(doc.rows) and len(_numbers("\n".join(markdown_rows))) >= 4
    assert doc.title in rich_text and markdown.startswith(doc.title)


def test_report_best_model_scores_like_evaluate(tmp_path: Path) -> None:
    from facesweep.report.best_model import best_model_headline, evaluate_best

    model = BrightnessModel("gender")
    split = Split(np.stack([np.full((24, 24, 3), v, np.uint8) for v in (BRIGHT, DARK, DARK)]),
                  np.array([1, 1, 0], np.int32))  # fmt: skip
    data = SimpleNamespace(splits={"val": split}, classes=GENDER_CLASSES, source="fake", skipped=())
    report = SimpleNamespace(summary=SimpleNamespace(best=SimpleNamespace(number=4, artifact=str(tmp_path))),
                             task="gender", data="somewhere")  # fmt: skip
    best = evaluate_best(report, load_model=lambda ref: model, load_dataset=lambda *a, **k: data)
    direct = evaluate(model, split)
    assert (best.accuracy, best.macro_f1, best.confusion_matrix) == (
        direct.accuracy, direct.macro_f1, direct.confusion_matrix)  # fmt: skip
    assert best_model_headline(best) == "trial #4 on val (fake): n = 3, accuracy 0.667, macro-F1 0.667"


def test_detect_counts_faces_and_keeps_group_paths_aligned(tmp_path: Path, model, capsys, monkeypatch) -> None:
    from tests.test_io_faces import faceless_tree

    root = faceless_tree(tmp_path / "g")  # 12 small crops kept whole + woman/noise.png with no face (dropped)
    rows = ["path,half"] + [f"{c}/img_{i:03d}.jpg,{'first' if i < 3 else 'second'}" for c in ("man", "woman")
                            for i in range(6)] + ["woman/noise.png,first"]  # fmt: skip
    (tmp_path / "attrs.csv").write_text("\n".join(rows) + "\n")
    report = run_json(capsys, "--model", "pretrained:gender", "--data", str(root), "--detect",
                      "--groups", str(tmp_path / "attrs.csv"), "--min-group", "1")  # fmt: skip
    assert report["n"] == 12 and report["faces"]["counts"] == {"face": 0, "whole": 12, "none": 1}
    assert report["faces"]["none_paths"] == ["woman/noise.png"]
    groups = report["groups"]
    assert groups["unmatched_rows"]["first"] == ["woman/noise.png"]  # dropped: not scored, so no image matches
    (half,) = groups["attributes"]
    assert [(g["value"], g["n"]) for g in half["groups"]] == [("first", 6), ("second", 6)]
    monkeypatch.setenv("COLUMNS", "200")
    text = run_text(capsys, "--model", "pretrained:gender", "--data", str(root), "--detect")
    assert "faces: 0 face, 12 whole" in text and "1 none" in text
