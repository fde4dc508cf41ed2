"""The live loop with fake frames, detector, models and clock: no camera, no jax, no terminal."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest

from facesweep.faces.align import DEFAULT_TEMPLATE
from facesweep.faces.crop import FaceCropper
from facesweep.faces.detect import Detection
from facesweep.live.loop import Head, LiveLoop, bucket_size, predict_inputs, run_live, warm_up
from facesweep.tasks import EMOTION_CLASSES, GENDER_CLASSES


class FakeClock:
    """Time moves only when the fakes say work was done."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t

    def spend(self, ms: float) -> None:
        self.t += ms / 1000


class FakeDetector:
    name = "fake"

    def __init__(self, boxes_per_call, clock: FakeClock | None = None, cost_ms: float = 8.0) -> None:
        self.boxes_per_call = list(boxes_per_call)
        self.clock = clock
        self.cost_ms = cost_ms
        self.calls: list[int] = []  # frame marker (pixel [0, 0, 0]) of each detected frame
        self.threads: set[str] = set()

    def detect(self, frame):
        self.calls.append(int(frame[0, 0, 0]))
        self.threads.add(threading.current_thread().name)
        if self.clock is not None:
            self.clock.spend(self.cost_ms)
        index = min(len(self.calls), len(self.boxes_per_call)) - 1
        return [Detection(tuple(map(float, box)), 1.0) for box in self.boxes_per_call[index]]


def fake_head(task="emotion", clock=None, cost_ms=4.0, probs=None, seen=None) -> Head:
    classes = EMOTION_CLASSES if task == "emotion" else GENDER_CLASSES
    size, channels = (48, 1) if task == "emotion" else (96, 3)

    def predict(images):
        assert images.dtype == np.uint8 and images.shape[1:] == (size, size, channels)
        if seen is not None:
            seen.append(len(images))
        if clock is not None:
            clock.spend(cost_ms)
        if probs is not None:
            return np.tile(probs(), (len(images), 1))
        out = np.full((len(images), len(classes)), 0.1 / (len(classes) - 1), np.float32)
        out[:, 0] = 0.9
        return out

    return Head(task, classes, size, channels, predict, production_crop(size, channels))


def production_crop(size: int, channels: int):
    """The crop the CLI gives each head (``FaceCropper.crop``); the fake detector has no landmarks: a box crop."""
    return FaceCropper(FakeDetector([]), DEFAULT_TEMPLATE, size, channels).crop


def frames(n: int, clock: FakeClock | None = None, read_ms: float = 2.0):
    for i in range(n):
        if clock is not None:
            clock.spend(read_ms)
        frame = np.full((120, 160, 3), 128, np.uint8)
        frame[0, 0, 0] = i  # a marker the fake detector reads back
        yield frame


TWO = [(10, 10, 40, 40), (100, 20, 40, 40)]


def test_bucket_sizes():
    assert [bucket_size(n) for n in (1, 2, 3, 4, 5, 9, 32, 40)] == [1, 2, 4, 4, 8, 16, 32, 32]


def test_all_faces_of_a_frame_go_in_one_padded_batch():
    seen: list[int] = []
    head = fake_head(seen=seen)
    inputs = [np.zeros((48, 48, 1), np.uint8)] * 3
    probs = predict_inputs(head, inputs)
    assert seen == [4] and probs.shape == (3, 7)
    assert predict_inputs(head, []).shape == (0, 7) and seen == [4]


def test_warm_up_compiles_each_bucket_once():
    seen: list[int] = []
    warm_up([fake_head(seen=seen)], (1, 2, 3))
    assert seen == [1, 2, 4]


def test_detection_runs_every_k_frames_while_faces_are_tracked_and_every_frame_otherwise():
    detector = FakeDetector([[], [], TWO])
    state, summary = run_live(frames(10), [fake_head()], detector, clock=FakeClock(), detect_every=3)
    assert detector.calls == [0, 1, 2, 5, 8]
    assert state.frame_index == 9 and state.ended == "end of stream"
    assert [f.id for f in state.faces] == [1, 2]
    assert [f.frames for f in summary.faces] == [8, 8]


