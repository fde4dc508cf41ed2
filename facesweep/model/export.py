"""A trained model as a plain ONNX inference graph: build it, check it, write it (``facesweep export``).

    from facesweep.model.artifacts import load_model
    from facesweep.model.export import save_onnx
    model = load_model("pretrained:emotion")
    save_onnx(model, "emotion.onnx")              # self-contained file, metadata included

Running the graph (``cv2.dnn``, ONNX Runtime) lives in ``facesweep.model.inference`` with the other runtimes;
``OpenCVPredictor`` is re-exported here for older imports.

The graph (opset 13, IR 7: accepted by OpenCV 4.x ``cv2.dnn.readNetFromONNX`` and by ONNX Runtime) is built from
standard nodes only -- Conv, Relu, MaxPool, Flatten or GlobalAveragePool, Gemm, Softmax -- because ``cv2.dnn``
cannot import what a generic JAX converter makes of the custom max-pool (a 6-D reshape + ReduceMax):

- input ``images``: float32 ``(N, C, H, W)`` holding raw pixel values 0..255 (gray, or RGB in that order for a
  colour model: the order facesweep's ``predict`` takes). NCHW float is ``cv2.dnn``'s native blob layout
  (``cv2.dnn.blobFromImages`` makes it); a gray model's NHWC batch is the same memory, so a reshape suffices.
- the /255 scaling is folded into the first convolution's weights (exact: the convolution is linear and pads
  with zeros), each batch norm into its convolution's weights and bias, and dropout is dropped.
- output ``probabilities``: float32 ``(N, K)``, softmax over ``classes`` (metadata) in order.

Flip test-time augmentation is not in the graph (``cv2.dnn`` has no reliable negative-step Slice); the metadata
says whether the model's default is on, and the predictors run the flipped copies in the same batch.

The 8-bit graph (``quantize_int8``, ``export_int8``; ``facesweep export --int8 --calib DATA``) is that graph after
ONNX Runtime's static quantization: QDQ nodes, per-channel int8 weights, uint8 activations whose ranges are
calibrated (MinMax) on ``INT8_CALIB_IMAGES`` images of DATA's *training* split only. Written beside the params as
``model.int8.onnx`` with the params' SHA-256 in its metadata; ``facesweep.model.inference.Int8Predictor`` runs it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from facesweep import __version__
from facesweep.errors import CheckpointError, UsageError
from facesweep.model.artifacts import CONFIG_FILE, INT8_FILE, TrainedModel, resolve_ref
from facesweep.model.cnn import BN_EPSILON, feature_shape
from facesweep.model.inference import (
    OpenCVPredictor,
    inference_block,
    load_opencv_net,
    params_digest,
    parse_inference,
    require_onnxruntime,
    run_opencv_net,
    to_blob,
)

if TYPE_CHECKING:
    import onnx

OPSET = 13  # Softmax(axis=-1) semantics; the newest opset every OpenCV 4.x importer and ONNX Runtime take
IR_VERSION = 7  # the IR version that goes with opset 13; newer runtimes read older IR
INPUT_NAME = "images"
OUTPUT_NAME = "probabilities"
INPUT_LAYOUT = "NCHW float32, raw pixel values 0..255"
SCALING = "none outside the graph: x / 255 is folded into the first convolution"
PARITY_TOLERANCE = 1e-4  # largest probability difference from predict that an export may show
INT8_CALIB_IMAGES = 512  # training images the int8 activation ranges are calibrated on (bench/int8.py: enough)
INT8_CALIB_SEED = 0  # which of them: the first INT8_CALIB_IMAGES of a seeded permutation of the training split
CALIB_BATCH = 32  # calibration images a forward pass
HELD_OUT = ("val", "validation", "test", "publictest", "privatetest")  # split folders --calib refuses
QUANTIZATION = "onnxruntime quantize_static: QDQ, per-channel int8 weights, uint8 activations, MinMax calibration"
# Left in float32: the last layer (K outputs: no time to save) and the softmax, so the probabilities are not rounded
# to 1/255 steps and still sum to 1.
FLOAT_NODES = ("logits", "softmax")


def _require_onnx() -> Any:
    try:
        import onnx
    except ImportError:  # a core dependency; only a broken install gets here
        raise UsageError("ONNX export needs the 'onnx' package: pip install onnx") from None
    return onnx


# -- the graph -------------------------------------------------------------------------------------------
def fold_batch_norm(
    kernel: np.ndarray, scale: np.ndarray, bias: np.ndarray, mean: np.ndarray, var: np.ndarray, eps: float = BN_EPSILON
) -> tuple[np.ndarray, np.ndarray]:
    """A bias-free HWIO conv kernel followed by inference-mode batch norm -> ONNX ``(O, I, kH, kW)`` weights, bias.

    ``bn(conv(x, k)) = conv(x, k * s) + (bias - mean * s)`` with ``s = scale / sqrt(var + eps)`` per channel.
    """
    factor = (np.asarray(scale, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)).astype(np.float64)
    weights = np.asarray(kernel, np.float64) * factor  # broadcast over the last (output) axis
    shift = np.asarray(bias, np.float64) - np.asarray(mean, np.float64) * factor
    return weights.transpose(3, 2, 0, 1).astype(np.float32), shift.astype(np.float32)


def model_metadata(model: TrainedModel, inference: dict | None = None) -> dict[str, str]:
    """The ``metadata_props`` of the exported file: everything needed to feed it and read its output."""
    config = model.config
    if inference is None:  # what save_model writes to config.json's "inference"
        inference = inference_block(model)
    inference = {"tta": bool(model.tta), **inference}
    return {
        "task": config.task,
        "classes": json.dumps(list(model.classes)),
        "image_size": str(config.image_size),
        "channels": str(config.channels),
        "color": "gray" if config.channels == 1 else "rgb",
        "input_layout": INPUT_LAYOUT,
        "scaling": SCALING,
        "tta": json.dumps(bool(inference["tta"])),  # average with the horizontally flipped image when true
        "inference": json.dumps(inference, sort_keys=True),  # config.json's "inference" (crop template, ...)
        "facesweep_version": __version__,
    }


def build_onnx(model: TrainedModel, *, inference: dict | None = None) -> onnx.ModelProto:
    """The inference graph of ``model`` (batch norm folded, dropout dropped, softmax at the end); see module doc.

    ``inference`` is the model's ``config.json`` ``inference`` object for the metadata (default: rebuilt from the
    model's ``tta`` and, when it has one, its ``crop``).
    """
    onnx = _require_onnx()
    from onnx import TensorProto, helper, numpy_helper

    config = model.config
    host = jax.device_get(model.variables)
    params, stats = host["params"], host.get("batch_stats", {})
    nodes: list = []
    weights: list = []

    def const(name: str, array: np.ndarray) -> str:
        weights.append(numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    x = INPUT_NAME
    first = True
    for block in range(config.depth):
        for conv in range(config.convs_per_block):
            name = f"{block}_{conv}"
            bn = params[f"bn{name}"]
            w, b = fold_batch_norm(
                params[f"conv{name}"]["kernel"], bn["scale"], bn["bias"], stats[f"bn{name}"]["mean"],
                stats[f"bn{name}"]["var"],
            )  # fmt: skip
            if first:  # the model sees x / 255; a linear, zero-padded conv lets the factor move into the weights
                w, first = (w / np.float32(255.0)).astype(np.float32), False
            nodes.append(helper.make_node(
                "Conv", [x, const(f"conv{name}.weight", w), const(f"conv{name}.bias", b)], [f"conv{name}"],
                name=f"conv{name}", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1],
            ))  # fmt: skip
            nodes.append(helper.make_node("Relu", [f"conv{name}"], [f"relu{name}"], name=f"relu{name}"))
            x = f"relu{name}"
        # 2x2 stride-2 without padding floors odd sizes, as the model's max_pool_2x2 does.
        nodes.append(helper.make_node("MaxPool", [x], [f"pool{block}"], name=f"pool{block}",
                                      kernel_shape=[2, 2], strides=[2, 2]))  # fmt: skip
        x = f"pool{block}"
    if config.dense:
        # The model flattens NHWC (channel fastest); Flatten here sees NCHW, so the first dense kernel's rows
        # are permuted to (C, H, W) order instead of adding a Transpose node.
        h, w_, c = feature_shape(config)
        first_kernel = np.asarray(params["dense0"]["kernel"])
        params = dict(params, dense0=dict(params["dense0"], kernel=(
            first_kernel.reshape(h, w_, c, -1).transpose(2, 0, 1, 3).reshape(h * w_ * c, -1)
        )))  # fmt: skip
    else:
        nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
        x = "gap"
    nodes.append(helper.make_node("Flatten", [x], ["flat"], name="flat", axis=1))
    x = "flat"
    layers = [f"dense{i}" for i in range(len(config.dense))] + ["logits"]
    for layer in layers:
        kernel, bias = np.asarray(params[layer]["kernel"]), np.asarray(params[layer]["bias"])
        # transB=1 with (out, in) weights: the form every ONNX importer (cv2.dnn's InnerProduct included) takes.
        nodes.append(helper.make_node(
            "Gemm", [x, const(f"{layer}.weight", kernel.T), const(f"{layer}.bias", bias)], [layer], name=layer,
            transB=1,
        ))  # fmt: skip
        x = layer
        if layer != "logits":
            nodes.append(helper.make_node("Relu", [x], [f"{layer}_relu"], name=f"{layer}_relu"))
            x = f"{layer}_relu"
    nodes.append(helper.make_node("Softmax", [x], [OUTPUT_NAME], name="softmax", axis=1))

    size, channels = config.image_size, config.channels
    graph = helper.make_graph(
        nodes,
        f"facesweep_{config.task}",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", channels, size, size])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", len(model.classes)])],
        initializer=weights,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="facesweep",
        producer_version=__version__,
        doc_string=(
            f"facesweep {config.task} classifier; input {INPUT_NAME} {INPUT_LAYOUT}, "
            f"output {OUTPUT_NAME} (N, {len(model.classes)}) softmax over metadata 'classes'"
        ),
    )
    helper.set_model_props(proto, model_metadata(model, inference))
    onnx.checker.check_model(proto)
    return proto


def onnx_bytes(model: TrainedModel, *, inference: dict | None = None) -> bytes:
    """``build_onnx`` serialised: the bytes of a self-contained ``.onnx`` file (weights inline, < 2 GB)."""
    return build_onnx(model, inference=inference).SerializeToString()


def save_onnx(model: TrainedModel, path: str | Path, *, inference: dict | None = None) -> Path:
    """Write the exported graph to ``path`` atomically (temp file + rename); return the path."""
    path = Path(path)
    _write_atomically(path, onnx_bytes(model, inference=inference))
    return path


def read_metadata(source: str | Path | bytes) -> dict[str, Any]:
    """An exported file's (or its bytes') metadata with JSON values decoded: ``classes`` a list, ``tta`` a bool,
    ``inference`` a dict, ``image_size``/``channels`` ints."""
    onnx = _require_onnx()
    proto = onnx.load_from_string(source) if isinstance(source, bytes) else onnx.load(str(source))
    meta: dict[str, Any] = {prop.key: prop.value for prop in proto.metadata_props}
    for key in ("classes", "tta", "inference", "calibration"):
        if key in meta:
            meta[key] = json.loads(meta[key])
    for key in ("image_size", "channels"):
        if key in meta:
            meta[key] = int(meta[key])
    return meta


def inference_settings(ref: str | Path) -> dict:
    """The ``inference`` object of a model directory's (or ``pretrained:NAME``'s) ``config.json``; ``{}`` if none."""
    try:
        meta = json.loads((resolve_ref(ref) / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return {}
    block = parse_inference(meta) if isinstance(meta, dict) and isinstance(meta.get("inference"), dict) else {}
    return {k: v for k, v in block.items() if v is not None}


def to_onnx_input(images: np.ndarray) -> np.ndarray:
    """``(N, H, W, C)`` pixels (uint8, or float 0..255) -> the graph's float32 ``(N, C, H, W)`` input."""
    return to_blob(images, tta=False)


