"""Frame sources for ``facesweep live``: a camera index, a video file, a stream URL, an image, or a glob of images.

Every source is an iterable of BGR ``uint8 (H, W, 3)`` frames with a ``name`` for the header and an
``ended`` reason once it stops:

    source = open_source("clip.avi")      # or "0", "rtsp://cam/stream", "shots/*.jpg", "face.png"
    try:
        for frame in source:
            ...
    finally:
        source.close()

Each source also says when its last frame was, on its own clock (``position_s``): a file's or stream's frame
index over its FPS (``fps=`` if given, else the container's, else 30), an image list's index over ``fps``
(default one image a second: a slideshow); ``None`` for a camera, whose clock is the wall clock. The live loop
schedules predictions in that time, so a file gives the same labels at any processing speed. ``realtime=True``
paces a file or image list to that clock (sleeps until each frame is due), as a camera would deliver it.

A camera or file that cannot be opened raises ``CameraError`` with one line naming it and what to do instead.
A video or stream that ends just ends (``ended`` says why); a camera that stops delivering frames is retried a
few times (re-opened once) before it ends cleanly.
"""

from __future__ import annotations

import glob
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from facesweep.errors import CameraError, UsageError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})
DEFAULT_FPS = 30.0  # a video or stream whose container reports no usable frame rate is read at this rate
IMAGE_FPS = 1.0  # an image list is a slideshow: one image a second unless fps= says otherwise
USE_A_FILE = "use a file instead: --source video.mp4, --source 'shots/*.jpg' or --source rtsp://host/stream"


def _quiet_opencv() -> None:
    """OpenCV prints multi-line warnings for every backend it tries; our own one-line errors say it better."""
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except AttributeError:  # pragma: no cover - older builds without the logging module
        pass


class Pacer:
    """Sleeps until ``start + position`` on a monotonic clock: frames delivered at their own pace (``realtime``)."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self.start: float | None = None

    def wait(self, position: float) -> None:
        now = self.clock()
        if self.start is None:
            self.start = now - position
        ahead = self.start + position - now
        if ahead > 0:
            self.sleep(ahead)


def usable_fps(fps: float | None) -> float | None:
    """A container's FPS if it is plausible (0 < fps <= 1000), else None (streams often report 0 or 90000)."""
    return float(fps) if fps is not None and 0 < fps <= 1000 else None


