"""ONNX export: the folded graph reproduces ``predict`` in ONNX Runtime and in OpenCV's ``cv2.dnn`` (random nets
with non-trivial batch-norm statistics, and the shipped models on real FER-2013 images), its metadata round-trips,
the file is self-contained, and the OpenCV predictor honours the TTA default and fails in one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np
import onnx
import pytest

from facesweep.errors import CheckpointError
from facesweep.io.folders import decode_image
from facesweep.io.synthetic import synthetic_dataset
from facesweep.model.artifacts import TrainedModel, load_model
from facesweep.model.cnn import init_variables, model_for
from facesweep.model.config import tiny
from facesweep.model.export import (
    INPUT_NAME,
    OpenCVPredictor,
    build_onnx,
    check_onnx,
    load_opencv_net,
    onnx_bytes,
    read_metadata,
    save_onnx,
    to_onnx_input,
)
from facesweep.tasks import get_task

ort = pytest.importorskip("onnxruntime")
TOLERANCE = 1e-4  # the bar: max probability difference from predict


def random_model(seed: int = 0, tta: bool = False, **overrides) -> TrainedModel:
    """A random net whose batch norms are far from identity (so folding them is really exercised).

    Weights are drawn in numpy from the shapes flax would make (``eval_shape`` traces, compiles nothing): eager
    ``init`` compiles op by op and took ~30 s on the shared 2-core machine.
    """
    config = tiny(**overrides)
    shapes = jax.eval_shape(lambda: init_variables(model_for(config), jax.random.key(0)))
    rng = np.random.default_rng(seed)

    def draw(path: tuple, spec: jax.ShapeDtypeStruct) -> np.ndarray:
        name, shape = path[-1].key, spec.shape
        if name == "kernel":  # lecun-normal-like, so activations stay O(1) through the blocks
            return rng.normal(0, 1 / np.sqrt(np.prod(shape[:-1])), shape)
        if name == "var":
            return rng.uniform(0.05, 3.0, shape)
        if name == "scale":
            return rng.uniform(0.5, 2.0, shape)
        return rng.normal(0, 0.3, shape)  # bias, mean

    variables = jax.tree_util.tree_map_with_path(draw, shapes)
    return TrainedModel(config, get_task(config.task).classes, variables, tta=tta)


def faces(model: TrainedModel, n: int = 12) -> np.ndarray:
    task = get_task(model.config.task, image_size=model.config.image_size, channels=model.config.channels)
    return synthetic_dataset(task, n_train=0, n_val=n, seed=1).val.images


def run_onnxruntime(data: bytes, images: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {INPUT_NAME: to_onnx_input(images)})[0]


CASES = {
    "dense-head": dict(),
    "global-pool-2-convs": dict(dense=(), convs_per_block=2, depth=3),
    "rgb-odd-pools-2-dense": dict(task="gender", channels=3, image_size=42, depth=3, dense=(24, 12)),
}


@pytest.mark.parametrize("overrides", CASES.values(), ids=CASES.keys())
def test_random_nets_match_predict_in_onnxruntime_and_cv2(overrides: dict) -> None:
    model = random_model(**overrides)
    images = faces(model)
    expected = model.predict(images, tta=False)
    assert expected.max() < 0.999  # not saturated, so a wrong fold would show
    data = onnx_bytes(model)
    assert np.abs(run_onnxruntime(data, images) - expected).max() < TOLERANCE
    got = OpenCVPredictor(model, tta=False).predict(images)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert np.abs(got - expected).max() < TOLERANCE


def test_batch_norm_is_folded_and_only_standard_nodes_remain() -> None:
    proto = build_onnx(random_model())
    types = [node.op_type for node in proto.graph.node]
    assert set(types) <= {"Conv", "Relu", "MaxPool", "Flatten", "GlobalAveragePool", "Gemm", "Softmax"}
    assert types.count("Conv") == 2 and "BatchNormalization" not in types and types[-1] == "Softmax"
    assert proto.opset_import[0].version == 13
    input_shape = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert input_shape == ["N", 1, 48, 48]


def test_a_wrong_fold_would_be_caught() -> None:
    """The parity check is sensitive: the same graph with another net's batch norms fails it."""
    model, other = random_model(seed=0), random_model(seed=1)
    images = faces(model)
    with pytest.raises(CheckpointError, match=r"disagrees with predict in cv2_dnn: max probability difference"):
        check_onnx(model, onnx_bytes(other), images)
    report = check_onnx(model, onnx_bytes(model), images)
    assert report["max_abs_diff"]["cv2_dnn"] < TOLERANCE and report["max_abs_diff"]["onnxruntime"] < TOLERANCE
    assert report["nodes"] == 11 and report["images"] == len(images)


