"""`--detect` on the CLI: `facesweep data` counts face / whole / none, lists the faceless files with --debug."""

from __future__ import annotations

import json

import pytest

from facesweep.cli import main
from facesweep.faces.align import DEFAULT_TEMPLATE
from tests.test_io_faces import faceless_tree


def test_data_detect_reports_a_faceless_photo_as_none_and_exits_0(tmp_path, capsys):
    root = faceless_tree(tmp_path / "g")
    assert main(["data", "--task", "gender", "--data", str(root), "--detect", "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["faces"]["counts"] == {"face": 0, "whole": 12, "none": 1}
    assert "none_paths" not in summary["faces"] and "no face" not in captured.err
    assert summary["splits"]["train"]["total"] + summary["splits"]["val"]["total"] == 12
    assert main(["data", "--task", "gender", "--data", str(root), "--detect", "--debug"]) == 0
    captured = capsys.readouterr()
    assert "facesweep data: no face: woman/noise.png" in captured.err
    assert "0 face, 12 whole" in captured.out and "1 none" in captured.out


def test_data_detect_with_another_models_template_and_haar(tmp_path, capsys):
    root = faceless_tree(tmp_path / "g")
    args = ["data", "--task", "gender", "--data", str(root), "--json"]
    assert main([*args, "--template-from", "pretrained:emotion", "--detector", "haar"]) == 0
    faces = json.loads(capsys.readouterr().out)["faces"]
    assert faces["detector"]["name"] == "haar" and faces["template"] == DEFAULT_TEMPLATE.to_dict()
    assert faces["template_measured"] is False


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--detect", "--detect-score", "1.5"], 2, "--detect-score must be in (0, 1), got 1.5"),
        (["--detector-model", "nope.onnx"], 4, "YuNet model not found: nope.onnx"),
        (["--detect", "--template-from", "no/such/model"], 4, "no model at no/such/model"),
    ],
)
def test_detect_errors_are_one_line(tmp_path, capsys, extra, code, message):
    root = faceless_tree(tmp_path / "g")
    assert main(["data", "--task", "gender", "--data", str(root), *extra]) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.realdata
def test_train_detect_stores_the_training_template_in_the_model(tmp_path, capsys, shared_data):
    import shutil

    from facesweep.faces.align import Template
    from facesweep.model.artifacts import load_model

    root = tmp_path / "g"
    for name in ("man", "woman"):
        (root / name).mkdir(parents=True)
        for path in sorted((shared_data / "gender" / name).iterdir())[:15]:
            shutil.copy(path, root / name / path.name)
    out = tmp_path / "m"
    tiny = ["--depth", "1", "--width", "4", "--dense", "none", "--batch-size", "8", "--image-size", "48"]
    args = ["train", "--task", "gender", "--data", str(root), *tiny, "--epochs", "1", "--out", str(out), "--detect"]
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["faces"]["face"] >= 28
    model = load_model(out)
    assert model.crop["detector"] == "yunet" and "training split" in model.crop_template.source
    assert model.crop_template != DEFAULT_TEMPLATE and isinstance(model.crop_template, Template)
    # --template-from keeps another model's template instead of measuring one
    assert main([*args, "--template-from", "pretrained:emotion", "--out", str(tmp_path / "m2"), "--json"]) == 0
    assert load_model(tmp_path / "m2").crop_template == DEFAULT_TEMPLATE
