"""Frame sources: cameras that drop, videos that end, images and globs as slideshows, URLs with passwords."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facesweep.errors import CameraError, UsageError
from facesweep.live.sources import ImageSource, VideoSource, open_source, redact_url
from facesweep.live.testvideo import write_test_video


class FakeCapture:
    """``cv2.VideoCapture`` stand-in: ``script`` is a list of True (a frame) / False (a failed read)."""

    def __init__(self, script):
        self.script = list(script)
        self.released = False

    def read(self):
        if not self.script or not self.script.pop(0):
            return False, None
        return True, np.zeros((4, 6, 3), np.uint8)

    def get(self, prop):
        return {cv2.CAP_PROP_FRAME_WIDTH: 6, cv2.CAP_PROP_FRAME_HEIGHT: 4, cv2.CAP_PROP_FPS: 30}.get(prop, 0)

    def release(self):
        self.released = True


def test_camera_that_drops_briefly_recovers():
    source = VideoSource(FakeCapture([True, False, False, True, True]), "camera 0", "camera",
                         retries=3, sleep=lambda s: None)
    assert len(list(source)) == 3
    assert source.ended == "camera 0 stopped delivering frames (3 retries)"


def test_camera_that_stays_dropped_is_reopened_once_then_ends():
    reopened = []

    def reopen():
        reopened.append(True)
        return FakeCapture([True, True])

    source = VideoSource(FakeCapture([True] + [False] * 10), "camera 0", "camera",
                         retries=3, sleep=lambda s: None, reopen=reopen)
    assert len(list(source)) == 3  # 1 before the drop, 2 from the re-opened camera
    assert reopened == [True]


def test_video_ends_at_the_first_failed_read():
    source = VideoSource(FakeCapture([True, True, False, True]), "video x.avi", "video")
    assert len(list(source)) == 2 and source.ended == "end of video"
    assert (source.width, source.height, source.fps) == (6, 4, 30)


def test_video_file_source(tmp_path):
    video = write_test_video(tmp_path / "v.avi", frames=5)
    source = open_source(str(video.path))
    frames = list(source)
    source.close()
    assert source.name == "video v.avi" and len(frames) == 5
    assert frames[0].shape == (480, 640, 3) and frames[0].dtype == np.uint8


def test_images_glob_folder_and_single_image(tmp_path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"shot{i}.png"), np.full((20, 30, 3), i * 50, np.uint8))
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    source = open_source(str(tmp_path / "*"))
    assert isinstance(source, ImageSource) and len(list(source)) == 3
    assert source.ended == "end of 3 image(s), 1 unreadable skipped"
    assert len(list(open_source(str(tmp_path)))) == 3
    single = open_source(str(tmp_path / "shot1.png"))
    assert single.name == "image shot1.png" and [f[0, 0, 0] for f in single] == [50]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("57", "cannot open camera 57"),
        ("{tmp}/missing.mp4", "no such file"),
        ("{tmp}/*.nothing", "no images match"),
        ("{tmp}/bad.avi", "cannot decode video"),
        ("{tmp}/bad.png", "cannot read image"),
        ("{tmp}/empty", "no images in folder"),
    ],
)
def test_sources_that_cannot_be_opened(tmp_path, spec, message):
    (tmp_path / "bad.avi").write_bytes(b"not a video at all")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CameraError, match=message) as info:
        open_source(spec.format(tmp=tmp_path))
    assert "\n" not in str(info.value)


def test_no_camera_message_says_how_to_use_a_file_instead():
    with pytest.raises(CameraError) as info:
        open_source("57")
    assert "--source video.mp4" in str(info.value)


def test_redact_url():
    assert redact_url("rtsp://admin:hunter2@cam.local:554/live") == "rtsp://admin:***@cam.local:554/live"
    assert redact_url("http://cam.local/stream.mjpg") == "http://cam.local/stream.mjpg"


def positions(source):
    return [source.position_s for _ in source]


def test_files_and_images_carry_their_own_time_and_a_camera_the_wall_clock(tmp_path):
    assert positions(VideoSource(FakeCapture([True] * 3), "video x.avi", "video")) == pytest.approx([0, 1 / 30, 2 / 30])
    assert positions(VideoSource(FakeCapture([True] * 2), "video x.avi", "video", fps=10)) == [0.0, 0.1]
    assert positions(VideoSource(FakeCapture([True] * 2), "camera 0", "camera")) == [None, None]
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"shot{i}.png"), np.full((20, 30, 3), i * 50, np.uint8))
    assert positions(open_source(str(tmp_path))) == [0.0, 1.0, 2.0]  # a slideshow: one image a second
    assert positions(open_source(str(tmp_path), fps=4)) == [0.0, 0.25, 0.5]
    with pytest.raises(UsageError, match=r"^--fps must be > 0 frames per second, got 0$"):
        open_source(str(tmp_path), fps=0)


def test_realtime_waits_for_each_frame_s_time():
    now = [5.0]
    slept = []

    def sleep(s):
        slept.append(round(s, 6))
        now[0] += s

    source = VideoSource(FakeCapture([True] * 4), "video x.avi", "video", fps=10, realtime=True, sleep=sleep)
    source._pacer.clock = lambda: now[0]
    for i, _ in enumerate(source):
        now[0] += 0.03 if i != 1 else 0.15  # decoding + the loop's work; frame 1 is slow
    assert slept == [0.07, 0.02]  # frame 1 waits 0.1 - 0.03; frame 2 is already late; frame 3 waits 0.3 - 0.28


def test_prefetched_frames_keep_their_order_time_and_end(tmp_path):
    from facesweep.live.sources import Prefetched

    for i in range(5):
        cv2.imwrite(str(tmp_path / f"shot{i}.png"), np.full((20, 30, 3), i * 50, np.uint8))
    source = Prefetched(open_source(str(tmp_path), fps=2))
    seen = [(int(frame[0, 0, 0]), source.position_s) for frame in source]
    assert seen == [(0, 0.0), (50, 0.5), (100, 1.0), (150, 1.5), (200, 2.0)]
    assert source.ended == "end of 5 image(s)" and source.name.startswith("images")
    early = Prefetched(open_source(str(tmp_path)))
    next(iter(early))
    early.close()  # stops the reader thread mid-stream
    assert not early._thread.is_alive()
