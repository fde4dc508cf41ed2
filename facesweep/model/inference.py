"""Running a trained model, in one place: the runtimes (XLA, OpenCV ``cv2.dnn``, ONNX Runtime), the batch padding
they share, and the reader of ``config.json``'s ``inference`` block.

    from facesweep.model.artifacts import load_model
    from facesweep.model.inference import make_predictor
    model = load_model("pretrained:emotion")
    predictor = make_predictor(model, "opencv")   # or "onnxruntime", "xla"; same inputs and outputs
    probs = predictor.predict(images_uint8)       # (N, K) float32, like model.predict; TTA as the model's default
    fast = make_predictor(model, precision="int8")  # the calibrated 8-bit graph beside the params, in ONNX Runtime

Every predictor takes ``uint8 (N, H, W, C)`` images and returns ``float32 (N, K)`` probabilities; the exported
graph (``facesweep.model.export.build_onnx``) is ``model.predict`` without TTA, so ``cv2.dnn`` and ONNX Runtime
run the mirrored copies in the same batch when the model's default (``inference.tta``) asks for it. Batches are
padded to a power of two (``bucket_size``) so a jitted model never recompiles and the runtimes see few shapes.

Precision: ``float32`` (every runtime; the same probabilities to 1e-4) or ``int8``, the calibrated graph a model
directory may hold beside its params (``model.int8.onnx``, built by ``facesweep.model.export.export_int8``: static
quantization, per-channel int8 weights, uint8 activations), run in ONNX Runtime whatever ``runtime`` says -- about
a quarter of the arithmetic, top-1 labels as float32's on ~99% of faces (the shipped models' figures: BENCHMARKS.md).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from facesweep.errors import CheckpointError, UsageError

if TYPE_CHECKING:
    from facesweep.model.artifacts import TrainedModel

RUNTIMES = ("opencv", "onnxruntime", "xla")  # the order the live view's --runtime lists them; opencv the default
PRECISIONS = ("int8", "float32")  # the live view's --precision; int8 where the model has a graph for it
MAX_BUCKET = 256  # largest padded batch; bigger inputs run in chunks of this size


# -- batch padding -------------------------------------------------------------------------------------------
def bucket_size(n: int, cap: int = MAX_BUCKET) -> int:
    """The smallest power of two >= ``n``, capped at ``cap`` (itself a power of two)."""
    return min(cap, 1 << max(0, int(n) - 1).bit_length())


def run_padded(images: np.ndarray, run: Callable[[np.ndarray], Any], *, cap: int = MAX_BUCKET) -> np.ndarray:
    """``run`` on ``images`` in chunks of up to ``cap``, each zero-padded to its ``bucket_size``; the padding rows
    are dropped again. Returns the rows ``float32 (N, K)``; ``run`` must accept every bucket's batch size."""
    out = []
    for start in range(0, len(images), cap):
        chunk = images[start : start + cap]
        size = bucket_size(len(chunk), cap)
        if len(chunk) < size:
            chunk = np.concatenate([chunk, np.zeros((size - len(chunk), *chunk.shape[1:]), chunk.dtype)])
        out.append(np.asarray(run(chunk), dtype=np.float32)[: min(cap, len(images) - start)])
    return np.concatenate(out) if len(out) > 1 else out[0]


# -- config.json's "inference" block ------------------------------------------------------------------------
def parse_inference(meta: Any, where: str = "config.json") -> dict[str, Any]:
    """The ``inference`` block of a model's ``config.json`` (the parsed file): ``{"tta": bool, "crop": dict | None,
    ...}`` with any other keys kept; ``{"tta": False, "crop": None}`` when absent. ``CheckpointError`` naming
    ``where`` when the block or its crop template is malformed."""
    from facesweep.errors import ConfigError
    from facesweep.faces.align import Template

    block = meta.get("inference", {}) if isinstance(meta, dict) else {}
    if not isinstance(block, dict):
        raise CheckpointError(f"{where}: inference must be an object, got {type(block).__name__}")
    crop = block.get("crop")
    if crop is not None:
        try:
            Template.from_dict(crop.get("template"))
        except (ConfigError, AttributeError) as exc:
            raise CheckpointError(f"{where}: inference.crop is invalid: {exc}") from None
    return {**block, "tta": bool(block.get("tta", False)), "crop": crop}


def inference_block(model: TrainedModel) -> dict[str, Any]:
    """What ``save_model`` writes under ``inference`` for ``model`` (and the export's metadata carries)."""
    return {"tta": bool(model.tta), **({"crop": model.crop} if model.crop else {})}


