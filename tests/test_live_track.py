"""Tracking and smoothing units: IoU, greedy matching, id persistence, expiry, velocity, EMA."""

from __future__ import annotations

import numpy as np
import pytest

from facesweep.faces.detect import Detection
from facesweep.live.track import Tracker, iou, match_boxes, smooth


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
        ((0, 0, 10, 10), (10, 0, 10, 10), 0.0),  # touching edges
        ((0, 0, 10, 10), (5, 0, 10, 10), 50 / 150),
        ((0, 0, 10, 10), (2, 2, 5, 5), 25 / 100),  # contained
        ((0, 0, 0, 0), (0, 0, 0, 0), 0.0),  # empty boxes
    ],
)
def test_iou(a, b, expected):
    assert iou(a, b) == pytest.approx(expected)
    assert iou(b, a) == pytest.approx(expected)


def test_match_boxes_is_greedy_by_iou_and_respects_threshold():
    old = [(0, 0, 10, 10), (100, 100, 10, 10), (300, 300, 10, 10)]
    new = [(101, 101, 10, 10), (1, 0, 10, 10), (500, 500, 10, 10)]
    pairs, lost, fresh = match_boxes(old, new, threshold=0.3)
    assert pairs == [(0, 1), (1, 0)]
    assert lost == [2]
    assert fresh == [2]


def test_match_boxes_gives_a_contested_box_to_the_best_overlap():
    old = [(0, 0, 10, 10), (4, 0, 10, 10)]
    pairs, lost, fresh = match_boxes(old, [(5, 0, 10, 10)], threshold=0.1)
    assert pairs == [(1, 0)] and lost == [0] and fresh == []


def test_ids_persist_while_faces_move_and_new_faces_get_new_ids():
    tracker = Tracker(iou_threshold=0.3)
    first = tracker.update([(0, 0, 50, 50), (200, 0, 50, 50)])
    assert [t.id for t in first] == [1, 2]
    moved = tracker.update([(205, 2, 50, 50), (4, 3, 50, 50), (400, 400, 40, 40)])
    assert [(t.id, t.box) for t in moved] == [(1, (4, 3, 50, 50)), (2, (205, 2, 50, 50)), (3, (400, 400, 40, 40))]


def test_track_expires_after_max_missed_rounds_and_ids_are_not_reused():
    tracker = Tracker(max_missed=2)
    tracker.update([(0, 0, 50, 50)])
    tracker.update([(0, 0, 50, 50)])  # confirmed: 2 hits
    assert [t.id for t in tracker.update([])] == [1]  # missed once: kept
    assert [t.id for t in tracker.update([])] == [1]  # missed twice: kept
    assert tracker.update([]) == []  # third miss: expired
    assert [t.id for t in tracker.expired] == [1]
    assert [t.id for t in tracker.update([(0, 0, 50, 50)])] == [2]
    assert [t.id for t in tracker.all_tracks()] == [1, 2]


def test_a_track_seen_once_then_missed_is_dropped_at_once():
    tracker = Tracker(max_missed=5)
    tracker.update([(0, 0, 50, 50)])
    assert tracker.update([]) == []


def test_boxes_move_by_velocity_between_detections():
    tracker = Tracker(velocity_alpha=1.0)
    tracker.update([(100, 100, 40, 40)])
    tracker.advance()
    tracker.advance()
    (track,) = tracker.update([(106, 100, 40, 40)])  # 3 frames after the first detection: 2 px/frame
    assert track.velocity == pytest.approx((2.0, 0.0))
    assert tracker.advance()[0].box == (108, 100, 40, 40)
    assert tracker.advance()[0].box == (110, 100, 40, 40)


def test_late_detection_is_moved_forward_by_its_age():
    tracker = Tracker(velocity_alpha=1.0)
    tracker.update([(100, 100, 40, 40)])
    for _ in range(4):
        tracker.advance()
    # detected on frame 2 (the first detection was frame 0), applied on frame 5: age 3
    (track,) = tracker.update([(104, 100, 40, 40)], age=3)
    assert track.velocity == pytest.approx((2.0, 0.0))
    assert track.box == (110, 100, 40, 40)


def test_smooth_is_an_exponential_moving_average():
    first = smooth(None, np.array([1.0, 0.0]), alpha=0.5)
    np.testing.assert_allclose(first, [1.0, 0.0])
    second = smooth(first, np.array([0.0, 1.0]), alpha=0.5)
    np.testing.assert_allclose(second, [0.5, 0.5])
    third = smooth(second, np.array([0.0, 1.0]), alpha=0.5)
    np.testing.assert_allclose(third, [0.25, 0.75])
    assert third.sum() == pytest.approx(1.0)


def test_track_smooth_keeps_one_average_per_task():
    tracker = Tracker()
    (track,) = tracker.update([(0, 0, 10, 10)])
    track.smooth("emotion", np.eye(7)[3], alpha=0.5)
    track.smooth("gender", np.array([0.0, 1.0]), alpha=0.5)
    track.smooth("emotion", np.eye(7)[0], alpha=0.5)
    np.testing.assert_allclose(track.probs["emotion"][[0, 3]], [0.5, 0.5])
    np.testing.assert_allclose(track.probs["gender"], [0.0, 1.0])


def test_landmarks_ride_with_the_box_between_and_after_detections():
    marks = np.array([[110, 110], [130, 110], [120, 120], [112, 130], [128, 130]], np.float32)
    tracker = Tracker(velocity_alpha=1.0)
    (track,) = tracker.update([Detection((100.0, 100.0, 40.0, 40.0), 0.9, marks)])
    np.testing.assert_allclose(track.detection.landmarks, marks)
    assert track.detection.int_box == (100, 100, 40, 40) and track.detection.score == pytest.approx(0.9)
    tracker.advance()
    (track,) = tracker.update([Detection((104.0, 101.0, 40.0, 40.0), 0.8, marks + [4, 1])])  # 2 frames: (2, .5)/frame
    tracker.advance()
    tracker.advance()
    assert track.box == (108, 102, 40, 40)
    np.testing.assert_allclose(track.landmarks, marks + [8, 2])  # shifted with the box (rounded like it)
    assert track.detection.landmarks is track.landmarks and track.score == pytest.approx(0.8)
    # a late detection (age 2) moves box and landmarks forward together
    (track,) = tracker.update([Detection((110.0, 103.0, 40.0, 40.0), 0.8, marks + [10, 3])], age=2)
    np.testing.assert_allclose(track.landmarks - marks, [[track.box[0] - 100, track.box[1] - 100]] * 5)


def test_boxes_without_landmarks_are_tracked_as_before():
    tracker = Tracker()
    (track,) = tracker.update([(0, 0, 10, 10)])
    assert track.landmarks is None and track.detection.landmarks is None
    (track,) = tracker.update([Detection((1.0, 0.0, 10.0, 10.0), 1.0)])
    assert track.id == 1 and track.box == (1, 0, 10, 10)
