"""What the live loop knows after each frame (``LiveState``) and at the end (``Summary``): plain data that the
view, the JSONL/CSV writers and the view thread read and never change.

    state.faces            # this frame's faces: id, box, smoothed probabilities per task, detected, predicted
    state.position_s       # the frame's time on the source's clock (file/stream timestamps, wall clock for a camera)
    state.snapshot()       # a copy another thread may render while the loop goes on
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from facesweep.faces.detect import Box
from facesweep.live.track import Track

RECENT_FRAMES = 60  # window for the header's FPS and latency percentiles


@dataclass
class Face:
    """One face on the current frame, as the view and the JSONL see it."""

    id: int  # track id, stable while the face stays in view
    box: Box  # (x, y, w, h), full-frame pixels
    probs: dict[str, np.ndarray]  # task -> smoothed probabilities in the head's class order
    detected: bool  # the box came from this frame's detection (else it was carried by the tracker)
    predicted: bool = True  # the models ran on this face on this frame (else its probabilities were carried)


@dataclass
class FaceSummary:
    id: int
    frames: int  # frames on which the face was in view
    distribution: dict[str, dict[str, float]]  # task -> label -> share of the face's frames it was on top


@dataclass
class Summary:
    source: str
    frames: int
    elapsed_s: float  # first frame requested -> last frame done
    mean_fps: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    first_prediction_s: float | None  # since ``start`` (the command's start when the CLI passes it)
    ended: str | None
    faces: list[FaceSummary]
    read_p50_ms: float | None = None  # waiting for / decoding a frame
    frame_p95_ms: float | None = None  # read + latency: the whole per-frame cost
    predictions: int = 0  # model predictions made (faces x frames on which the models ran, all faces)
    new_people: int = 0  # tracks ended because the face in their box changed to another person


@dataclass
class LiveState:
    """Everything the view renders; ``render_*`` functions read it and never change it."""

    source: str
    heads: tuple[tuple[str, tuple[str, ...]], ...]  # (task, classes) per model, in column order
    resolution: tuple[int, int] | None = None  # (width, height) of the last frame
    frame_index: int = -1  # 0-based index of the last processed frame
    time_s: float = 0.0  # last frame's time since start (wall clock)
    position_s: float = 0.0  # last frame's time on the schedule's clock: the source's timestamps, or the wall
    # clock since start for a camera; the per-face prediction rate counts in it
    faces: list[Face] = field(default_factory=list)
    frame: np.ndarray | None = None  # last frame (kept only for --preview)
    detected: bool = False  # whether the detector ran on the last frame
    frame_done: deque = field(default_factory=lambda: deque(maxlen=RECENT_FRAMES))  # completion times, seconds
    latencies_ms: list[float] = field(default_factory=list)  # per frame: detect + crop + models + output
    read_ms: list[float] = field(default_factory=list)  # per frame: waiting for / decoding the frame
    first_prediction_s: float | None = None
    started_s: float = 0.0  # clock value at start
    loop_started_s: float = 0.0  # clock value when the first frame was requested
    ended: str | None = None
    predictions: int = 0  # faces predicted so far (each counts once per frame, for all models)
    new_people: int = 0  # tracks ended because another face appeared in their box (a new person)

    def snapshot(self) -> LiveState:
        """A copy that another thread can render while this one goes on (the recent window only)."""
        return LiveState(
            source=self.source,
            heads=self.heads,
            resolution=self.resolution,
            frame_index=self.frame_index,
            time_s=self.time_s,
            position_s=self.position_s,
            faces=list(self.faces),
            frame=self.frame,
            detected=self.detected,
            frame_done=deque(self.frame_done, maxlen=RECENT_FRAMES),
            latencies_ms=self.latencies_ms[-RECENT_FRAMES:],
            read_ms=self.read_ms[-RECENT_FRAMES:],
            first_prediction_s=self.first_prediction_s,
            started_s=self.started_s,
            loop_started_s=self.loop_started_s,
            ended=self.ended,
            predictions=self.predictions,
            new_people=self.new_people,
        )

    @property
    def fps(self) -> float | None:
        done = self.frame_done
        if len(done) < 2 or done[-1] <= done[0]:
            return None
        return (len(done) - 1) / (done[-1] - done[0])

    def recent_latency(self, q: float) -> float | None:
        recent = self.latencies_ms[-RECENT_FRAMES:]
        return float(np.percentile(recent, q)) if recent else None

    def summary(self, tracks: Sequence[Track]) -> Summary:
        frames = self.frame_index + 1
        elapsed = (self.frame_done[-1] - self.loop_started_s) if self.frame_done else 0.0
        faces = []
        for track in tracks:
            if track.frames == 0:
                continue
            dist = {
                task: {label: n / track.frames for label, n in track.top_counts.get(task, Counter()).most_common()}
                for task, _ in self.heads
            }
            faces.append(FaceSummary(track.id, track.frames, dist))
        lat = self.latencies_ms
        whole = np.add(self.read_ms, lat) if lat else None
        return Summary(
            source=self.source,
            frames=frames,
            elapsed_s=elapsed,
            mean_fps=frames / elapsed if elapsed > 0 else 0.0,
            latency_p50_ms=float(np.percentile(lat, 50)) if lat else None,
            latency_p95_ms=float(np.percentile(lat, 95)) if lat else None,
            first_prediction_s=self.first_prediction_s,
            ended=self.ended,
            faces=faces,
            read_p50_ms=float(np.percentile(self.read_ms, 50)) if lat else None,
            frame_p95_ms=float(np.percentile(whole, 95)) if lat else None,
            predictions=self.predictions,
            new_people=self.new_people,
        )