# -- predictors ----------------------------------------------------------------------------------------------
class Predictor(Protocol):
    classes: tuple[str, ...]
    input_shape: tuple[int, int, int]
    tta: bool
    runtime: str  # "xla" | "opencv" | "onnxruntime"
    precision: str  # "float32" | "int8"

    def predict(self, images: np.ndarray, *, tta: bool | None = None) -> np.ndarray: ...


def check_images(images: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """``images`` as an array of shape ``(N, *input_shape)``, else one ``CheckpointError`` line naming both."""
    images = np.asarray(images)
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(input_shape):
        one = " -- one image: pass images[None]" if tuple(images.shape) == tuple(input_shape) else ""
        raise CheckpointError(
            f"predict expects images of shape (N, {', '.join(map(str, input_shape))}), got {images.shape}{one}"
        )
    return images


def to_blob(images: np.ndarray, tta: bool) -> np.ndarray:
    """``(N, H, W, C)`` pixels -> the exported graph's float32 ``(N, C, H, W)`` input; with ``tta`` the mirrored
    copies follow the originals in the same batch (``(2N, C, H, W)``)."""
    blob = np.asarray(images, np.float32).transpose(0, 3, 1, 2)
    if tta:
        blob = np.concatenate([blob, blob[:, :, :, ::-1]])
    return np.ascontiguousarray(blob)


def from_output(out: np.ndarray, n: int, tta: bool) -> np.ndarray:
    """The graph's rows back to ``(N, K)`` probabilities: with ``tta`` each original averaged with its mirror."""
    out = np.asarray(out, np.float32).reshape(len(out), -1)
    return 0.5 * (out[:n] + out[n:]) if tta else out


class _GraphPredictor:
    """``model.predict`` on the exported graph: shared checks, TTA in the batch, a lock around the runtime call."""

    runtime = ""
    precision = "float32"

    def __init__(self, model: TrainedModel, *, tta: bool | None = None, data: bytes | None = None) -> None:
        from facesweep.model.export import onnx_bytes

        self.classes = tuple(model.classes)
        self.input_shape = tuple(model.input_shape)
        self.tta = bool(model.tta if tta is None else tta)
        self.task = model.config.task
        self.onnx = data if data is not None else onnx_bytes(model)
        self._lock = threading.Lock()  # one net / session per predictor; calls from two threads take turns

    def _run(self, blob: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def predict(self, images: np.ndarray, *, tta: bool | None = None) -> np.ndarray:
        """Class probabilities ``float32 (N, K)`` for ``uint8 (N, H, W, C)`` images (floats 0..255 also taken)."""
        images = check_images(images, self.input_shape)
        n = images.shape[0]
        if n == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        tta = self.tta if tta is None else bool(tta)
        with self._lock:
            out = self._run(to_blob(images, tta))
        return from_output(out, n, tta)

    def __call__(self, images: np.ndarray, *, tta: bool | None = None) -> np.ndarray:
        return self.predict(images, tta=tta)


class OpenCVPredictor(_GraphPredictor):
    """``model.predict`` on the exported graph in ``cv2.dnn`` (built in memory, no file)."""

    runtime = "opencv"

    def __init__(self, model: TrainedModel, *, tta: bool | None = None, data: bytes | None = None) -> None:
        super().__init__(model, tta=tta, data=data)
        self._net = load_opencv_net(self.onnx, f"the exported {self.task} graph")

    def _run(self, blob: np.ndarray) -> np.ndarray:
        return run_opencv_net(self._net, blob)


class OnnxRuntimePredictor(_GraphPredictor):
    """``model.predict`` on the exported graph in ONNX Runtime (a core dependency), ``threads`` intra-op
    threads (1: two predictors called from two threads then run on two cores side by side), no spin-waiting."""

    runtime = "onnxruntime"

    def __init__(
        self, model: TrainedModel, *, tta: bool | None = None, data: bytes | None = None, threads: int = 1
    ) -> None:
        onnxruntime = require_onnxruntime()
        super().__init__(model, tta=tta, data=data)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads sleep, not spin
        self._session = onnxruntime.InferenceSession(self.onnx, options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def _run(self, blob: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input: blob})[0]


class Int8Predictor(OnnxRuntimePredictor):
    """The model's calibrated 8-bit graph (``int8_path``) in ONNX Runtime; ``CheckpointError`` when the model has
    none or the graph was built from other weights than the model's ``params.msgpack``."""

    precision = "int8"

    def __init__(self, model: TrainedModel, *, tta: bool | None = None, threads: int = 1) -> None:
        path = int8_path(model)
        if path is None:
            where = f"{model.path}" if model.path is not None else "a model held only in memory"
            raise CheckpointError(
                f"{where} has no int8 graph; build one with: facesweep export --model DIR --int8 --calib DATA"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CheckpointError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            super().__init__(model, tta=tta, data=data, threads=threads)
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime raises its own types for a bad file
            raise CheckpointError(f"ONNX Runtime cannot load {path}: {_last_line(exc)}") from None
        built_from = self._session.get_modelmeta().custom_metadata_map.get("params_sha256")
        if built_from != params_digest(path.parent):
            raise CheckpointError(
                f"{path} was built from other weights than {path.parent}'s params; rebuild it: "
                "facesweep export --model DIR --int8 --calib DATA"
            )


def int8_path(model: TrainedModel) -> Path | None:
    """The 8-bit graph beside the model's params (``model.path / INT8_FILE``), or None when it has none."""
    from facesweep.model.artifacts import INT8_FILE

    if model.path is None or not (Path(model.path) / INT8_FILE).is_file():
        return None
    return Path(model.path) / INT8_FILE


def params_digest(model_dir: str | Path) -> str:
    """SHA-256 of a model directory's ``params.msgpack``: what an int8 graph records it was built from."""
    from facesweep.model.artifacts import PARAMS_FILE

    return hashlib.sha256((Path(model_dir) / PARAMS_FILE).read_bytes()).hexdigest()


def require_onnxruntime() -> Any:
    """The ``onnxruntime`` module (a core dependency), or one ``UsageError`` line saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise UsageError("ONNX Runtime is not installed: pip install onnxruntime") from None
    return onnxruntime


class XlaPredictor:
    """``TrainedModel.predict`` (jitted XLA) behind the same interface as the graph predictors."""

    runtime = "xla"
    precision = "float32"

    def __init__(self, model: TrainedModel, *, tta: bool | None = None) -> None:
        self.model = model
        self.classes = tuple(model.classes)
        self.input_shape = tuple(model.input_shape)
        self.tta = bool(model.tta if tta is None else tta)

    def predict(self, images: np.ndarray, *, tta: bool | None = None) -> np.ndarray:
        return self.model.predict(images, tta=self.tta if tta is None else tta)

    def __call__(self, images: np.ndarray, *, tta: bool | None = None) -> np.ndarray:
        return self.predict(images, tta=tta)


def make_predictor(
    model: TrainedModel, runtime: str = "opencv", *, tta: bool | None = None, precision: str = "float32"
) -> Predictor:
    """A predictor for ``model`` on ``runtime`` (one of ``RUNTIMES``) at ``precision`` (one of ``PRECISIONS``;
    ``int8`` runs the model's calibrated graph in ONNX Runtime whatever ``runtime`` says); errors from the
    exporter or the runtime propagate (the live view catches them and falls back to float32, then XLA)."""
    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    if precision == "int8":
        return Int8Predictor(model, tta=tta)
    if runtime == "opencv":
        return OpenCVPredictor(model, tta=tta)
    if runtime == "onnxruntime":
        return OnnxRuntimePredictor(model, tta=tta)
    if runtime == "xla":
        return XlaPredictor(model, tta=tta)
    raise UsageError(f"unknown runtime {runtime!r}; choose one of: {', '.join(RUNTIMES)}")


def load_opencv_net(data: bytes, what: str = "the ONNX graph") -> Any:
    """``cv2.dnn.readNetFromONNX`` on in-memory bytes; ``CheckpointError`` naming the OpenCV version if it fails."""
    import cv2

    try:
        net = cv2.dnn.readNetFromONNX(np.frombuffer(data, np.uint8))
    except cv2.error as exc:
        raise CheckpointError(f"OpenCV {cv2.__version__} cannot load {what}: {_last_line(exc)}") from None
    if net.empty():
        raise CheckpointError(f"OpenCV {cv2.__version__} cannot load {what}: the network is empty")
    return net


def run_opencv_net(net: Any, blob: np.ndarray) -> np.ndarray:
    """One forward pass of a ``cv2.dnn.Net`` on an ``(N, C, H, W)`` float32 blob -> float32 ``(N, K)``."""
    import cv2

    try:
        net.setInput(blob)
        return np.array(net.forward(), np.float32).reshape(len(blob), -1)
    except cv2.error as exc:
        raise CheckpointError(f"cv2.dnn failed to run the exported graph: {_last_line(exc)}") from None


def _last_line(exc: BaseException) -> str:
    """The last non-empty line of an error (OpenCV and ONNX Runtime put the message last), or its type."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


__all__ = [
    "MAX_BUCKET",
    "PRECISIONS",
    "RUNTIMES",
    "Int8Predictor",
    "OnnxRuntimePredictor",
    "OpenCVPredictor",
    "Predictor",
    "XlaPredictor",
    "bucket_size",
    "inference_block",
    "int8_path",
    "load_opencv_net",
    "make_predictor",
    "params_digest",
    "parse_inference",
    "require_onnxruntime",
    "run_opencv_net",
    "run_padded",
    "to_blob",
]