def check_onnx(
    model: TrainedModel, data: bytes, images: np.ndarray, *, tolerance: float = PARITY_TOLERANCE
) -> dict[str, Any]:
    """Load ``data`` (an exported file's bytes) in ``cv2.dnn``, run it on a batch of zeros, and compare it with
    ``model.predict`` (no TTA: the graph has none) on ``images``; also in ONNX Runtime when it is installed.

    Returns the facts ``facesweep export`` prints; ``CheckpointError`` when OpenCV cannot load or run the graph,
    its zero batch gives no probabilities, or a runtime's largest probability difference exceeds ``tolerance``.
    """
    onnx = _require_onnx()
    proto = onnx.load_from_string(data)
    net = load_opencv_net(data)
    k = len(model.classes)
    zeros = run_opencv_net(net, np.zeros((2, model.config.channels, *model.config.input_shape[:2]), np.float32))
    if zeros.shape != (2, k) or not np.all(np.isfinite(zeros)) or not np.allclose(zeros.sum(axis=1), 1.0, atol=1e-4):
        raise CheckpointError(f"the exported graph gave no probabilities on a zero batch in cv2.dnn: {zeros!r}")
    expected = model.predict(images, tta=False)
    blob = to_onnx_input(images)
    diffs: dict[str, float | None] = {"cv2_dnn": float(np.abs(run_opencv_net(net, blob) - expected).max())}
    try:
        import onnxruntime
    except ImportError:
        diffs["onnxruntime"] = None
    else:
        session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
        got = session.run([OUTPUT_NAME], {INPUT_NAME: blob})[0]
        diffs["onnxruntime"] = float(np.abs(got - expected).max())
    for runtime, diff in diffs.items():
        if diff is not None and not diff <= tolerance:
            raise CheckpointError(
                f"the exported graph disagrees with predict in {runtime}: max probability difference {diff:.2e} "
                f"> {tolerance:g}"
            )
    node_types: dict[str, int] = {}
    for node in proto.graph.node:
        node_types[node.op_type] = node_types.get(node.op_type, 0) + 1
    return {
        "bytes": len(data),
        "nodes": len(proto.graph.node),
        "node_types": node_types,
        "opset": OPSET,
        "parameters": int(sum(np.prod(t.dims) for t in proto.graph.initializer)),
        "images": int(len(images)),
        "max_abs_diff": diffs,
        "tolerance": tolerance,
        "metadata": read_metadata(data),
    }


