"""IoU tracking and probability smoothing, so a face keeps its id and its label does not flicker.

Detection runs only every few frames; between detections ``Tracker.advance()`` moves each box by its
recent velocity, and on detection frames ``Tracker.update(detections)`` matches boxes to tracks greedily by IoU:

    tracker = Tracker(iou_threshold=0.3, max_missed=2)
    tracks = tracker.update(detector.detect(frame))   # detection frame (Detection objects or plain boxes)
    tracks = tracker.advance()                        # frames in between
    track.detection                                   # box + landmarks now, for the aligned crop
    track.smooth("emotion", probs, alpha=0.5)         # exponential moving average on the track

Landmarks (YuNet's 5 points) ride with the box: on frames without detection they shift by the box's shift, so
an aligned crop stays aligned while the tracker carries the face.

A track unmatched for more than ``max_missed`` detection rounds expires; a track seen only once and then missed
is dropped at once (most Haar false positives last a single detection).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from facesweep.faces.detect import Box, Detection


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes; 0 when either is empty."""
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def match_boxes(
    old: list[Box], new: list[Box], threshold: float
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Greedy IoU matching: ``(pairs (old_i, new_j), unmatched old indices, unmatched new indices)``.

    Pairs are taken best-IoU first; a pair below ``threshold`` is never matched. Greedy is exact enough for the
    handful of faces a frame holds and needs no Hungarian solver.
    """
    scored = sorted(
        ((iou(o, n), i, j) for i, o in enumerate(old) for j, n in enumerate(new)), key=lambda s: (-s[0], s[1], s[2])
    )
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for score, i, j in scored:
        if score < threshold:
            break
        if i in used_old or j in used_new:
            continue
        pairs.append((i, j))
        used_old.add(i)
        used_new.add(j)
    return (
        sorted(pairs),
        [i for i in range(len(old)) if i not in used_old],
        [j for j in range(len(new)) if j not in used_new],
    )


def smooth(previous: np.ndarray | None, current: np.ndarray, alpha: float) -> np.ndarray:
    """Exponential moving average ``alpha * current + (1 - alpha) * previous``; ``current`` when there is none."""
    current = np.asarray(current, dtype=np.float32)
    if previous is None or previous.shape != current.shape:
        return current
    return (alpha * current + (1.0 - alpha) * previous).astype(np.float32)


@dataclass
class Track:
    id: int
    box: Box  # (x, y, w, h), full-frame pixels; predicted between detections
    anchor: Box  # the box of the last detection matched to this track
    hits: int = 1  # detections matched to this track
    missed: int = 0  # consecutive detection rounds without a match
    frames: int = 0  # frames on which this face was predicted
    velocity: tuple[float, float] = (0.0, 0.0)  # box shift per frame, from the last two detections
    since_detection: int = 0  # frames since the box was last set by a detection
    landmarks: np.ndarray | None = None  # float32 (5, 2) full-frame points, moved with the box; None for Haar
    anchor_landmarks: np.ndarray | None = None  # the landmarks of the last matched detection
    score: float = 1.0  # the last matched detection's score
    predicted_at: float | None = None  # clock time of the last model prediction (None: never predicted)
    predicted_box: Box | None = None  # the box at that prediction (a jump from it asks for a new one)
    predictions: int = 0  # model predictions made for this face
    appearance: np.ndarray | None = None  # running signature of the aligned face (facesweep.live.identity)
    checked_hits: int = 0  # hits at the last identity check (more now: a detection re-placed the landmarks)
    carried_from: int | None = None  # hits of the track this one replaced: its landmarks are the old person's
    # until a detection matches it (hits > carried_from), then its signature and prediction start afresh
    probs: dict[str, np.ndarray] = field(default_factory=dict)  # task -> smoothed probabilities
    top_counts: dict[str, Counter] = field(default_factory=dict)  # task -> frames each label was on top

    @property
    def detection(self) -> Detection:
        """The face as it is now (carried box and landmarks), in the detector's terms, for the crop."""
        return Detection(tuple(float(v) for v in self.box), self.score, self.landmarks)  # type: ignore[arg-type]

    def move_to(self, box: Box) -> None:
        """Set the box and shift the landmarks by the same offset from the last detection."""
        self.box = box
        if self.anchor_landmarks is not None:
            shift = np.array([box[0] - self.anchor[0], box[1] - self.anchor[1]], np.float32)
            self.landmarks = self.anchor_landmarks + shift

    def smooth(self, task: str, probs: np.ndarray, alpha: float) -> np.ndarray:
        self.probs[task] = smooth(self.probs.get(task), probs, alpha)
        return self.probs[task]


class Tracker:
    """Keeps face tracks across frames; ids count up from 1 and are never reused."""

    def __init__(self, *, iou_threshold: float = 0.3, max_missed: int = 2, velocity_alpha: float = 0.5) -> None:
        self.iou_threshold = iou_threshold  # boxes overlapping less than this start a new track
        self.max_missed = max_missed  # detection rounds a track survives unmatched
        self.velocity_alpha = velocity_alpha  # EMA weight of the newest velocity estimate
        self.tracks: list[Track] = []
        self.expired: list[Track] = []  # finished tracks, kept for the end-of-run summary
        self._next_id = 1

    def update(self, detections: Sequence[Detection | Box], *, age: int = 0) -> list[Track]:
        """Match a detection round to the tracks; returns the live tracks (matched, new, and tolerated misses).

        ``detections`` are ``Detection`` objects (landmarks are kept) or plain ``(x, y, w, h)`` boxes. ``age`` is
        how many frames ago they were made (a detector running in the background): matched and new boxes, and
        their landmarks, are moved forward by the track's velocity for that many frames.
        """
        found = [d if isinstance(d, Detection) else Detection(tuple(map(float, d)), 1.0) for d in detections]
        boxes = [d.int_box for d in found]
        pairs, lost, fresh = match_boxes([t.box for t in self.tracks], boxes, self.iou_threshold)
        for i, j in pairs:
            track, box = self.tracks[i], boxes[j]
            steps = max(1, track.since_detection + 1 - age)  # frames between the two detections
            vx, vy = track.velocity
            new_v = ((box[0] - track.anchor[0]) / steps, (box[1] - track.anchor[1]) / steps)
            a = self.velocity_alpha if track.hits > 1 else 1.0
            track.velocity = (a * new_v[0] + (1 - a) * vx, a * new_v[1] + (1 - a) * vy)
            track.anchor = box
            track.anchor_landmarks = found[j].landmarks
            track.score = found[j].score
            track.hits += 1
            track.missed = 0
            track.since_detection = age
            track.move_to(_moved(box, track.velocity, age))
        keep: list[Track] = []
        for index, track in enumerate(self.tracks):
            if index in lost:
                track.missed += 1
                if track.missed > self.max_missed or track.hits < 2:
                    self.expired.append(track)
                    continue
            keep.append(track)
        for j in fresh:
            track = Track(id=self._next_id, box=boxes[j], anchor=boxes[j], since_detection=age, score=found[j].score)
            track.anchor_landmarks = track.landmarks = found[j].landmarks
            keep.append(track)
            self._next_id += 1
        self.tracks = sorted(keep, key=lambda t: t.id)
        return self.tracks

    def replace(self, track: Track) -> Track:
        """End ``track`` (another person now stands in its box) and start a fresh one in its place: same box,
        landmarks and motion, a new id, no probabilities and no prediction yet."""
        fresh = Track(
            id=self._next_id, box=track.box, anchor=track.anchor, hits=track.hits, velocity=track.velocity,
            since_detection=track.since_detection, landmarks=track.landmarks, anchor_landmarks=track.anchor_landmarks,
            score=track.score, carried_from=track.hits,
        )  # fmt: skip
        self._next_id += 1
        self.tracks = [fresh if t is track else t for t in self.tracks]
        self.expired.append(track)
        return fresh

    def advance(self) -> list[Track]:
        """A frame without detection: move each box by its velocity."""
        for track in self.tracks:
            track.since_detection += 1
            track.move_to(_moved(track.anchor, track.velocity, track.since_detection))
        return self.tracks

    def all_tracks(self) -> list[Track]:
        """Every track seen so far, live or expired, by id."""
        return sorted(self.expired + self.tracks, key=lambda t: t.id)


def _moved(box: Box, velocity: tuple[float, float], frames: int) -> Box:
    x, y, w, h = box
    return (int(round(x + velocity[0] * frames)), int(round(y + velocity[1] * frames)), w, h)
