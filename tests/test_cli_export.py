"""`facesweep export` end to end on a small saved model: the file, its --json, the text view, each error's exit
code and one line; and the README's "run it outside facesweep" snippet, executed as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from facesweep.cli import main
from facesweep.cli.export import RUN_SNIPPET
from facesweep.faces.align import DEFAULT_TEMPLATE
from facesweep.io.folders import decode_image
from facesweep.io.synthetic import synthetic_raw
from facesweep.model.artifacts import load_model, save_model
from facesweep.model.export import read_metadata
from tests.test_model_export import random_model

pytest.importorskip("onnxruntime")
README = Path(__file__).resolve().parents[1] / "README.md"
CROP = {"template": DEFAULT_TEMPLATE.to_dict(), "detector": "yunet"}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = save_model(tmp_path_factory.mktemp("models") / "emotion", random_model(tta=True))
    config = json.loads((path / "config.json").read_text())
    config["inference"]["crop"] = CROP  # as a model trained on aligned crops stores its template
    (path / "config.json").write_text(json.dumps(config))
    return path


def test_export_writes_the_file_and_json(saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out" / "model.onnx"
    assert main(["export", "--model", str(saved), "--out", str(out), "--images", "8", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["out"] == str(out) and report["bytes"] == out.stat().st_size
    assert report["images"] == 8 and report["images_source"].startswith("synthetic")
    assert report["nodes"] == 11 and report["node_types"]["Conv"] == 2 and report["opset"] == 13
    assert 0 <= report["max_abs_diff"]["cv2_dnn"] < 1e-4 and 0 <= report["max_abs_diff"]["onnxruntime"] < 1e-4
    meta = read_metadata(out)
    assert meta == report["metadata"]
    assert meta["tta"] is True and meta["inference"]["crop"] == CROP
    assert sorted(p.name for p in out.parent.iterdir()) == ["model.onnx"]


def test_export_text_view(saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["export", "--model", str(saved), "--out", str(tmp_path / "m.onnx"), "--images", "4"]) == 0
    text = capsys.readouterr().out
    assert "Conv x2" in text and "float32 (N, 1, 48, 48)" in text and "flip-average" in text
    assert re.search(r"cv2\.dnn \d\.\de-\d\d, onnxruntime \d\.\de-\d\d on 4 images", text)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--model", "no/such/dir"], 4, "no model directory at no/such/dir"),
        (["--model", "pretrained:nope"], 4, "unknown pretrained model 'nope'"),
        (["--images", "0"], 2, "--images must be at least 1, got 0"),
    ],
)
def test_errors_are_one_line_with_an_exit_code(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture, args: list, code: int, message: str
) -> None:
    base = {"--model": str(saved), "--out": str(tmp_path / "m.onnx")}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    assert main(["export", *[x for kv in base.items() for x in kv]]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("facesweep export: error: ") and message in err
    assert not (tmp_path / "m.onnx").exists()


def test_out_that_is_a_directory_is_refused(saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["export", "--model", str(saved), "--out", str(tmp_path)]) == 2
    assert f"--out {tmp_path} is a directory" in capsys.readouterr().err


def test_readme_snippet_runs_outside_facesweep(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The README shows RUN_SNIPPET verbatim (also in --help); run it on a face image and compare with predict."""
    assert RUN_SNIPPET in README.read_text(), "README's 'Export to ONNX' lines differ from cli/export.RUN_SNIPPET"
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    assert RUN_SNIPPET.splitlines()[-1].strip() in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--model", str(saved), "--out", "emotion.onnx", "--images", "2"]) == 0
    face = synthetic_raw("emotion", n_train=0, n_val=1, seed=3).images[0]
    big = cv2.resize(face, (96, 96), interpolation=cv2.INTER_LINEAR)  # a face larger than the input, as photos are
    cv2.imwrite("face.png", big)
    scope: dict = {}
    exec(RUN_SNIPPET, scope)  # noqa: S102 -- the documented user code, as written
    expected = load_model(saved).predict(decode_image("face.png", 48, 1)[0][None], tta=False)[0]
    assert scope["probs"].shape == (7,)
    assert np.abs(scope["probs"] - expected).max() < 1e-4