def test_latency_fps_and_first_prediction_from_the_injected_clock():
    clock = FakeClock()
    detector = FakeDetector([TWO], clock, cost_ms=8.0)
    heads = [fake_head("emotion", clock, 4.0), fake_head("gender", clock, 4.0)]
    loop = LiveLoop(heads, detector, clock=clock, start=clock() - 1.5, detect_every=2, predict_hz=0)
    state = loop.run(frames(6, clock, read_ms=2.0))
    # detection frames: 8 + 4 + 4 ms; tracked frames: 4 + 4 ms; reading: 2 ms each
    assert state.latencies_ms == pytest.approx([16, 8, 16, 8, 16, 8])
    assert state.read_ms == pytest.approx([2] * 6)
    assert state.first_prediction_s == pytest.approx(1.5 + 0.002 + 0.016)
    summary = loop.summary()
    assert summary.frames == 6
    assert summary.elapsed_s == pytest.approx(0.084)
    assert summary.mean_fps == pytest.approx(6 / 0.084)
    assert summary.latency_p50_ms == pytest.approx(12.0)
    assert summary.frame_p95_ms == pytest.approx(18.0)
    assert state.fps == pytest.approx(5 / 0.066)  # completions at 18, 28, 46, 56, 74, 84 ms


def test_probabilities_are_smoothed_on_the_track():
    outputs = iter([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    head = fake_head("gender", probs=lambda: np.array(next(outputs), np.float32))
    seen = []
    run_live(frames(3), [head], FakeDetector([TWO[:1]]), clock=FakeClock(), alpha=0.5, predict_hz=0,
             on_frame=lambda s: seen.append(s.faces[0].probs["gender"].copy()))
    np.testing.assert_allclose(seen, [[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]])


def test_summary_counts_top_labels_per_face():
    outputs = iter([[0.9, 0.1]] * 3 + [[0.0, 1.0]] * 3)
    head = fake_head("gender", probs=lambda: np.array(next(outputs), np.float32))
    _, summary = run_live(frames(6), [head], FakeDetector([TWO[:1]]), clock=FakeClock(), alpha=1.0, predict_hz=0)
    (face,) = summary.faces
    assert face.frames == 6 and face.distribution == {"gender": {"man": 0.5, "woman": 0.5}}


@pytest.mark.parametrize(
    ("kwargs", "frames_done", "ended"),
    [({"max_frames": 4}, 4, "4 frames done"), ({"duration_s": 0.05}, 5, "0.05 s done")],
)
def test_stops_after_frames_or_duration(kwargs, frames_done, ended):
    clock = FakeClock()
    state, _ = run_live(frames(100, clock, read_ms=10.0), [fake_head()], FakeDetector([TWO]), clock=clock, **kwargs)
    assert state.frame_index + 1 == frames_done and state.ended == ended


def test_ctrl_c_ends_the_loop_like_the_end_of_a_stream():
    def interrupted():
        yield from frames(3)
        raise KeyboardInterrupt

    state, summary = run_live(interrupted(), [fake_head()], FakeDetector([TWO]), clock=FakeClock())
    assert summary.frames == 3 and state.ended == "interrupted (Ctrl-C)"


def test_source_end_reason_is_kept():
    class Source:
        ended = None

        def __iter__(self):
            yield from frames(2)
            self.ended = "end of video"

    state, _ = run_live(Source(), [fake_head()], FakeDetector([TWO]), clock=FakeClock())
    assert state.ended == "end of video"


def test_background_detection_keeps_ids_and_runs_off_the_main_thread():
    detector = FakeDetector([TWO])
    state, summary = run_live(
        frames(30), [fake_head()], detector, clock=FakeClock(), detect_every=2, background_detection=True
    )
    assert [f.id for f in state.faces] == [1, 2]
    assert [f.frames for f in summary.faces] == [30, 30]
    assert any(name.startswith("detect") for name in detector.threads)
    assert len(detector.calls) >= 2


def test_head_from_model_passes_tta():
    calls = []
    model = SimpleNamespace(
        config=SimpleNamespace(image_size=48, channels=1),
        classes=list(EMOTION_CLASSES),
        predict=lambda images, tta=False: calls.append(tta) or np.zeros((len(images), 7), np.float32),
    )
    crop = production_crop(48, 1)
    Head.from_model("emotion", model, crop=crop).predict(np.zeros((1, 48, 48, 1), np.uint8))
    head = Head.from_model("emotion", model, crop=crop, tta=True)
    head.predict(np.zeros((1, 48, 48, 1), np.uint8))
    assert calls == [False, True] and head.classes == EMOTION_CLASSES and head.image_size == 48


def predicted_ids(state):
    return [f.id for f in state.faces if f.predicted]


FOUR = [(0, 0, 30, 30), (40, 0, 30, 30), (80, 0, 30, 30), (120, 0, 30, 30)]


def test_a_face_is_predicted_at_most_every_period_and_at_once_when_new():
    clock = FakeClock()
    detector = FakeDetector([TWO[:1]] * 10 + [TWO])  # face 2 appears on frame 10
    per_frame = []
    run_live(frames(30, clock, read_ms=10.0), [fake_head()], detector, clock=clock, detect_every=1,
             predict_hz=20, on_frame=lambda s: per_frame.append(predicted_ids(s)))
    face1 = [i for i, ids in enumerate(per_frame) if 1 in ids]
    face2 = [i for i, ids in enumerate(per_frame) if 2 in ids]
    assert face1 == [0, 5, 10, 15, 20, 25]  # 10 ms frames, 20 Hz: every 50 ms
    assert face2[0] == 10 and all(b - a >= 5 for a, b in zip(face2, face2[1:], strict=False))


def test_routine_predictions_are_spread_over_frames():
    clock = FakeClock()
    seen: list[int] = []
    per_frame = []
    state, summary = run_live(
        frames(41, clock, read_ms=10.0), [fake_head(seen=seen)], FakeDetector([FOUR]), clock=clock,
        detect_every=1, predict_hz=25, on_frame=lambda s: per_frame.append(predicted_ids(s)),
    )
    assert per_frame[0] == [1, 2, 3, 4]  # all new: at once, in one batch
    assert max(len(ids) for ids in per_frame[1:]) == 1  # 4 faces x 10 ms / 40 ms: one a frame, never a burst
    counts = [sum(face in ids for ids in per_frame) for face in (1, 2, 3, 4)]
    assert all(9 <= n <= 11 for n in counts), counts  # ~25 Hz each over 0.41 s
    assert seen[0] == 4 and set(seen[1:]) <= {1}
    assert summary.predictions == sum(counts) and [f.frames for f in summary.faces] == [41] * 4


def test_a_jumped_box_is_predicted_at_once():
    clock = FakeClock()
    detector = FakeDetector([[(10, 10, 40, 40)]] * 3 + [[(24, 10, 40, 40)]])  # centre moves 14 px > 25% of 40
    per_frame = []
    run_live(frames(5, clock, read_ms=10.0), [fake_head()], detector, clock=clock, detect_every=1,
             predict_hz=5, on_frame=lambda s: per_frame.append(predicted_ids(s)))
    assert per_frame == [[1], [], [], [1], []]


def test_every_frame_when_predict_hz_is_zero():
    per_frame = []
    run_live(frames(4), [fake_head()], FakeDetector([TWO]), clock=FakeClock(), predict_hz=0,
             on_frame=lambda s: per_frame.append(predicted_ids(s)))
    assert per_frame == [[1, 2]] * 4


def test_each_head_crops_the_carried_face_with_its_landmarks():
    marks = np.array([[20, 25], [40, 25], [30, 35], [22, 45], [38, 45]], np.float32)
    got = []

    def crop(frame, face):
        got.append((face.int_box, None if face.landmarks is None else face.landmarks.copy()))
        return np.zeros((48, 48, 1), np.uint8)

    head = Head("emotion", EMOTION_CLASSES, 48, 1, fake_head().predict, crop)

    class Detector(FakeDetector):
        def detect(self, frame):
            self.calls.append(int(frame[0, 0, 0]))
            shift = 3.0 * (len(self.calls) - 1)  # detected every 3rd frame, 3 px further right each time
            return [Detection((10.0 + shift, 10.0, 40.0, 40.0), 0.9, marks + [shift, 0])]

    run_live(frames(8), [head], Detector([]), clock=FakeClock(), detect_every=3, predict_hz=0)
    assert [box[0] for box, _ in got] == [10, 10, 10, 13, 14, 15, 16, 17]  # 1 px a frame once the velocity is known
    for box, landmarks in got:  # the landmarks ride with the box on tracked frames
        np.testing.assert_allclose(landmarks, marks + [box[0] - 10, box[1] - 10])


def test_heads_with_the_same_crop_key_share_one_crop_per_face():
    calls = []

    def crop(frame, face):
        calls.append(face.int_box)
        return np.zeros((48, 48, 1), np.uint8)

    predict = fake_head().predict
    same = [Head("emotion", EMOTION_CLASSES, 48, 1, predict, crop, "48 gray"),
            Head("emotion", EMOTION_CLASSES, 48, 1, predict, crop, "48 gray")]
    run_live(frames(3), same, FakeDetector([TWO]), clock=FakeClock(), predict_hz=0)
    assert len(calls) == 3 * 2  # 3 frames x 2 faces, not x 2 heads
    calls.clear()
    apart = [same[0], Head("emotion", EMOTION_CLASSES, 48, 1, predict, crop, "other")]
    run_live(frames(3), apart, FakeDetector([TWO]), clock=FakeClock(), predict_hz=0)
    assert len(calls) == 3 * 2 * 2


def person_frames(n: int, swap_at: int, box=(40, 20, 60, 60)):
    """Frames with one 'face' in ``box``: a fixed random pattern (one person) that another replaces at
    ``swap_at``; a little fresh noise on every frame, as a camera gives."""
    x, y, w, h = box
    people = [np.random.default_rng(seed).integers(0, 256, (h // 6, w // 6, 3), dtype=np.uint8) for seed in (1, 2)]
    noise = np.random.default_rng(0)
    for i in range(n):
        frame = np.full((120, 160, 3), 128, np.uint8)
        face = np.kron(people[int(i >= swap_at)], np.ones((6, 6, 1), np.uint8)).astype(np.int16)
        face += noise.integers(-6, 7, face.shape, dtype=np.int16)
        frame[y : y + h, x : x + w] = np.clip(face, 0, 255).astype(np.uint8)
        frame[0, 0, 0] = i
        yield frame


def test_another_person_in_the_same_box_is_a_new_face_predicted_at_once():
    clock = FakeClock()
    ids, predicted = [], []

    def record(state):
        ids.append([f.id for f in state.faces])
        predicted.append(predicted_ids(state))

    state, summary = run_live(
        person_frames(12, swap_at=6), [fake_head()], FakeDetector([[(40, 20, 60, 60)]]), clock=clock,
        detect_every=1, predict_hz=2, on_frame=record,
    )
    assert ids == [[1]] * 6 + [[2]] * 6  # same box throughout: only the face in it changed
    assert predicted[0] == [1] and predicted[6] == [2]  # the new person at once, not 0.5 s later
    assert summary.new_people == 1 and [f.frames for f in summary.faces] == [6, 6]


def test_the_same_person_keeps_the_track_without_the_check_nobody_is_new():
    _, summary = run_live(person_frames(12, swap_at=99), [fake_head()], FakeDetector([[(40, 20, 60, 60)]]),
                          clock=FakeClock(), detect_every=1, predict_hz=2)
    assert summary.new_people == 0 and [f.frames for f in summary.faces] == [12]
    _, summary = run_live(person_frames(12, swap_at=6), [fake_head()], FakeDetector([[(40, 20, 60, 60)]]),
                          clock=FakeClock(), detect_every=1, predict_hz=2, new_face=None)
    assert summary.new_people == 0 and [f.frames for f in summary.faces] == [12]


class Positioned:
    """A source whose frames carry their own time (``position_s``), as files do."""

    def __init__(self, frames, fps: float) -> None:
        self.frames, self.fps = frames, fps
        self.position_s = None

    def __iter__(self):
        for i, frame in enumerate(self.frames):
            self.position_s = i / self.fps
            yield frame


@pytest.mark.parametrize("ms_per_frame", [1.0, 200.0])
def test_the_schedule_counts_in_the_source_time_whatever_the_processing_speed(ms_per_frame):
    clock = FakeClock()
    per_frame = []
    head = fake_head(clock=clock, cost_ms=ms_per_frame)
    run_live(Positioned(frames(30), fps=30.0), [head], FakeDetector([FOUR]), clock=clock, detect_every=1,
             predict_hz=10, on_frame=lambda s: per_frame.append(predicted_ids(s)))
    counts = [sum(face in ids for ids in per_frame) for face in (1, 2, 3, 4)]
    assert counts == [10] * 4, counts  # 1 s of video at 10 Hz, at 5 or 1000 frames a second of processing
    assert per_frame[0] == [1, 2, 3, 4] and max(len(ids) for ids in per_frame[1:]) <= 2