def test_metadata_round_trips_and_the_file_is_self_contained(tmp_path: Path) -> None:
    model = random_model(tta=True)
    crop = {"template": {"left_eye": [0.3, 0.4], "right_eye": [0.7, 0.4]}, "size": 48}
    path = save_onnx(model, tmp_path / "sub" / "m.onnx", inference={"tta": True, "crop": crop})
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.onnx"]  # no .onnx.data beside it, no temp left
    proto = onnx.load(str(path), load_external_data=False)
    assert all(t.data_location != onnx.TensorProto.EXTERNAL for t in proto.graph.initializer)
    meta = read_metadata(path)
    assert meta["classes"] == list(model.classes) and meta["task"] == "emotion"
    assert (meta["image_size"], meta["channels"], meta["color"]) == (48, 1, "gray")
    assert meta["tta"] is True and meta["inference"]["crop"] == crop
    assert "NCHW" in meta["input_layout"] and "/ 255" in meta["scaling"] and meta["facesweep_version"]
    assert read_metadata(path.read_bytes()) == meta
    # ONNX Runtime exposes the same map to users outside facesweep.
    custom = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    assert json.loads(custom["classes"]) == list(model.classes)


def test_opencv_predictor_honours_the_tta_default_and_validates() -> None:
    model = random_model(tta=True)
    images = faces(model, 5)
    with_tta, without = model.predict(images), model.predict(images, tta=False)
    assert np.abs(with_tta - without).max() > 1e-3  # flipping matters for this net, so the check means something
    predictor = OpenCVPredictor(model)
    assert predictor.tta is True and predictor.classes == model.classes
    assert np.abs(predictor.predict(images) - with_tta).max() < TOLERANCE
    assert np.abs(predictor(images, tta=False) - without).max() < TOLERANCE
    assert np.abs(predictor.predict(images[:1]) - with_tta[:1]).max() < TOLERANCE  # batch 1 after batch 5
    assert predictor.predict(images[:0]).shape == (0, 7)
    with pytest.raises(CheckpointError, match=r"expects images of shape \(N, 48, 48, 1\), got \(48, 48, 1\)"):
        predictor.predict(images[0])


def test_unloadable_graph_is_one_clear_error() -> None:
    with pytest.raises(CheckpointError, match=r"^OpenCV \S+ cannot load the ONNX graph: "):
        load_opencv_net(b"not an onnx file")


@pytest.fixture(scope="module")
def fer_sample(shared_data_module: Path) -> list[str]:
    files = sorted((shared_data_module / "fer2013" / "val").glob("*/*"))
    return [str(p) for p in files[:: max(1, len(files) // 48)]][:48]


@pytest.fixture(scope="module")
def shared_data_module() -> Path:
    from tests.conftest import SHARED_DATA

    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["emotion", "gender"])
def test_shipped_models_match_predict_on_fer2013_val(name: str, fer_sample: list[str]) -> None:
    model = load_model(f"pretrained:{name}")
    images = np.stack([decode_image(path, 48, 1)[0] for path in fer_sample])
    data = onnx_bytes(model)
    assert np.abs(run_onnxruntime(data, images) - model.predict(images, tta=False)).max() < TOLERANCE
    # cv2.dnn through the live view's predictor, with the model's own TTA default (on for emotion).
    assert np.abs(OpenCVPredictor(model).predict(images) - model.predict(images)).max() < TOLERANCE
