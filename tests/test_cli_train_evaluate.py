"""`facesweep train` and `facesweep evaluate` end to end on small image folders, their JSON, Ctrl-C, and each
error's exit code and one-line message."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from facesweep.cli import main
from facesweep.model import train as train_module
from facesweep.tasks import EMOTION_CLASSES
from tests.test_model_train import easy_split

TINY = ["--depth", "2", "--width", "8", "--dense", "16", "--batch-size", "16", "--no-augment"]


def _write_folder(root: Path, n: int, seed: int) -> Path:
    split = easy_split(n, seed)
    for i, (image, label) in enumerate(zip(split.images, split.labels, strict=True)):
        folder = root / EMOTION_CLASSES[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{i}.png"), image[:, :, 0])
    return root


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faces")
    _write_folder(root / "split" / "train", 224, 0)
    _write_folder(root / "split" / "val", 70, 1)
    _write_folder(root / "bare", 50, 2)  # ROOT/<class>/*: evaluate uses all of it as "test"
    return root


@pytest.fixture(scope="module")
def trained(folders: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("runs") / "model"
    args = ["train", "--data", str(folders / "split"), *TINY, "--epochs", "2", "--lr", "0.003", "--out", str(out)]
    return {"out": out, "args": args}


def test_train_json_then_evaluate_json(folders: Path, trained: dict, capsys: pytest.CaptureFixture) -> None:
    assert main([*trained["args"], "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["artifact"] == str(trained["out"]) and summary["task"] == "emotion"
    assert [h["epoch"] for h in summary["history"]] == [1, 2]
    assert {"val_accuracy", "val_macro_f1", "learning_rate", "epoch_seconds"} <= set(summary["history"][0])
    assert (trained["out"] / "params.msgpack").is_file()

    assert main(["evaluate", "--model", str(trained["out"]), "--data", str(folders / "bare"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "test" and report["n"] == 50 and report["classes"] == list(EMOTION_CLASSES)
    assert {"accuracy", "macro_f1", "per_class", "confusion_matrix"} <= set(report)
    assert sum(map(sum, report["confusion_matrix"])) == 50
    assert report["accuracy"] > 0.3  # chance is 1/7; the squares are easy
    assert [row["name"] for row in report["per_class"]] == list(EMOTION_CLASSES)


def test_train_and_evaluate_text_output(folders: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "m"
    assert main(["train", "--data", str(folders / "split"), *TINY, "--epochs", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "compiled" in text or "already compiled" in text
    assert "epoch 1/1  train loss" in text and f"saved {out}" in text
    assert main(["evaluate", "--model", str(out), "--data", str(folders / "split"), "--split", "val", "--tta"]) == 0
    text = capsys.readouterr().out
    assert "[val], n=70 (TTA)" in text and "macro-F1" in text and "rows true, columns predicted" in text


def test_ctrl_c_keeps_the_best_epoch_and_exits_130(
    folders: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    real = train_module.train_and_evaluate

    def interrupted_after_epoch_1(config, data, **kwargs):
        def on_epoch(epoch: int, metrics: dict) -> None:
            raise KeyboardInterrupt

        return real(config, data, **{**kwargs, "on_epoch": on_epoch})

    monkeypatch.setattr(train_module, "train_and_evaluate", interrupted_after_epoch_1)
    out = tmp_path / "m"
    assert main(["train", "--data", str(folders / "split"), *TINY, "--epochs", "3", "--out", str(out), "--json"]) == 130
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["interrupted"] and summary["best_epoch"] == 1 and len(summary["history"]) == 1
    assert "interrupted" in captured.err
    assert (out / "params.msgpack").is_file()


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["train", "--preset", "seed-emotion-9"], 2, "unknown preset 'seed-emotion-9'; choose one of: seed-emotion-1"),
        (["train", "--depth", "7"], 2, "depth must be 1..5 for 48x48 input (each block halves it), got depth=7"),
        (["train", "--preset", "seed-gender", "--task", "emotion"], 2, "does not match preset"),
        (["train", "--data", "/no/such/folder"], 3, "no such file or folder"),
        (["evaluate", "--model", "/no/such/model"], 4, "no model directory at /no/such/model"),
        (["evaluate", "--model", "pretrained:age"], 4, "choose one of: emotion, gender"),
    ],
)
def test_cli_errors_are_one_line_with_exit_code(
    argv: list[str], code: int, message: str, capsys: pytest.CaptureFixture
) -> None:
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_evaluate_unknown_split(trained: dict, folders: Path, capsys: pytest.CaptureFixture) -> None:
    if not (trained["out"] / "params.msgpack").is_file():
        assert main([*trained["args"], "--json"]) == 0
    assert main(["evaluate", "--model", str(trained["out"]), "--data", str(folders / "split"), "--split", "x"]) == 3
    assert "no split 'x' in this data; choose one of: train, val" in capsys.readouterr().err


def test_evaluate_requires_matching_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # A model directory whose params do not match its config is refused with exit 4, before any data is read.
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    (tmp_path / "m" / "params.msgpack").write_bytes(b"")
    assert main(["evaluate", "--model", str(tmp_path / "m")]) == 4
    assert "config.json is unreadable or invalid" in capsys.readouterr().err


def test_half_precision_artifact(folders: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "half"
    assert main(["train", "--data", str(folders / "split"), *TINY, "--epochs", "1", "--out", str(out), "--half",
                 "--json"]) == 0  # fmt: skip
    capsys.readouterr()
    assert json.loads((out / "config.json").read_text())["dtype"] == "float16"
    assert main(["evaluate", "--model", str(out), "--data", str(folders / "split"), "--json"]) == 0
    assert np.isfinite(json.loads(capsys.readouterr().out)["accuracy"])


def test_init_from_copies_the_trunk_of_another_model(
    folders: Path, trained: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    if not (trained["out"] / "params.msgpack").is_file():
        assert main([*trained["args"], "--json"]) == 0
    capsys.readouterr()
    out = tmp_path / "tuned"
    args = ["train", "--data", str(folders / "split"), *TINY, "--epochs", "1", "--lr", "1e-9", "--out", str(out)]
    assert main([*args, "--init-from", str(trained["out"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["init_from"] == str(trained["out"])
    from facesweep.model.artifacts import load_model

    source, tuned = load_model(trained["out"]), load_model(out)
    # A learning rate of 1e-9 barely moves the weights: the trunk must be the source's, not a fresh init.
    np.testing.assert_allclose(
        tuned.variables["params"]["conv0_0"]["kernel"], source.variables["params"]["conv0_0"]["kernel"], atol=1e-5
    )


def test_evaluate_split_val_on_a_bare_folder_makes_the_training_split(
    folders: Path, trained: dict, capsys: pytest.CaptureFixture
) -> None:
    if not (trained["out"] / "params.msgpack").is_file():
        assert main([*trained["args"], "--json"]) == 0
    capsys.readouterr()
    args = ["evaluate", "--model", str(trained["out"]), "--data", str(folders / "bare"), "--json"]
    assert main([*args, "--split", "val"]) == 0
    report = json.loads(capsys.readouterr().out)
    from facesweep.io import load_dataset

    expected = load_dataset("emotion", folders / "bare", seed=0).val  # the seeded, stratified 20% training makes
    assert report["split"] == "val" and report["n"] == len(expected) < 50
