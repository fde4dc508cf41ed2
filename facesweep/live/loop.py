"""The live loop: frames in, tracked faces with smoothed probabilities out. No camera, model or terminal needed.

    heads = [Head("emotion", EMOTION_CLASSES, 48, 1, model.predict), ...]   # any predict: uint8 NHWC -> probs
    state = run_live(frames, heads, HaarDetector(), clock=time.perf_counter, on_frame=show)

Per frame: detect every ``detect_every``-th frame (and on every frame while no face is tracked), otherwise move
the tracked boxes; crop each face with a margin; one batched call per model for all faces of the frame
(padded to a power-of-two batch so the jitted model never recompiles mid-stream); smooth each face's
probabilities with an exponential moving average on its track; then ``on_frame(state)`` renders or writes.
Ctrl-C ends the loop like the end of a stream, so the caller still prints its summary.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from facesweep.faces.detect import Box, Detector, boxes_of, crop_face
from facesweep.io.preprocess import to_model_input
from facesweep.live.track import Track, Tracker

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32)  # batch sizes a model ever sees; more faces are split into chunks of 32
RECENT_FRAMES = 60  # window for the header's FPS and latency percentiles

Predict = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Head:
    """One model in the loop: its task, class names, input geometry and ``predict(uint8 NHWC) -> (N, K) probs``."""

    task: str
    classes: tuple[str, ...]
    image_size: int
    channels: int
    predict: Predict

    @classmethod
    def from_model(cls, task: str, model: object, *, tta: bool | None = None) -> Head:
        """Wrap a ``TrainedModel`` (anything with ``config``, ``classes`` and ``predict(images, tta=)``);
        ``tta=None`` keeps the model's own default."""
        config = model.config  # type: ignore[attr-defined]
        predict = model.predict  # type: ignore[attr-defined]
        return cls(
            task,
            tuple(model.classes),  # type: ignore[attr-defined]
            int(config.image_size),
            int(config.channels),
            predict if tta is None else (lambda images: predict(images, tta=tta)),
        )


def bucket_size(n: int) -> int:
    """The smallest batch bucket holding ``n`` images."""
    for size in BATCH_BUCKETS:
        if n <= size:
            return size
    return BATCH_BUCKETS[-1]


def predict_crops(head: Head, crops: Sequence[np.ndarray]) -> np.ndarray:
    """Probabilities ``(len(crops), K)`` from one padded, batched call per chunk of up to 32 faces."""
    if not crops:
        return np.zeros((0, len(head.classes)), np.float32)
    images = np.stack([to_model_input(c, head.image_size, head.channels) for c in crops])
    out = []
    for start in range(0, len(images), BATCH_BUCKETS[-1]):
        chunk = images[start : start + BATCH_BUCKETS[-1]]
        padded = bucket_size(len(chunk))
        if padded > len(chunk):
            chunk = np.concatenate([chunk, np.zeros((padded - len(chunk),) + chunk.shape[1:], chunk.dtype)])
        probs = np.asarray(head.predict(chunk), dtype=np.float32)
        out.append(probs[: min(len(images) - start, BATCH_BUCKETS[-1])])
    return np.concatenate(out)


def warm_up(heads: Sequence[Head], sizes: Sequence[int] = (1, 2, 4)) -> float:
    """Compile every model for the batch buckets of ``sizes`` faces before the view starts; returns seconds."""
    t0 = time.perf_counter()
    for head in heads:
        for size in sorted({bucket_size(n) for n in sizes}):
            np.asarray(head.predict(np.zeros((size, head.image_size, head.image_size, head.channels), np.uint8)))
    return time.perf_counter() - t0


@dataclass
class Face:
    """One face on the current frame, as the view and the JSONL see it."""

    id: int  # track id, stable while the face stays in view
    box: Box  # (x, y, w, h), full-frame pixels
    probs: dict[str, np.ndarray]  # task -> smoothed probabilities in the head's class order
    detected: bool  # the box came from this frame's detection (else it was carried by the tracker)


@dataclass
class FaceSummary:
    id: int
    frames: int  # frames on which the face was predicted
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


@dataclass
class LiveState:
    """Everything the view renders; ``render_*`` functions read it and never change it."""

    source: str
    heads: tuple[tuple[str, tuple[str, ...]], ...]  # (task, classes) per model, in column order
    resolution: tuple[int, int] | None = None  # (width, height) of the last frame
    frame_index: int = -1  # 0-based index of the last processed frame
    time_s: float = 0.0  # last frame's time since start
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
        )


