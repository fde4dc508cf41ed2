"""Artifacts: save/load round trips (float32 exact, float16 close) and one clear CheckpointError per corruption."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import pytest

from facesweep.errors import CheckpointError
from facesweep.model.artifacts import TrainedModel, load_model, save_model
from facesweep.model.cnn import init_variables, model_for
from facesweep.model.config import tiny
from facesweep.tasks import EMOTION_CLASSES


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    config = tiny()
    variables = init_variables(model_for(config), jax.random.key(0))
    return TrainedModel(config=config, classes=EMOTION_CLASSES, variables=variables)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (5, 48, 48, 1)).astype(np.uint8)


def test_round_trip_predicts_the_same(model: TrainedModel, images: np.ndarray, tmp_path: Path) -> None:
    history = [{"epoch": 1, "val_accuracy": 0.5}]
    path = save_model(tmp_path / "m", model, history, extra={"note": "x"})
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "metrics.json", "params.msgpack"]
    loaded = load_model(path)
    assert loaded.config == model.config and loaded.classes == EMOTION_CLASSES
    np.testing.assert_array_equal(loaded.predict(images), model.predict(images))
    assert json.loads((path / "metrics.json").read_text()) == history
    meta = json.loads((path / "config.json").read_text())
    assert meta["task"] == "emotion" and meta["extra"] == {"note": "x"} and meta["dtype"] == "float32"


def test_float16_round_trip_is_close_and_smaller(model: TrainedModel, images: np.ndarray, tmp_path: Path) -> None:
    full = save_model(tmp_path / "f32", model)
    half = save_model(tmp_path / "f16", model, dtype="float16")
    assert (half / "params.msgpack").stat().st_size < 0.6 * (full / "params.msgpack").stat().st_size
    loaded = load_model(half)
    assert all(leaf.dtype == np.float32 for leaf in jax.tree.leaves(loaded.variables))
    np.testing.assert_allclose(loaded.predict(images), model.predict(images), atol=2e-3)


def test_overwrite_replaces_existing_artifact(model: TrainedModel, tmp_path: Path) -> None:
    path = save_model(tmp_path / "m", model, [{"epoch": 1}])
    save_model(path, model, [{"epoch": 2}])
    assert json.loads((path / "metrics.json").read_text()) == [{"epoch": 2}]
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary directories left behind


def _truncate(path: Path) -> None:
    data = (path / "params.msgpack").read_bytes()
    (path / "params.msgpack").write_bytes(data[: len(data) // 2])


def _mismatch(path: Path) -> None:
    meta = json.loads((path / "config.json").read_text())
    meta["config"]["width"] = 16
    (path / "config.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda p: (p / "params.msgpack").unlink(), "params.msgpack is missing"),
        (lambda p: (p / "config.json").unlink(), "config.json is missing"),
        (_truncate, "truncated or corrupt"),
        (_mismatch, "does not match its config"),
        (lambda p: (p / "config.json").write_text("{not json"), "unreadable or invalid"),
    ],
)
def test_corrupt_artifacts_raise_one_clear_line(model: TrainedModel, tmp_path: Path, corrupt, message: str) -> None:
    path = save_model(tmp_path / "m", model)
    corrupt(path)
    with pytest.raises(CheckpointError, match=message) as info:
        load_model(path)
    assert "\n" not in str(info.value)


def test_missing_directory_and_unknown_pretrained(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no model directory"):
        load_model(tmp_path / "nope")
    with pytest.raises(CheckpointError, match="choose one of: emotion, gender"):
        load_model("pretrained:age")


def test_predict_validates_shape_and_buckets(model: TrainedModel, images: np.ndarray) -> None:
    with pytest.raises(CheckpointError, match=r"pass images\[None\]"):
        model.predict(images[0])
    with pytest.raises(CheckpointError, match=r"\(N, 48, 48, 1\)"):
        model.predict(np.zeros((2, 32, 32, 1), np.uint8))
    batch = np.concatenate([images] * 60)  # 300 images: a 256 chunk and a 44 chunk padded to 64
    probs = model.predict(batch)
    assert probs.shape == (300, 7)
    np.testing.assert_allclose(probs[:5], model.predict(images), atol=1e-6)
    tta = model.predict(images, tta=True)
    flipped = model.predict(images[:, :, ::-1, :])
    np.testing.assert_allclose(tta, 0.5 * (model.predict(images) + flipped), atol=1e-6)
