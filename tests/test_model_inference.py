"""One home for inference: the batch padding every runtime shares, the one reader of config.json's ``inference``
block, and the three predictors agreeing with ``TrainedModel.predict``; the live view's new path (both models side
by side, every face of a frame in one call per model) gives the shipped models' probabilities of the old path."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from facesweep.errors import CheckpointError, UsageError
from facesweep.faces.align import DEFAULT_TEMPLATE
from facesweep.model.artifacts import load_model
from facesweep.model.inference import (
    OnnxRuntimePredictor,
    OpenCVPredictor,
    XlaPredictor,
    bucket_size,
    make_predictor,
    parse_inference,
    run_padded,
)
from tests.test_model_export import TOLERANCE, faces, random_model

pytest.importorskip("onnxruntime")


def test_bucket_sizes_are_powers_of_two_up_to_the_cap():
    assert [bucket_size(n) for n in (0, 1, 2, 3, 5, 200, 256, 300)] == [1, 1, 2, 4, 8, 256, 256, 256]
    assert [bucket_size(n, 32) for n in (1, 3, 17, 40)] == [1, 4, 32, 32]


def test_run_padded_pads_each_chunk_and_drops_the_padding():
    seen = []

    def run(batch):
        seen.append(len(batch))
        return batch.reshape(len(batch), -1)[:, :1].astype(np.float32)

    images = np.arange(37, dtype=np.uint8).reshape(37, 1, 1, 1) + 1
    out = run_padded(images, run, cap=16)
    assert seen == [16, 16, 8] and out[:, 0].tolist() == list(range(1, 38))


def test_parse_inference_defaults_keeps_other_keys_and_names_the_file_when_bad():
    assert parse_inference({}) == {"tta": False, "crop": None}
    crop = {"template": DEFAULT_TEMPLATE.to_dict(), "detector": "yunet"}
    assert parse_inference({"inference": {"tta": 1, "crop": crop, "note": "x"}}) == {
        "tta": True, "crop": crop, "note": "x"
    }
    with pytest.raises(CheckpointError, match=r"^m/config.json: inference.crop is invalid"):
        parse_inference({"inference": {"crop": {"template": {"points": [[0, 0]]}}}}, "m/config.json")


@pytest.mark.parametrize("tta", [False, True])
@pytest.mark.parametrize("predictor", [OpenCVPredictor, OnnxRuntimePredictor, XlaPredictor])
def test_each_runtime_matches_predict(predictor, tta):
    model = random_model(tta=tta)
    images = faces(model, 6)
    got = predictor(model)
    assert got.tta is tta and got.classes == model.classes and got.runtime in ("opencv", "onnxruntime", "xla")
    assert np.abs(got.predict(images) - model.predict(images)).max() < TOLERANCE
    assert np.abs(got(images[:1], tta=not tta) - model.predict(images[:1], tta=not tta)).max() < TOLERANCE
    assert got.predict(images[:0]).shape == (0, len(model.classes))


def test_unknown_runtime_and_wrong_shapes_are_one_line_errors():
    model = random_model()
    with pytest.raises(UsageError, match=r"^unknown runtime 'tpu'; choose one of: opencv, onnxruntime, xla$"):
        make_predictor(model, "tpu")
    with pytest.raises(CheckpointError, match=r"got \(48, 48, 1\) -- one image: pass images\[None\]$"):
        make_predictor(model, "onnxruntime").predict(faces(model, 4)[0])


@pytest.fixture(scope="module")
def shipped():
    return [load_model("pretrained:emotion"), load_model("pretrained:gender")]


def test_the_live_path_gives_the_shipped_models_old_probabilities(shipped):
    """Old path: each model alone in cv2.dnn, one call after the other. New: the live heads, one call per model
    with every face of the frame, both models at once in two threads, on cv2.dnn and ONNX Runtime."""
    from facesweep.live.heads import Head, predict_heads

    crops = faces(shipped[0], 5)  # 48x48 gray faces, what both shipped models take
    old = [model.predict(crops, tta=False) for model in shipped]
    for runtime in ("opencv", "onnxruntime"):
        heads = [
            Head.from_model(m.config.task, m, crop=lambda frame, face: frame,
                            predict=make_predictor(m, runtime, tta=False).predict)
            for m in shipped
        ]
        with ThreadPoolExecutor(1) as pool:
            side_by_side = predict_heads(heads, [list(crops)] * 2, pool)
        one_by_one = predict_heads(heads, [list(crops)] * 2)
        for new, seq, ref in zip(side_by_side, one_by_one, old, strict=True):
            assert np.array_equal(new, seq)  # threads change nothing
            assert np.abs(new - ref).max() < TOLERANCE, runtime
