"""8-bit inference: a calibrated graph beside the params agrees with float32 on a generated batch, is refused
beside other weights, calibrates on training images only, and ``facesweep export --int8`` writes it where the live
view finds it; the shipped models carry theirs (and stay small)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from facesweep.cli import main
from facesweep.errors import CheckpointError, UsageError
from facesweep.io.synthetic import synthetic_raw
from facesweep.model.artifacts import INT8_FILE, PRETRAINED_DIR, load_model, save_model
from facesweep.model.export import calibration_images, quantize_int8, read_metadata
from facesweep.model.inference import Int8Predictor, int8_path, make_predictor, params_digest
from facesweep.tasks import get_task
from tests.io_helpers import write_class_tree
from tests.test_model_export import random_model

pytest.importorskip("onnxruntime")


def generated(model, n: int, seed: int) -> np.ndarray:
    """``n`` synthetic faces of the model's task and shape (seed 0 for calibration, another for checking)."""
    task = get_task(model.config.task, image_size=model.config.image_size, channels=model.config.channels)
    return synthetic_raw(task, n_train=0, n_val=n, seed=seed).images


@pytest.fixture(scope="module")
def with_int8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved random model with its int8 graph beside the params, calibrated on 128 generated faces."""
    path = save_model(tmp_path_factory.mktemp("int8") / "emotion", random_model(tta=True))
    model = load_model(path)
    (path / INT8_FILE).write_bytes(quantize_int8(model, generated(model, 128, seed=0), provenance={"test": True}))
    return path


def test_int8_agrees_with_float32_on_a_generated_batch(with_int8: Path) -> None:
    model = load_model(with_int8)
    images = generated(model, 64, seed=3)
    int8 = make_predictor(model, precision="int8")
    assert isinstance(int8, Int8Predictor) and int8.precision == "int8" and int8.runtime == "onnxruntime"
    assert int8.tta is True  # the model's own default, as every predictor
    for tta in (False, True):
        got, ref = int8.predict(images, tta=tta), model.predict(images, tta=tta)
        assert got.shape == ref.shape and got.dtype == np.float32
        assert np.allclose(got.sum(axis=1), 1.0, atol=1e-5)  # the softmax stays float32: no 1/255 steps
        assert np.mean(got.argmax(1) == ref.argmax(1)) >= 0.9
        assert np.abs(got - ref).mean() < 0.01 and np.abs(got - ref).max() < 0.1
    assert int8.predict(images[:0]).shape == (0, len(model.classes))


def test_the_graph_records_its_calibration_and_the_weights_it_was_built_from(with_int8: Path) -> None:
    meta = read_metadata(with_int8 / INT8_FILE)
    assert meta["precision"] == "int8" and meta["calibration"] == {"test": True}
    assert meta["params_sha256"] == params_digest(with_int8) and "per-channel int8 weights" in meta["quantization"]
    assert meta["tta"] is True and meta["classes"] == list(load_model(with_int8).classes)


def test_float32_is_the_default_and_a_model_without_a_graph_has_none(with_int8: Path, tmp_path: Path) -> None:
    assert make_predictor(load_model(with_int8)).precision == "float32"
    bare = load_model(save_model(tmp_path / "bare", random_model()))
    assert int8_path(bare) is None and int8_path(random_model()) is None
    with pytest.raises(CheckpointError, match=r"has no int8 graph; build one with: facesweep export .* --int8"):
        make_predictor(bare, precision="int8")
    with pytest.raises(UsageError, match=r"^unknown precision 'fp16'; choose one of: int8, float32$"):
        make_predictor(bare, precision="fp16")


def test_a_graph_beside_other_weights_is_refused(with_int8: Path, tmp_path: Path) -> None:
    other = save_model(tmp_path / "other", random_model(seed=1))
    shutil.copy(with_int8 / INT8_FILE, other / INT8_FILE)
    with pytest.raises(CheckpointError, match=r"was built from other weights than .*; rebuild it"):
        make_predictor(load_model(other), precision="int8")
    (other / INT8_FILE).write_bytes(b"not a graph")
    with pytest.raises(CheckpointError, match=r"^ONNX Runtime cannot load .*model.int8.onnx"):
        make_predictor(load_model(other), precision="int8")


@pytest.mark.parametrize("folder", ["val", "fer2013/validation", "domain-dev/ckplus", "faces/Test"])
def test_calibration_refuses_validation_test_and_domain_dev_folders(tmp_path: Path, folder: str) -> None:
    write_class_tree(tmp_path / folder, {"man": 2, "woman": 2})
    with pytest.raises(UsageError, match=r"calibration reads training images only"):
        calibration_images(random_model(task="gender"), tmp_path / folder)


def test_calibration_takes_a_seeded_sample_of_the_training_split(tmp_path: Path) -> None:
    root = write_class_tree(tmp_path / "faces", {"man": 10, "woman": 10})
    model = random_model(task="gender")
    images, source = calibration_images(model, root, count=6)
    again, _ = calibration_images(model, root, count=6)
    assert images.shape == (6, *model.input_shape) and images.dtype == np.uint8 and np.array_equal(images, again)
    assert source.startswith("6 of 16 training images of ") and source.endswith("(seed 0)")  # 80% of 20


def test_export_int8_writes_beside_the_params_for_live(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model_dir = save_model(tmp_path / "gender", random_model(task="gender"))
    data = write_class_tree(tmp_path / "faces", {"man": 12, "woman": 12}, color=True)
    args = ["export", "--model", str(model_dir), "--int8", "--calib", str(data), "--images", "8"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["out"] == str(model_dir / INT8_FILE) and report["bytes"] == (model_dir / INT8_FILE).stat().st_size
    n = report["metadata"]["calibration"]["images"]
    assert report["calibration"].startswith(f"{n} of {n} training images") and 16 <= n <= 20  # ~80% of 24
    assert report["images"] == 8
    assert 0 <= report["top1_agreement"] <= 1 and report["metadata"]["calibration"]["split"] == "train"
    assert make_predictor(load_model(model_dir), precision="int8").precision == "int8"
    assert main([*args, "--out", str(tmp_path / "g.int8.onnx")]) == 0
    text = capsys.readouterr().out
    assert "quantization" in text and "top-1 agrees on" in text and (tmp_path / "g.int8.onnx").is_file()


def one_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--int8"], "--int8 needs --calib DATA"),
        (["--calib", "x"], "--calib goes with --int8"),
        ([], "--out FILE is required"),
        (["--int8", "--calib", "VAL"], "calibration reads training images only"),
    ],
)
def test_export_int8_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, args, message) -> None:
    model_dir = save_model(tmp_path / "m", random_model())
    val = write_class_tree(tmp_path / "val", {"happy": 2})
    args = [str(val) if a == "VAL" else a for a in args]
    assert main(["export", "--model", str(model_dir), *args]) == 2
    line = one_line(capsys)
    assert line.startswith("facesweep export: error: ") and message in line


@pytest.mark.parametrize("task", ["emotion", "gender"])
def test_the_shipped_models_carry_an_int8_graph_of_their_own_weights(task: str) -> None:
    model = load_model(f"pretrained:{task}")
    predictor = make_predictor(model, precision="int8")  # refuses a graph of other weights
    meta = read_metadata(int8_path(model).read_bytes())
    assert meta["calibration"]["split"] == "train" and meta["calibration"]["images"] == 512
    images = generated(model, 8, seed=5)
    assert np.allclose(predictor.predict(images).sum(axis=1), 1.0, atol=1e-5)
    size = sum(f.stat().st_size for f in (PRETRAINED_DIR / task).iterdir())
    assert size <= 10_000_000, f"pretrained/{task} is {size / 1e6:.1f} MB"


@pytest.mark.realdata
def test_shipped_int8_labels_match_float32_on_publictest(shared_data: Path) -> None:
    from facesweep.io import load_dataset

    model = load_model("pretrained:emotion")
    split = load_dataset("emotion", shared_data / "fer2013" / "val", whole=True).splits["test"]
    images = split.images[:: max(1, len(split.images) // 400)]
    int8, ref = make_predictor(model, precision="int8").predict(images), make_predictor(model, "opencv").predict(images)
    assert np.mean(int8.argmax(1) == ref.argmax(1)) >= 0.97  # 98.9% on all 3,589 (BENCHMARKS.md)