# -- the 8-bit graph ------------------------------------------------------------------------------------------
def calibration_images(
    model: TrainedModel, data: str | Path, count: int = INT8_CALIB_IMAGES, seed: int = INT8_CALIB_SEED
) -> tuple[np.ndarray, str]:
    """``count`` images of ``data``'s *training* split (its ``train/`` folder, or the seeded 80% a bare class
    folder gives: the split ``train``/``evaluate`` use) for the model's task, size and channels, and a line saying
    which. A validation/test folder or anything under ``domain-dev`` is refused: calibration is fitting."""
    from facesweep.io import load_dataset

    if count < 1:
        raise UsageError(f"--calib-images must be at least 1, got {count}")
    path = Path(data).expanduser()
    parts = [part.lower() for part in path.resolve().parts]
    if "domain-dev" in parts or parts[-1] in HELD_OUT:
        raise UsageError(
            f"--calib {data}: calibration reads training images only, never a validation, test or domain-dev "
            "folder; give the data set's root (its training split is used)"
        )
    config = model.config
    dataset = load_dataset(config.task, path, image_size=config.image_size, channels=config.channels)
    train = dataset.train
    pick = np.sort(np.random.default_rng(seed).permutation(len(train.images))[:count])
    return train.images[pick], f"{len(pick)} of {len(train.images)} training images of {dataset.source} (seed {seed})"


