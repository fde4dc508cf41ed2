"""Trained models on disk and in memory: ``TrainedModel``, ``save_model``, ``load_model``.

An artifact is a directory:
- ``params.msgpack`` -- ``{"params", "batch_stats"}`` via ``flax.serialization.msgpack_serialize`` (never pickle);
  float32, or float16 with ``save_model(..., dtype="float16")`` (half the size; restored to float32 on load).
- ``config.json`` -- the full ``Config``, class names, task, preprocessing, library versions, ``extra``.
- ``metrics.json`` -- the training history (one dict per epoch) or ``[]``.
- ``model.int8.onnx`` (optional) -- the 8-bit inference graph the live view runs by default
  (``facesweep export --int8 --calib DATA`` builds it: ``facesweep.model.export.export_int8``); it records the
  SHA-256 of the ``params.msgpack`` it was built from, so a graph left beside other weights is never used.

It is written to a temporary sibling directory and renamed into place, so a reader never sees half an artifact
and an existing one is replaced only once the new one is complete.

    model = load_model("runs/train/emotion-20250101-120000")   # or "pretrained:emotion"
    probs = model.predict(images_uint8)                          # (N, K) float32, rows sum to 1
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np
from flax import serialization

from facesweep import __version__
from facesweep.errors import CheckpointError, ConfigError
from facesweep.faces.align import DEFAULT_TEMPLATE, Template
from facesweep.model.cnn import CNN, init_variables, model_for
from facesweep.model.config import Config
from facesweep.model.inference import MAX_BUCKET, check_images, inference_block, parse_inference, run_padded

FORMAT_VERSION = 1
PARAMS_FILE = "params.msgpack"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
INT8_FILE = "model.int8.onnx"  # calibrated 8-bit graph beside the params (optional; facesweep.model.inference)
PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
PRETRAINED_NAMES = ("emotion", "gender")
SAVE_DTYPES = ("float32", "float16")


@partial(jax.jit, static_argnums=(0, 3))
def _predict_probs(model: CNN, variables: dict, images: jax.Array, tta: bool) -> jax.Array:
    """Softmax probabilities in inference mode; with ``tta`` averaged with the horizontally flipped images."""
    probs = jax.nn.softmax(model.apply(variables, images, train=False), axis=-1)
    if tta:
        flipped = model.apply(variables, images[:, :, ::-1, :], train=False)
        probs = 0.5 * (probs + jax.nn.softmax(flipped, axis=-1))
    return probs


@dataclass
class TrainedModel:
    config: Config  # the full config it was trained with
    classes: tuple[str, ...]  # output i means classes[i]
    variables: Any  # {"params": ..., "batch_stats": ...}; moved to the device once, in float32
    tta: bool = False  # the model's own default for predict(tta=None): flip averaging, when measured to help it
    crop: dict | None = None  # how its training faces were cropped: {"template": Template dict, "detector": name}
    path: Path | None = None  # the directory load_model read it from (where an int8 graph may lie); not saved
    module: CNN = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.classes = tuple(self.classes)
        self.module = model_for(self.config)
        self.variables = jax.device_put(
            jax.tree.map(lambda a: jnp.asarray(a, jnp.float32) if _is_float(a) else jnp.asarray(a), self.variables)
        )

    @property
    def crop_template(self) -> Template:
        """The face template live and ``--detect`` crops are aligned to: the one stored with the model
        (``inference.crop`` in config.json: measured on its training images), else ``DEFAULT_TEMPLATE`` (measured
        on FER-2013 train, the framing of the 48x48 face crops most models here learn from)."""
        if self.crop and self.crop.get("template"):
            return Template.from_dict(self.crop["template"])
        return DEFAULT_TEMPLATE

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.config.input_shape

    def predict(self, images: np.ndarray, *, tta: bool | None = None) -> np.ndarray:
        """Class probabilities ``float32 (N, K)`` for ``uint8 (N, H, W, C)`` images of the config's shape.

        ``tta=None`` uses the model's own default (``self.tta``, stored in its config.json).
        """
        tta = self.tta if tta is None else bool(tta)
        images = check_images(images, self.input_shape)
        if images.dtype != np.uint8:
            raise CheckpointError(f"predict expects uint8 images (0..255), got {images.dtype}")
        if images.shape[0] == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        # padded to power-of-two batches so the call reuses a compiled shape (~9 shapes ever compiled)
        return run_padded(images, lambda chunk: _predict_probs(self.module, self.variables, chunk, tta), cap=MAX_BUCKET)


def _is_float(a: Any) -> bool:
    return np.issubdtype(np.asarray(a).dtype, np.floating)


# -- saving -------------------------------------------------------------------------------------------------
def save_model(
    path: str | Path,
    model: TrainedModel,
    history: list[dict] | None = None,
    extra: dict | None = None,
    *,
    dtype: str = "float32",
) -> Path:
    """Write ``model`` as an artifact directory at ``path`` (replacing one already there); return the path."""
    if dtype not in SAVE_DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(SAVE_DTYPES)}, got {dtype!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    host = jax.device_get(model.variables)
    host = jax.tree.map(lambda a: np.asarray(a, dtype) if _is_float(a) else np.asarray(a), host)
    config = model.config
    meta = {
        "format": FORMAT_VERSION,
        "config": config.to_dict(),
        "classes": list(model.classes),
        "task": config.task,
        "preprocessing": {
            "input": "uint8 (N, H, W, C)",
            "image_size": config.image_size,
            "channels": config.channels,
            "color": "gray" if config.channels == 1 else "rgb",
            "scale": "x / 255 inside the model",
        },
        "dtype": dtype,
        "versions": {"facesweep": __version__, "jax": jax.__version__, "flax": flax.__version__},
        "extra": extra or {},
        "inference": inference_block(model),
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        (tmp / PARAMS_FILE).write_bytes(serialization.msgpack_serialize(host))
        (tmp / CONFIG_FILE).write_text(json.dumps(meta, indent=2, default=_json_default) + "\n")
        (tmp / METRICS_FILE).write_text(json.dumps(history or [], indent=2, default=_json_default) + "\n")
        if path.exists():
            # Move the old artifact aside first, so a failure leaves either the old or the new one in place.
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            os.replace(path, old / "artifact")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# -- loading ------------------------------------------------------------------------------------------------
def resolve_ref(ref: str | Path) -> Path:
    """A directory path, or ``pretrained:<name>`` -> the shipped ``facesweep/pretrained/<name>/``."""
    text = str(ref)
    if text.startswith("pretrained:"):
        name = text.split(":", 1)[1]
        if name not in PRETRAINED_NAMES:
            raise CheckpointError(f"unknown pretrained model {name!r}; choose one of: {', '.join(PRETRAINED_NAMES)}")
        path = PRETRAINED_DIR / name
        if not (path / PARAMS_FILE).is_file():
            raise CheckpointError(
                f"pretrained model {name!r} is not shipped with this install (looked in {path}); "
                f"train one with 'facesweep train --task {name}' and pass its directory"
            )
        return path
    return Path(text).expanduser()


def load_model(ref: str | Path) -> TrainedModel:
    """Load an artifact directory or ``pretrained:emotion|gender``; ``CheckpointError`` if unusable."""
    path = resolve_ref(ref)
    if not path.is_dir():
        raise CheckpointError(f"no model directory at {path}")
    for name in (CONFIG_FILE, PARAMS_FILE):
        if not (path / name).is_file():
            raise CheckpointError(f"{path} is not a facesweep model: {name} is missing")
    try:
        meta = json.loads((path / CONFIG_FILE).read_text())
        config = Config.from_dict(meta["config"]).validate()
        classes = tuple(meta["classes"])
    except (ValueError, KeyError, TypeError, ConfigError) as exc:
        raise CheckpointError(f"{path / CONFIG_FILE} is unreadable or invalid: {exc}") from None
    if len(classes) != config.num_classes:
        raise CheckpointError(f"{path / CONFIG_FILE} lists {len(classes)} classes but num_classes={config.num_classes}")
    try:
        restored = serialization.msgpack_restore((path / PARAMS_FILE).read_bytes())
    except Exception as exc:  # msgpack raises several unrelated types for truncated/corrupt data
        raise CheckpointError(f"{path / PARAMS_FILE} is truncated or corrupt ({type(exc).__name__})") from None
    expected = serialization.to_state_dict(
        jax.eval_shape(lambda: init_variables(model_for(config), jax.random.key(0)))
    )
    _check_matches(expected, restored, path)
    inference = parse_inference(meta, str(path / CONFIG_FILE))
    return TrainedModel(
        config=config, classes=classes, variables=restored, tta=inference["tta"], crop=inference["crop"], path=path
    )


def _check_matches(expected: Any, restored: Any, path: Path) -> None:
    """Same keys and shapes as the network the config describes, else one line naming the first difference."""
    flat_expected = _flatten(expected)
    flat_restored = _flatten(restored) if isinstance(restored, dict) else {}
    missing = sorted(set(flat_expected) - set(flat_restored))
    unexpected = sorted(set(flat_restored) - set(flat_expected))
    if missing or unexpected:
        detail = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise CheckpointError(
            f"{path / PARAMS_FILE} does not match its config ({detail}; "
            f"{len(missing)} missing, {len(unexpected)} unexpected arrays)"
        )
    for key, spec in flat_expected.items():
        shape = tuple(np.shape(flat_restored[key]))
        if shape != tuple(spec.shape):
            raise CheckpointError(
                f"{path / PARAMS_FILE} does not match its config: {key} has shape {shape}, expected {tuple(spec.shape)}"
            )


def _flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


__all__ = ["TrainedModel", "save_model", "load_model", "resolve_ref"]
