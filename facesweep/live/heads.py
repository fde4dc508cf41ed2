"""The models of the live loop: a ``Head`` per model (its face crop and its predict), and running them on a frame.

    head = Head.from_model("emotion", model, predict=make_predictor(model, "opencv").predict,
                           crop=FaceCropper(detector, model.crop_template, 48, 1).crop, crop_key=key)
    probs = predict_frame(heads, frame, faces)         # {task: (N, K)}: one call per model, all faces at once

Every face of a frame goes into one batched call per model, padded to a power-of-two batch
(``facesweep.model.inference.bucket_size``) so a jitted model never recompiles mid-stream. Heads whose crops are
equal (same template, size and channels: equal ``crop_key``) share one crop per face. With a ``pool`` the models
run side by side, one thread each (the runtimes release the GIL), so two models cost about the slower one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from facesweep.faces.detect import Detection
from facesweep.model.inference import bucket_size as _bucket_size
from facesweep.model.inference import run_padded

MAX_BATCH = 32  # largest batch a model sees in the live view; more faces are split into chunks of 32
BATCH_BUCKETS = tuple(1 << i for i in range(MAX_BATCH.bit_length()))  # 1, 2, 4, ..., 32

Predict = Callable[[np.ndarray], np.ndarray]
Crop = Callable[[np.ndarray, Detection], np.ndarray]  # (frame BGR, face) -> uint8 (S, S, C) model input


@dataclass(frozen=True)
class Head:
    """One model in the loop: its task, class names, input geometry, ``predict(uint8 NHWC) -> (N, K) probs`` and
    its face crop (``facesweep.faces.crop.FaceCropper.crop``: the one crop path training and evaluation use)."""

    task: str
    classes: tuple[str, ...]
    image_size: int
    channels: int
    predict: Predict
    crop: Crop  # (frame, face) -> this model's input for that face
    crop_key: Hashable | None = None  # heads with equal keys get the same crops: cropped once a frame, shared

    @classmethod
    def from_model(
        cls, task: str, model: object, *, crop: Crop, crop_key: Hashable | None = None, tta: bool | None = None,
        predict: Predict | None = None,
    ) -> Head:
        """Wrap a ``TrainedModel`` (anything with ``config``, ``classes`` and ``predict(images, tta=)``);
        ``tta=None`` keeps the model's own default; ``predict`` replaces the model's own (another runtime)."""
        config = model.config  # type: ignore[attr-defined]
        if predict is None:
            own = model.predict  # type: ignore[attr-defined]
            predict = own if tta is None else (lambda images: own(images, tta=tta))
        return cls(
            task,
            tuple(model.classes),  # type: ignore[attr-defined]
            int(config.image_size),
            int(config.channels),
            predict,
            crop,
            crop_key,
        )

    def model_input(self, frame: np.ndarray, face: Detection) -> np.ndarray:
        """One face of ``frame`` as this model's ``uint8 (S, S, C)`` input."""
        return self.crop(frame, face)


def bucket_size(n: int) -> int:
    """The smallest live batch bucket holding ``n`` images (a power of two, at most ``MAX_BATCH``)."""
    return _bucket_size(n, MAX_BATCH)


def predict_inputs(head: Head, inputs: Sequence[np.ndarray]) -> np.ndarray:
    """Probabilities ``(len(inputs), K)`` for model inputs, one padded, batched call per chunk of up to 32."""
    if not len(inputs):
        return np.zeros((0, len(head.classes)), np.float32)
    return run_padded(np.stack(inputs), head.predict, cap=MAX_BATCH)


def crop_faces(heads: Sequence[Head], frame: np.ndarray, faces: Sequence[Detection],
               shared: dict[Hashable, list[np.ndarray]] | None = None) -> list[list[np.ndarray]]:
    """Each head's inputs for ``faces`` (heads with equal ``crop_key`` share them; ``shared`` may bring crops
    already made this frame, keyed by ``crop_key``)."""
    shared = {} if shared is None else shared
    out = []
    for head in heads:
        inputs = shared.get(head.crop_key) if head.crop_key is not None else None
        if inputs is None:
            inputs = [head.model_input(frame, face) for face in faces]
            if head.crop_key is not None:
                shared[head.crop_key] = inputs
        out.append(inputs)
    return out


def predict_heads(
    heads: Sequence[Head], inputs: Sequence[Sequence[np.ndarray]], pool: ThreadPoolExecutor | None = None
) -> list[np.ndarray]:
    """Each head's probabilities for its inputs: one call per model; side by side in ``pool`` when given."""
    if pool is None or len(heads) < 2 or not any(len(i) for i in inputs):
        return [predict_inputs(head, batch) for head, batch in zip(heads, inputs, strict=True)]
    futures = [pool.submit(predict_inputs, head, batch) for head, batch in zip(heads[1:], inputs[1:], strict=True)]
    first = predict_inputs(heads[0], inputs[0])  # the caller's thread runs one model meanwhile
    return [first, *(f.result() for f in futures)]


def warm_up(heads: Sequence[Head], sizes: Sequence[int] = (1, 2, 4)) -> float:
    """Compile every model for the batch buckets of ``sizes`` faces before the view starts; returns seconds."""
    t0 = time.perf_counter()
    for head in heads:
        for size in sorted({bucket_size(n) for n in sizes}):
            np.asarray(head.predict(np.zeros((size, head.image_size, head.image_size, head.channels), np.uint8)))
    return time.perf_counter() - t0