def quantize_int8(
    model: TrainedModel, calib: np.ndarray, *, inference: dict | None = None, provenance: dict | None = None
) -> bytes:
    """The bytes of ``model``'s 8-bit graph: ``build_onnx`` statically quantized (``QUANTIZATION``) with activation
    ranges from ``calib`` (uint8 ``(N, H, W, C)`` training images). The metadata is the float graph's plus
    ``precision``, ``quantization``, ``calibration`` (``provenance``) and, for a model loaded from a directory,
    ``params_sha256`` (``Int8Predictor`` refuses the graph beside other weights)."""
    ort = require_onnxruntime()
    onnx = _require_onnx()
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = (
                {INPUT_NAME: to_blob(calib[i : i + CALIB_BATCH], False)} for i in range(0, len(calib), CALIB_BATCH)
            )

        def get_next(self) -> dict | None:
            return next(self._batches, None)

    with tempfile.TemporaryDirectory(prefix="facesweep-int8-") as tmp:
        src, dst = Path(tmp) / "float32.onnx", Path(tmp) / "int8.onnx"
        save_onnx(model, src, inference=inference)
        with _quiet_root_logger():  # quantize_static logs a pre-processing hint on the root logger every call
            quantize_static(str(src), str(dst), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            nodes_to_exclude=list(FLOAT_NODES))  # fmt: skip
        proto = onnx.load(str(dst))
    meta = {prop.key: prop.value for prop in proto.metadata_props}
    meta.update(model_metadata(model, inference))
    meta.update(
        precision="int8",
        quantization=f"{QUANTIZATION} (onnxruntime {ort.__version__})",
        calibration=json.dumps(provenance or {"images": int(len(calib))}, sort_keys=True),
    )
    if model.path is not None:
        meta["params_sha256"] = params_digest(model.path)
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, meta)
    return proto.SerializeToString()


