"""The live loop: frames in, tracked faces with smoothed probabilities out. No camera, model or terminal needed.

    heads = [Head("emotion", EMOTION_CLASSES, 48, 1, model.predict), ...]   # any predict: uint8 NHWC -> probs
    state = run_live(frames, heads, make_detector(), clock=time.perf_counter, on_frame=show)

Per frame: detect every ``detect_every``-th frame (and on every frame while no face is tracked), otherwise move
the tracked boxes (and landmarks); pick the faces due for a prediction -- each face is predicted at most
``predict_hz`` times a second, at once when it is new or its box jumped, and the routine ones are spread over
frames so that no frame predicts every face; crop each due face the way its model wants (``Head.crop``: aligned
on the landmarks when the detector gives them); one batched call per model (padded to a power-of-two batch so
the jitted model never recompiles mid-stream); smooth each face's probabilities with an exponential moving
average on its track (faces not predicted this frame keep theirs); then ``on_frame(state)`` writes or publishes.
Ctrl-C ends the loop like the end of a stream, so the caller still prints its summary.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from facesweep.faces.detect import Box, Detection, Detector, crop_face
from facesweep.io.preprocess import to_model_input
from facesweep.live.track import Track, Tracker

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32)  # batch sizes a model ever sees; more faces are split into chunks of 32
RECENT_FRAMES = 60  # window for the header's FPS and latency percentiles
PREDICT_HZ = 10.0  # model predictions per face per second (0 = every frame); more is not visibly smoother
JUMP = 0.25  # a box whose centre moved this fraction of its width, or whose size changed by it, is re-predicted
BOX_MARGIN = 0.15  # the box crop's margin for heads without their own crop (fraction of the side, each edge)

Predict = Callable[[np.ndarray], np.ndarray]
Crop = Callable[[np.ndarray, Detection], np.ndarray]  # (frame BGR, face) -> uint8 (S, S, C) model input


@dataclass(frozen=True)
class Head:
    """One model in the loop: its task, class names, input geometry and ``predict(uint8 NHWC) -> (N, K) probs``."""

    task: str
    classes: tuple[str, ...]
    image_size: int
    channels: int
    predict: Predict
    crop: Crop | None = None  # this model's face crop; None = the detector box grown by BOX_MARGIN
    crop_key: Hashable | None = None  # heads with equal keys get the same crops: cropped once a frame, shared

    @classmethod
    def from_model(
        cls, task: str, model: object, *, tta: bool | None = None, predict: Predict | None = None,
        crop: Crop | None = None, crop_key: Hashable | None = None,
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
        if self.crop is not None:
            return self.crop(frame, face)
        return to_model_input(crop_face(frame, face.int_box, BOX_MARGIN), self.image_size, self.channels)


def bucket_size(n: int) -> int:
    """The smallest batch bucket holding ``n`` images."""
    for size in BATCH_BUCKETS:
        if n <= size:
            return size
    return BATCH_BUCKETS[-1]


def predict_crops(head: Head, crops: Sequence[np.ndarray]) -> np.ndarray:
    """Probabilities ``(len(crops), K)`` for face crops of any size (converted with ``to_model_input``)."""
    return predict_inputs(head, [to_model_input(c, head.image_size, head.channels) for c in crops])


def predict_inputs(head: Head, inputs: Sequence[np.ndarray]) -> np.ndarray:
    """Probabilities ``(len(inputs), K)`` for model inputs, one padded, batched call per chunk of up to 32."""
    if not len(inputs):
        return np.zeros((0, len(head.classes)), np.float32)
    images = np.stack(inputs)
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
    predictions: int = 0  # faces predicted so far (each counts once per frame, for all models)

    def snapshot(self) -> LiveState:
        """A copy that another thread can render while this one goes on (the recent window only)."""
        return LiveState(
            source=self.source,
            heads=self.heads,
            resolution=self.resolution,
            frame_index=self.frame_index,
            time_s=self.time_s,
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
        predict_hz: float = PREDICT_HZ,  # predictions per face per second; 0 = every face on every frame
        jump: float = JUMP,  # box change (fraction of its width) that asks for a prediction at once
        alpha: float = 0.5,  # EMA weight of the newest probabilities (1 = no smoothing)
        keep_frame: bool = False,  # keep the last frame in the state (for --preview)
        background_detection: bool = False,  # detect in a worker thread while tracked faces are predicted
    ) -> None:
        self.heads = list(heads)
        self.detector = detector
        self.clock = clock
        self.tracker = tracker or Tracker()
        self.detect_every = max(1, detect_every)
        if predict_hz < 0:
            raise ValueError(f"predict_hz must be >= 0 (0 = every frame), got {predict_hz}")
        self.predict_hz = predict_hz
        self.jump = jump
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
        self._frame_dt: float | None = None  # smoothed seconds between frames, for spreading predictions
        self._last_step: float | None = None

    def _detect_or_track(self, frame: np.ndarray) -> tuple[list[Track], bool]:
        """This frame's tracks, and whether a detection result was applied to them."""
        index = self.state.frame_index
        tracks: list[Track] | None = None
        if self._pending is not None and (self._pending[1].done() or not self.tracker.tracks):
            started, future = self._pending
            self._pending = None
            tracks = self.tracker.update(future.result(), age=index - started)
        due = not self.tracker.tracks or index - self._last_detection >= self.detect_every
        if due and self._pending is None:
            self._last_detection = index
            if self._pool is None or (not self.tracker.tracks and tracks is None):
                # nothing tracked yet (or no worker): detect now; there is nothing else to show meanwhile
                tracks = self.tracker.update(self.detector.detect(frame))
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

    def due_tracks(self, tracks: Sequence[Track], now: float) -> list[Track]:
        """The faces to predict on this frame: new and jumped ones at once; the others once ``1 / predict_hz``
        has passed since their last prediction, most overdue first, at most as many as keep the average rate
        (``ceil(faces * frame time * predict_hz)``) so their predictions spread over frames."""
        if not self.predict_hz:
            return list(tracks)
        period = 1.0 / self.predict_hz
        urgent = [t for t in tracks if t.predicted_at is None or jumped(t.predicted_box, t.box, self.jump)]
        at_once = {t.id for t in urgent}
        waiting = sorted(
            (t for t in tracks if t.id not in at_once and now - t.predicted_at >= period),  # type: ignore[operator]
            key=lambda t: t.predicted_at,  # type: ignore[arg-type,return-value]
        )
        if self._frame_dt is None:
            budget = len(waiting)
        else:
            budget = max(1, math.ceil(len(tracks) * min(1.0, self._frame_dt / period) - 1e-9))
        return urgent + waiting[:budget]

    def step(self, frame: np.ndarray) -> LiveState:
        """Detect or track, pick the faces due, crop, predict, smooth: the state for this frame (not yet timed)."""
        state = self.state
        state.frame_index += 1
        state.resolution = (frame.shape[1], frame.shape[0])
        now = self.clock()
        state.time_s = now - state.started_s
        if self._last_step is not None:
            dt = now - self._last_step
            self._frame_dt = dt if self._frame_dt is None else 0.8 * self._frame_dt + 0.2 * dt
        self._last_step = now
        tracks, detected = self._detect_or_track(frame)
        state.detected = detected
        due = self.due_tracks(tracks, now) if self.heads else []
        faces = [t.detection for t in due]
        shared: dict[Hashable, list[np.ndarray]] = {}
        for head in self.heads:
            inputs = shared.get(head.crop_key) if head.crop_key is not None else None
            if inputs is None:
                inputs = [head.model_input(frame, face) for face in faces]
                if head.crop_key is not None:
                    shared[head.crop_key] = inputs
            probs = predict_inputs(head, inputs)
            for track, p in zip(due, probs, strict=True):
                track.smooth(head.task, p, self.alpha)
        for track in due:
            track.predicted_at, track.predicted_box = now, track.box
            track.predictions += 1
        state.predictions += len(due)
        predicted = {t.id for t in due}
        for track in tracks:
            track.frames += 1
            for task, classes in state.heads:
                probs = track.probs.get(task)
                if probs is not None:
                    track.top_counts.setdefault(task, Counter())[classes[int(np.argmax(probs))]] += 1
        state.faces = [
            Face(t.id, t.box, dict(t.probs), detected=detected and t.missed == 0, predicted=t.id in predicted)
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


def jumped(before: Box | None, after: Box, fraction: float) -> bool:
    """Whether the box moved its centre by more than ``fraction`` of its width, or changed size by more."""
    if before is None:
        return True
    bx, by, bw, bh = before
    ax, ay, aw, ah = after
    side = max(1.0, float(bw))
    shift = math.hypot((ax + aw / 2) - (bx + bw / 2), (ay + ah / 2) - (by + bh / 2))
    return shift > fraction * side or abs(aw - bw) > fraction * side


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
