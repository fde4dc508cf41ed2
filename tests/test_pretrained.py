"""The shipped models: they load by name, carry their inference default, and score what their cards say."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pytest

from facesweep.cli import main
from facesweep.model.artifacts import TrainedModel, load_model, save_model
from facesweep.model.cnn import init_variables, model_for
from facesweep.model.config import tiny


@pytest.mark.parametrize(
    ("name", "classes", "shape", "tta"),
    [
        ("emotion", ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"), (48, 48, 1), True),
        ("gender", ("man", "woman"), (48, 48, 1), False),
    ],
)
def test_pretrained_models_load_by_name(name: str, classes: tuple, shape: tuple, tta: bool) -> None:
    model = load_model(f"pretrained:{name}")
    assert model.classes == classes
    assert model.input_shape == shape
    assert model.tta is tta
    probs = model.predict(np.full((3, *shape), 128, np.uint8))
    assert probs.shape == (3, len(classes))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    card = Path(__file__).resolve().parents[1] / "facesweep" / "pretrained" / name / "MODEL_CARD.md"
    assert card.is_file() and card.stat().st_size > 500
    size = sum(p.stat().st_size for p in card.parent.iterdir())
    assert size <= 10 * 1024 * 1024


def test_tta_default_is_stored_with_the_model(tmp_path: Path) -> None:
    config = tiny("emotion")
    variables = init_variables(model_for(config), jax.random.key(0))
    model = TrainedModel(config=config, classes=("a", "b", "c", "d", "e", "f", "g"), variables=variables, tta=True)
    save_model(tmp_path / "m", model)
    assert json.loads((tmp_path / "m" / "config.json").read_text())["inference"] == {"tta": True}
    loaded = load_model(tmp_path / "m")
    images = np.random.default_rng(0).integers(0, 256, (4, 48, 48, 1), dtype=np.uint8)
    np.testing.assert_allclose(loaded.predict(images), loaded.predict(images, tta=True), rtol=1e-6)
    assert not np.allclose(loaded.predict(images), loaded.predict(images, tta=False), rtol=1e-6)


@pytest.mark.realdata
def test_pretrained_emotion_on_fer2013_publictest(shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["evaluate", "--model", "pretrained:emotion", "--data", str(shared_data / "fer2013" / "val"), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 3589
    assert report["accuracy"] >= 0.70
    assert report["macro_f1"] >= 0.65


@pytest.mark.realdata
def test_pretrained_gender_on_its_validation_split(shared_data: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["evaluate", "--model", "pretrained:gender", "--data", str(shared_data / "gender"), "--split", "val"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 370  # the seeded, stratified 20% the model was validated on
    assert report["accuracy"] >= 0.93