def check_int8(model: TrainedModel, data: bytes, images: np.ndarray) -> dict[str, Any]:
    """Run the 8-bit graph's bytes in ONNX Runtime on a zero batch (``CheckpointError`` unless they give
    probabilities) and beside ``model.predict`` (no TTA) on ``images``: top-1 agreement and largest difference."""
    ort = require_onnxruntime()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    k = len(model.classes)
    zeros = session.run(None, {INPUT_NAME: np.zeros((2, model.config.channels, *model.input_shape[:2]), np.float32)})
    zeros = np.asarray(zeros[0], np.float32)
    if zeros.shape != (2, k) or not np.all(np.isfinite(zeros)) or not np.allclose(zeros.sum(axis=1), 1.0, atol=1e-3):
        raise CheckpointError(f"the int8 graph gave no probabilities on a zero batch: {zeros!r}")
    expected = model.predict(images, tta=False)
    got = np.asarray(session.run(None, {INPUT_NAME: to_blob(images, False)})[0], np.float32)
    quantized = sum(node.op_type == "QuantizeLinear" for node in _require_onnx().load_from_string(data).graph.node)
    return {
        "bytes": len(data),
        "quantize_nodes": int(quantized),
        "images": int(len(images)),
        "top1_agreement": float(np.mean(got.argmax(1) == expected.argmax(1))),
        "max_abs_diff": float(np.abs(got - expected).max()),
        "metadata": read_metadata(data),
    }


