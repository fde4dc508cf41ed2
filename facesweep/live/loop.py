"""The live loop: frames in, tracked faces with smoothed probabilities out. No camera, model or terminal needed.

    heads = [Head("emotion", EMOTION_CLASSES, 48, 1, model.predict, crop), ...]  # facesweep.live.heads
    state, summary = run_live(frames, heads, make_detector(), clock=time.perf_counter, on_frame=show)

Per frame: detect every ``detect_every``-th frame (and on every frame while no face is tracked), otherwise move
the tracked boxes (and landmarks); crop every tracked face for the first model and check that it is still the
same person (``facesweep.live.identity``: another face in the box ends the track and starts a new one); pick the
faces due for a prediction -- each face is predicted at most ``predict_hz`` times a second, at once when it is
new or its box jumped, the routine ones spread over frames; one batched call per model for all due faces
(``facesweep.live.heads``); smooth each face's probabilities on its track; then ``on_frame(state)``.

**Which clock.** The prediction schedule counts in the source's time when the frames carry it: a source with a
``position_s`` attribute (``facesweep.live.sources``: a file's or stream's frame index / FPS, an image list's
index) -- so a file gives the same per-frame labels however fast it is processed. Detection results from the
background thread are then applied exactly one frame after the frame they were made on (the loop waits if the
detector is late). Frames without a position (a camera, a plain list) run on the injected ``clock``, and
detection results are applied as soon as they are ready. Ctrl-C ends the loop like the end of a stream.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from facesweep.faces.detect import Box, Detector
from facesweep.live import identity
from facesweep.live.heads import (  # noqa: F401 - re-exported: the loop's public names before the split
    BATCH_BUCKETS,
    Crop,
    Head,
    Predict,
    bucket_size,
    crop_faces,
    predict_heads,
    predict_inputs,
    warm_up,
)
from facesweep.live.state import RECENT_FRAMES, Face, FaceSummary, LiveState, Summary  # noqa: F401 - re-exported
from facesweep.live.track import Track, Tracker

PREDICT_HZ = 10.0  # model predictions per face per second (0 = every frame); more is not visibly smoother
JUMP = 0.25  # a box whose centre moved this fraction of its width, or whose size changed by it, is re-predicted
DETECT_LAG = 1  # frames after which a background detection is applied when the schedule runs on source time


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
        new_face: float | None = identity.NEW_FACE,  # appearance distance that makes a new track; None = off
        keep_frame: bool = False,  # keep the last frame in the state (for --preview)
        background_detection: bool = False,  # detect in a worker thread while tracked faces are predicted
        parallel_heads: bool = False,  # run the models side by side in threads (one call per model a frame)
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
        self.new_face = new_face
        self.keep_frame = keep_frame
        started = clock() if start is None else start
        self.state = LiveState(
            source=source, heads=tuple((h.task, h.classes) for h in self.heads), started_s=started
        )
        self._last_detection = -(10**9)  # frame index of the last detection started
        # OpenCV's detectors release the GIL, so a worker thread detects on the second core while this one
        # crops and predicts; results arrive a frame later and the tracker moves them forward.
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="detect") if background_detection else None
        self._models = (
            ThreadPoolExecutor(len(self.heads) - 1, thread_name_prefix="model")
            if parallel_heads and len(self.heads) > 1 else None
        )  # fmt: skip
        self._pending: tuple[int, Future] | None = None
        self._fixed_lag = False  # set by the first frame that carries a source position
        self._frame_dt: float | None = None  # smoothed seconds between frames, for spreading predictions
        self._last_position: float | None = None

    def _detect_or_track(self, frame: np.ndarray) -> tuple[list[Track], bool]:
        """This frame's tracks, and whether a detection result was applied to them."""
        index = self.state.frame_index
        tracks: list[Track] | None = None
        if self._pending is not None:
            started, future = self._pending
            ready = index - started >= DETECT_LAG if self._fixed_lag else future.done()
            if ready or not self.tracker.tracks:
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
        """Stop the worker threads, if any."""
        for pool in (self._pool, self._models):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._models = None

    def due_tracks(self, tracks: Sequence[Track], now: float) -> list[Track]:
        """The faces to predict on this frame: new and jumped ones at once; the others once ``1 / predict_hz``
        has passed since their last prediction, most overdue first, at most as many as keep the average rate
        (``ceil(faces * frame time * predict_hz)``) so their predictions spread over frames."""
        if not self.predict_hz:
            return list(tracks)
        period = 1.0 / self.predict_hz
        urgent = [t for t in tracks if t.predicted_at is None or jumped(t.predicted_box, t.box, self.jump)]
        at_once = {t.id for t in urgent}
        # a hair of slack: positions are index / FPS, and 0.1 s after 0.0667 s must count as 0.1 s
        waiting = sorted(
            (t for t in tracks if t.id not in at_once and now - t.predicted_at >= period - 1e-9),  # type: ignore[operator]
            key=lambda t: t.predicted_at,  # type: ignore[arg-type,return-value]
        )
        if self._frame_dt is None:
            budget = len(waiting)
        else:
            budget = max(1, math.ceil(len(tracks) * min(1.0, self._frame_dt / period) - 1e-9))
        return urgent + waiting[:budget]

    def _check_identities(self, frame: np.ndarray, tracks: list[Track]) -> tuple[list[Track], list[np.ndarray]]:
        """Crop every face for the first model; a face whose crop no longer looks like its track's face is another
        person: that track ends and a new one takes the box (predicted at once). Returns the tracks and crops."""
        head = self.heads[0]
        crops = [head.model_input(frame, t.detection) for t in tracks]
        if self.new_face is None:
            return tracks, crops
        out = []
        for track, crop in zip(tracks, crops, strict=True):
            signature = identity.appearance(crop)
            redetected, track.checked_hits = track.hits != track.checked_hits, track.hits
            # fresh landmarks move the crop a little (alignment jitter): a wider margin on those frames
            limit = self.new_face * (identity.REDETECTED if redetected else 1.0)
            if track.carried_from is not None and redetected:
                # the new person's own landmarks arrived: the crop changes by design; re-anchor, predict afresh
                track.carried_from, track.appearance = None, None
                track.probs, track.predicted_at = {}, None
            elif identity.changed(track.appearance, signature, limit):
                track = self.tracker.replace(track)
                self.state.new_people += 1
            elif redetected and identity.changed(track.appearance, signature, self.new_face):
                # fresh landmarks moved the crop, or another person did: unsure, so the same track, re-anchored,
                # with a fresh prediction now (right labels either way; only the id may be the old one)
                track.appearance, track.probs, track.predicted_at = None, {}, None
            track.appearance = identity.blend(track.appearance, signature)
            out.append(track)
        return out, crops

    def step(self, frame: np.ndarray, position: float | None = None) -> LiveState:
        """Detect or track, check identities, pick the faces due, crop, predict, smooth: the state for this frame
        (not yet timed). ``position``: the frame's time on the source's clock (None: the injected clock's)."""
        state = self.state
        state.frame_index += 1
        state.resolution = (frame.shape[1], frame.shape[0])
        now = self.clock()
        state.time_s = now - state.started_s
        if position is not None and state.frame_index == 0:
            self._fixed_lag = True
        pos = state.time_s if position is None else float(position)
        state.position_s = pos
        if self._last_position is not None:
            dt = pos - self._last_position
            self._frame_dt = dt if self._frame_dt is None else 0.8 * self._frame_dt + 0.2 * dt
        self._last_position = pos
        tracks, detected = self._detect_or_track(frame)
        state.detected = detected
        due: list[Track] = []
        if self.heads and tracks:
            tracks, first_crops = self._check_identities(frame, tracks)
            due = self.due_tracks(tracks, pos)
            index = {t.id: i for i, t in enumerate(tracks)}
            shared = {self.heads[0].crop_key: [first_crops[index[t.id]] for t in due]}
            inputs = [shared[self.heads[0].crop_key]] + crop_faces(
                self.heads[1:], frame, [t.detection for t in due], shared
            )
            for head, probs in zip(self.heads, predict_heads(self.heads, inputs, self._models), strict=True):
                for track, p in zip(due, probs, strict=True):
                    track.smooth(head.task, p, self.alpha)
        for track in due:
            track.predicted_at, track.predicted_box = pos, track.box
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
        """Process ``frames`` until they end, ``max_frames`` are done, ``duration_s`` has passed, or Ctrl-C.

        A source with a ``position_s`` attribute (the time of the frame it yielded last, on its own clock)
        sets the schedule's clock; see the module docstring."""
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
                self.step(frame, getattr(frames, "position_s", None))
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
    """Run the loop over ``frames``; ``options`` go to ``LiveLoop`` (source, start, detect_every, predict_hz, ...)."""
    loop = LiveLoop(heads, detector, clock=clock, **options)  # type: ignore[arg-type]
    state = loop.run(frames, on_frame=on_frame, max_frames=max_frames, duration_s=duration_s)
    return state, loop.summary()