def redact_url(url: str) -> str:
    """``rtsp://user:secret@host/x`` -> ``rtsp://user:***@host/x`` (for headers and error messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class VideoSource:
    """Frames from ``cv2.VideoCapture``: a camera index, a video file or a stream URL."""

    def __init__(
        self,
        capture: cv2.VideoCapture,
        name: str,
        kind: str,
        *,
        reopen: Callable[[], cv2.VideoCapture] | None = None,
        retries: int = 0,
        retry_wait_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        fps: float | None = None,
        realtime: bool = False,
    ) -> None:
        self.capture = capture
        self.name = name  # "camera 0", "video clip.avi", "stream rtsp://..."
        self.kind = kind  # "camera" | "video" | "stream"
        self.width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)) or None
        self.height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) or None
        self.fps = float(capture.get(cv2.CAP_PROP_FPS)) or None  # as the container/driver reports it
        # the schedule's clock: frame index / FPS for files and streams; a camera runs on the wall clock
        self.clock_fps = None if kind == "camera" else (usable_fps(fps) or usable_fps(self.fps) or DEFAULT_FPS)
        self.position_s: float | None = None  # time of the last frame yielded, on that clock (None: a camera)
        self.frames = 0  # frames yielded so far
        self._pacer = Pacer(sleep=sleep) if realtime and self.clock_fps else None
        self.ended: str | None = None
        self._reopen = reopen
        self._retries = retries  # consecutive failed reads tolerated (cameras only)
        self._retry_wait_s = retry_wait_s
        self._sleep = sleep

    def __iter__(self) -> Iterator[np.ndarray]:
        failures = 0
        while True:
            ok, frame = self.capture.read()
            if ok and frame is not None:
                failures = 0
                if frame.ndim == 2:
                    frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
                if self.clock_fps:
                    self.position_s = self.frames / self.clock_fps
                    if self._pacer is not None:
                        self._pacer.wait(self.position_s)
                self.frames += 1
                yield frame
                continue
            failures += 1
            if failures > self._retries:
                if self.kind == "camera":
                    self.ended = f"{self.name} stopped delivering frames ({self._retries} retries)"
                else:
                    self.ended = f"end of {self.kind}"
                return
            self._sleep(self._retry_wait_s)
            if failures == self._retries and self._reopen is not None:
                # Last chance: a USB camera that was unplugged and plugged back needs a fresh handle.
                self.capture.release()
                self.capture = self._reopen()
                self._reopen = None  # once: a camera that keeps failing should end, not flap forever

    def close(self) -> None:
        self.capture.release()


class ImageSource:
    """A slideshow: each image of a list once, in order (unreadable files are skipped and counted)."""

    def __init__(self, paths: list[Path], name: str, *, fps: float | None = None, realtime: bool = False) -> None:
        self.paths = paths
        self.name = name
        self.kind = "images"
        first = cv2.imread(str(paths[0]), cv2.IMREAD_COLOR)
        self.height, self.width = (first.shape[:2]) if first is not None else (None, None)
        self.fps = fps
        self.clock_fps = usable_fps(fps) or IMAGE_FPS
        self.position_s: float | None = None  # the last image's index / clock_fps
        self.frames = 0
        self._pacer = Pacer() if realtime else None
        self.skipped: list[Path] = []
        self.ended: str | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        for path in self.paths:
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is None:
                self.skipped.append(path)
                continue
            self.position_s = self.frames / self.clock_fps
            if self._pacer is not None:
                self._pacer.wait(self.position_s)
            self.frames += 1
            yield frame
        self.ended = f"end of {len(self.paths) - len(self.skipped)} image(s)"
        if self.skipped:
            self.ended += f", {len(self.skipped)} unreadable skipped"

    def close(self) -> None:
        pass


class Prefetched:
    """Decode the next frames of a file or image list in a thread while the loop works on this one.

    ``cv2`` decodes without the GIL, so decoding overlaps the models. Frames keep their order and their
    ``position_s``; ``ended``, ``name``, ``kind``, ``fps`` and ``close`` are the wrapped source's. Not for a camera
    or stream: reading ahead there would only queue up stale frames.
    """

    def __init__(self, source: VideoSource | ImageSource, depth: int = 2) -> None:
        self.source = source
        self.name, self.kind = source.name, source.kind
        self.width, self.height, self.fps = source.width, source.height, source.fps
        self.clock_fps = getattr(source, "clock_fps", None)
        self.position_s: float | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ended(self) -> str | None:
        return self.source.ended

    def _read(self) -> None:
        try:
            for frame in self.source:
                item = (frame, self.source.position_s)
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._queue.put(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            self._queue.put(exc)

    def __iter__(self) -> Iterator[np.ndarray]:
        self._thread = threading.Thread(target=self._read, name="decode", daemon=True)
        self._thread.start()
        while True:
            item = self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            frame, self.position_s = item
            yield frame

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self.source.close()


FrameSource = VideoSource | ImageSource | Prefetched


def open_camera(index: int, *, retries: int = 5, retry_wait_s: float = 0.2) -> VideoSource:
    """Camera ``index``; ``CameraError`` naming it (and how to use a file instead) when it cannot be opened."""
    _quiet_opencv()
    if sys.platform.startswith("linux") and not Path(f"/dev/video{index}").exists():
        raise CameraError(
            f"cannot open camera {index}: no /dev/video{index} on this machine "
            f"(WSL2 and containers usually have no camera); {USE_A_FILE}"
        )
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        raise CameraError(f"cannot open camera {index} (busy, or no permission?); {USE_A_FILE}")
    return VideoSource(
        capture,
        f"camera {index}",
        "camera",
        reopen=lambda: cv2.VideoCapture(index),
        retries=retries,
        retry_wait_s=retry_wait_s,
    )


def open_source(
    spec: str, *, camera_retries: int = 5, fps: float | None = None, realtime: bool = False
) -> FrameSource:
    """Open ``--source``: a camera index (``0``), a URL, a video file, an image, a folder or a glob of images.

    ``fps``: the source's frame rate for the schedule (overrides a container's; image lists have none: default 1);
    ``realtime``: deliver a file's or image list's frames at that rate instead of as fast as possible."""
    if fps is not None and not fps > 0:
        raise UsageError(f"--fps must be > 0 frames per second, got {fps:g}")
    _quiet_opencv()
    spec = str(spec).strip()
    if spec.isdigit():
        return open_camera(int(spec), retries=camera_retries)
    if "://" in spec:
        capture = cv2.VideoCapture(spec)
        shown = redact_url(spec)
        if not capture.isOpened():
            raise CameraError(f"cannot open stream {shown} (unreachable, or a format OpenCV cannot decode)")
        return VideoSource(capture, f"stream {shown}", "stream", fps=fps)
    if any(ch in spec for ch in "*?["):
        paths = sorted(Path(p) for p in glob.glob(spec) if Path(p).suffix.lower() in IMAGE_EXTENSIONS)
        if not paths:
            raise CameraError(
                f"no images match {spec!r} (extensions: {', '.join(sorted(IMAGE_EXTENSIONS))}); "
                "quote the pattern so the shell does not expand it"
            )
        return ImageSource(paths, f"images {spec} ({len(paths)})", fps=fps, realtime=realtime)
    path = Path(spec).expanduser()
    if not path.exists():
        raise CameraError(f"no such file: {spec} (--source takes a camera index, a video, an image or a glob)")
    if path.is_dir():
        paths = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
        if not paths:
            raise CameraError(f"no images in folder {spec}")
        return ImageSource(paths, f"images {spec}/ ({len(paths)})", fps=fps, realtime=realtime)
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        if cv2.imread(str(path), cv2.IMREAD_COLOR) is None:
            raise CameraError(f"cannot read image {spec} (truncated, or not an image)")
        return ImageSource([path], f"image {path.name}", fps=fps, realtime=realtime)
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise CameraError(f"cannot decode video {spec} (not a video, or a codec OpenCV was built without)")
    return VideoSource(capture, f"video {path.name}", "video", fps=fps, realtime=realtime)