def export_int8(
    ref: str | Path, calib: str | Path, out: str | Path | None = None, *, data: str | Path | None = None,
    images: int = 32, calib_images: int = INT8_CALIB_IMAGES,
) -> dict[str, Any]:
    """``facesweep export --int8``: calibrate ``ref``'s 8-bit graph on ``calib``'s training split, check it
    (``check_int8`` on ``images`` images of ``data``, synthetic faces by default), then write it atomically to
    ``out`` -- by default ``model.int8.onnx`` in the model's directory, where the live view finds it."""
    from facesweep.model.artifacts import load_model

    model = load_model(ref)
    target = Path(out).expanduser() if out is not None else Path(model.path) / INT8_FILE
    _check_out(target, images, INT8_FILE)
    pixels, source = calibration_images(model, calib, calib_images)
    provenance = {"data": str(calib), "split": "train", "images": int(len(pixels)), "seed": INT8_CALIB_SEED,
                  "source": source}  # fmt: skip
    content = quantize_int8(model, pixels, inference=inference_settings(ref), provenance=provenance)
    report, sample_source = _check_and_write(model, content, target, check_int8, data, images)
    return {"model": str(ref), "out": str(target), "task": model.config.task, "calibration": source,
            "images_source": sample_source, **report}  # fmt: skip


def check_images(model: TrainedModel, data: str | Path | None = None, count: int = 32) -> tuple[np.ndarray, str]:
    """Up to ``count`` images to compare an export against ``predict`` on, and where they came from: evenly spaced
    over ``data`` (loaded whole, for the model's task, size and channels) or synthetic faces when ``data`` is None."""
    from facesweep.io import load_dataset
    from facesweep.io.synthetic import synthetic_raw
    from facesweep.tasks import get_task

    config = model.config
    if data is None:
        task = get_task(config.task, image_size=config.image_size, channels=config.channels)
        return synthetic_raw(task, n_train=0, n_val=count, seed=0).images, "synthetic (seed 0)"
    dataset = load_dataset(config.task, data, image_size=config.image_size, channels=config.channels, whole=True)
    images = np.concatenate([split.images for split in dataset.splits.values()])
    pick = np.linspace(0, len(images) - 1, num=min(count, len(images))).round().astype(int)
    return images[np.unique(pick)], dataset.source


def export_model(
    ref: str | Path, out: str | Path, *, data: str | Path | None = None, images: int = 32
) -> dict[str, Any]:
    """``facesweep export``: load ``ref``, export it, check the bytes (``check_onnx``), then write ``out``
    atomically -- so a graph that fails its check is never written. Returns the check's facts plus paths."""
    from facesweep.model.artifacts import load_model

    out = Path(out).expanduser()
    _check_out(out, images, "model.onnx")
    model = load_model(ref)
    content = onnx_bytes(model, inference=inference_settings(ref))
    report, source = _check_and_write(model, content, out, check_onnx, data, images)
    return {"model": str(ref), "out": str(out), "task": model.config.task, "images_source": source, **report}


def _check_out(out: Path, images: int, example: str) -> None:
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; give a file name such as {out / example}")
    if images < 1:
        raise UsageError(f"--images must be at least 1, got {images}")


def _check_and_write(
    model: TrainedModel, content: bytes, out: Path, check: Callable[..., dict[str, Any]],
    data: str | Path | None, images: int,
) -> tuple[dict[str, Any], str]:
    """``check(model, content, sample)`` on ``images`` images of ``data`` (``check_images``), then write ``content``
    to ``out`` atomically -- so a graph that fails its check is never written; the check's report and its source."""
    sample, source = check_images(model, data, images)
    report = check(model, content, sample)
    try:
        _write_atomically(out, content)
    except OSError as exc:
        raise UsageError(f"cannot write --out {out}: {exc.strerror or exc}") from None
    return report, source


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        root.setLevel(level)


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = [
    "OpenCVPredictor",
    "build_onnx",
    "check_images",
    "calibration_images",
    "check_int8",
    "check_onnx",
    "export_int8",
    "export_model",
    "fold_batch_norm",
    "inference_settings",
    "load_opencv_net",
    "model_metadata",
    "onnx_bytes",
    "quantize_int8",
    "read_metadata",
    "run_opencv_net",
    "save_onnx",
    "to_onnx_input",
]
