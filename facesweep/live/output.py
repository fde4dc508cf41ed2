"""Machine-readable output of ``facesweep live``: one JSON object per frame (``--jsonl``) and a CSV (``--record``).

JSONL, one line per frame::

    {"time": 0.533, "frame": 16, "detected": false, "faces": [
      {"id": 1, "box": [120, 80, 96, 96], "detected": false,
       "emotion": {"label": "happy", "p": 0.8123, "probs": {"angry": 0.01, ...}},
       "gender": {"label": "woman", "p": 0.91, "probs": {"man": 0.09, "woman": 0.91}}}]}

``time`` is seconds since the command started, ``frame`` the 0-based frame index, ``detected`` whether the
detector ran on this frame (else boxes were carried by the tracker), ``id`` the face's track id; probabilities
are the smoothed ones the view shows, rounded to 4 decimals. A task whose model is not loaded is left out.

CSV, one row per face per frame: ``time, frame, face, x, y, w, h``, then per task ``<task>``,
``<task>_p`` and one ``<task>_<class>`` column per class.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from facesweep.errors import UsageError
from facesweep.live.loop import LiveState


def _prediction(classes: Sequence[str], probs: np.ndarray) -> dict[str, Any]:
    best = int(np.argmax(probs))
    return {
        "label": classes[best],
        "p": round(float(probs[best]), 4),
        "probs": {name: round(float(q), 4) for name, q in zip(classes, probs, strict=True)},
    }


def frame_record(state: LiveState) -> dict[str, Any]:
    """The JSON-able record of the state's current frame."""
    faces = []
    for face in state.faces:
        item: dict[str, Any] = {"id": face.id, "box": [int(v) for v in face.box], "detected": face.detected}
        for task, classes in state.heads:
            if task in face.probs:
                item[task] = _prediction(classes, face.probs[task])
        faces.append(item)
    return {"time": round(state.time_s, 3), "frame": state.frame_index, "detected": state.detected, "faces": faces}


class JsonlWriter:
    """Writes ``frame_record`` lines to a stream, flushing each so a pipe reader sees frames as they come."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, state: LiveState) -> None:
        self.stream.write(json.dumps(frame_record(state), separators=(",", ":")) + "\n")
        self.stream.flush()


def csv_header(heads: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    columns = ["time", "frame", "face", "x", "y", "w", "h"]
    for task, classes in heads:
        columns += [task, f"{task}_p"] + [f"{task}_{name}" for name in classes]
    return columns


class CsvRecorder:
    """``--record FILE``: one row per face per frame."""

    def __init__(self, path: str | Path, heads: Sequence[tuple[str, Sequence[str]]]) -> None:
        try:
            self.file = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise UsageError(f"cannot write --record file {path}: {exc.strerror}") from None
        self.writer = csv.writer(self.file)
        self.writer.writerow(csv_header(heads))

    def write(self, state: LiveState) -> None:
        for face in state.faces:
            row: list[Any] = [f"{state.time_s:.3f}", state.frame_index, face.id, *face.box]
            for task, classes in state.heads:
                probs = face.probs.get(task)
                if probs is None:
                    row += [""] * (2 + len(classes))
                    continue
                best = int(np.argmax(probs))
                row += [classes[best], f"{probs[best]:.4f}"] + [f"{q:.4f}" for q in probs]
            self.writer.writerow(row)

    def close(self) -> None:
        self.file.close()