class LiveLoop:
    """The per-frame work, kept in one object so tests can step it frame by frame."""

    def __init__(
        self,
        heads: Sequence[Head],
        detector: Detector,
        *,
        source: str = "",
        clock: Callable[[], float] = time.perf_counter,
        start: float | None = None,
        tracker: Tracker | None = None,
        detect_every: int = 4,  # frames per detection while faces are tracked (every frame while none are)
        margin: float = 0.15,  # crop margin, fraction of the face box's side on each edge
        alpha: float = 0.5,  # EMA weight of the newest probabilities (1 = no smoothing)
        keep_frame: bool = False,  # keep the last frame in the state (for --preview)
        background_detection: bool = False,  # detect in a worker thread while tracked faces are predicted
    ) -> None:
        self.heads = list(heads)
        self.detector = detector
        self.clock = clock
        self.tracker = tracker or Tracker()
        self.detect_every = max(1, detect_every)
        self.margin = margin
        self.alpha = alpha
        self.keep_frame = keep_frame
        started = clock() if start is None else start
        self.state = LiveState(
            source=source, heads=tuple((h.task, h.classes) for h in self.heads), started_s=started
        )
        self._last_detection = -(10**9)  # frame index of the last detection started
        # OpenCV's detectors release the GIL, so a worker thread detects on the second core while this one
        # crops and predicts; results arrive a frame or two late and the tracker moves them forward.
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="detect") if background_detection else None
        self._pending: tuple[int, Future] | None = None

    def _detect_or_track(self, frame: np.ndarray) -> tuple[list[Track], bool]:
        """This frame's tracks, and whether a detection result was applied to them."""
        index = self.state.frame_index
        tracks: list[Track] | None = None
        if self._pending is not None and (self._pending[1].done() or not self.tracker.tracks):
            started, future = self._pending
            self._pending = None
            tracks = self.tracker.update(boxes_of(future.result()), age=index - started)
        due = not self.tracker.tracks or index - self._last_detection >= self.detect_every
        if due and self._pending is None:
            self._last_detection = index
            if self._pool is None or (not self.tracker.tracks and tracks is None):
                # nothing tracked yet (or no worker): detect now; there is nothing else to show meanwhile
                tracks = self.tracker.update(boxes_of(self.detector.detect(frame)))
            else:
                self._pending = (index, self._pool.submit(self.detector.detect, frame))
        if tracks is None:
            return self.tracker.advance(), False
        return tracks, True

    def close(self) -> None:
        """Stop the detection worker, if any."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def step(self, frame: np.ndarray) -> LiveState:
        """Detect or track, crop, predict, smooth: the state for this frame (not yet timed)."""
        state = self.state
        state.frame_index += 1
        state.resolution = (frame.shape[1], frame.shape[0])
        state.time_s = self.clock() - state.started_s
        tracks, detected = self._detect_or_track(frame)
        state.detected = detected
        crops = [crop_face(frame, t.box, self.margin) for t in tracks]
        for head in self.heads:
            probs = predict_crops(head, crops)
            for track, p in zip(tracks, probs, strict=True):
                smoothed = track.smooth(head.task, p, self.alpha)
                track.top_counts.setdefault(head.task, Counter())[head.classes[int(np.argmax(smoothed))]] += 1
        for track in tracks:
            track.frames += 1
        state.faces = [
            Face(t.id, t.box, dict(t.probs), detected=detected and t.missed == 0)
            for t in tracks
        ]
        if tracks and self.heads and state.first_prediction_s is None:
            state.first_prediction_s = self.clock() - state.started_s
        state.frame = frame if self.keep_frame else None
        return state

    def run(
        self,
        frames: Iterable[np.ndarray],
        *,
        on_frame: Callable[[LiveState], None] | None = None,
        max_frames: int | None = None,
        duration_s: float | None = None,
    ) -> LiveState:
        """Process ``frames`` until they end, ``max_frames`` are done, ``duration_s`` has passed, or Ctrl-C."""
        state = self.state
        iterator = iter(frames)
        state.loop_started_s = self.clock()
        try:
            while True:
                if max_frames is not None and state.frame_index + 1 >= max_frames:
                    state.ended = f"{max_frames} frames done"
                    break
                t_read = self.clock()
                if duration_s is not None and t_read - state.loop_started_s >= duration_s:
                    state.ended = f"{duration_s:g} s done"
                    break
                try:
                    frame = next(iterator)
                except StopIteration:
                    state.ended = getattr(frames, "ended", None) or "end of stream"
                    break
                t_frame = self.clock()
                self.step(frame)
                if on_frame is not None:
                    on_frame(state)
                t_done = self.clock()
                state.read_ms.append((t_frame - t_read) * 1e3)
                state.latencies_ms.append((t_done - t_frame) * 1e3)
                state.frame_done.append(t_done)
        except KeyboardInterrupt:
            state.ended = "interrupted (Ctrl-C)"
        finally:
            self.close()
        return state

    def summary(self) -> Summary:
        return self.state.summary(self.tracker.all_tracks())


def run_live(
    frames: Iterable[np.ndarray],
    heads: Sequence[Head],
    detector: Detector,
    *,
    clock: Callable[[], float] = time.perf_counter,
    on_frame: Callable[[LiveState], None] | None = None,
    max_frames: int | None = None,
    duration_s: float | None = None,
    **options: object,
) -> tuple[LiveState, Summary]:
    """Run the loop over ``frames``; ``options`` go to ``LiveLoop`` (source, start, detect_every, margin, ...)."""
    loop = LiveLoop(heads, detector, clock=clock, **options)  # type: ignore[arg-type]
    state = loop.run(frames, on_frame=on_frame, max_frames=max_frames, duration_s=duration_s)
    return state, loop.summary()
