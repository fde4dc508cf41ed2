"""The view refresher: draws from its own thread, at most ``hz`` times a second, from snapshots of the state."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from facesweep.live.loop import Face, LiveState
from facesweep.live.refresh import ViewRefresher
from facesweep.tasks import GENDER_CLASSES


def state_with_face() -> LiveState:
    state = LiveState(source="test", heads=(("gender", GENDER_CLASSES),))
    state.faces = [Face(1, (0, 0, 10, 10), {"gender": np.array([0.2, 0.8], np.float32)}, True)]
    return state


def test_draws_at_most_hz_times_a_second_in_its_own_thread_however_fast_frames_come():
    drawn: list[tuple[int, str]] = []
    refresher = ViewRefresher(lambda s: drawn.append((s.frame_index, threading.current_thread().name)), hz=40)
    state = state_with_face()
    refresher.start()
    started = time.monotonic()
    while time.monotonic() - started < 0.3:  # ~1000+ frames a second
        state.frame_index += 1
        state.latencies_ms.append(1.0)
        refresher.publish(state)
        time.sleep(0.0005)
    refresher.stop()
    elapsed = time.monotonic() - started
    assert 3 <= len(drawn) <= elapsed * 40 + 2, (len(drawn), state.frame_index)
    assert {name for _, name in drawn} == {"view"}
    indexes = [i for i, _ in drawn]
    assert indexes == sorted(indexes) and indexes[-1] < state.frame_index  # newest snapshots, not every frame
    assert refresher.draws == len(drawn)


def test_a_snapshot_does_not_change_when_the_loop_goes_on():
    state = state_with_face()
    state.frame_done.extend([1.0, 2.0])
    state.latencies_ms.extend([5.0] * 100)
    snap = state.snapshot()
    state.faces = []
    state.frame_index = 99
    state.frame_done.append(3.0)
    state.latencies_ms.append(7.0)
    assert [f.id for f in snap.faces] == [1] and snap.frame_index == -1
    assert list(snap.frame_done) == [1.0, 2.0] and len(snap.latencies_ms) == 60 and snap.fps == pytest.approx(1.0)


def test_nothing_is_drawn_without_frames_and_a_drawing_error_reaches_the_caller():
    drawn = []
    refresher = ViewRefresher(drawn.append, hz=100).start()
    time.sleep(0.05)
    refresher.stop()
    assert drawn == []

    def broken(state):
        raise RuntimeError("terminal gone")

    refresher = ViewRefresher(broken, hz=100).start()
    deadline = time.monotonic() + 2
    while refresher.error is None and time.monotonic() < deadline:
        refresher.publish(state_with_face())
        time.sleep(0.005)
    with pytest.raises(RuntimeError, match="terminal gone"):
        refresher.stop()
    refresher.stop()  # raised once; stopping again is quiet


def test_rate_must_be_positive():
    with pytest.raises(ValueError, match="must be > 0"):
        ViewRefresher(print, hz=0)
