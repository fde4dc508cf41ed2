"""One ``facesweep live`` run: resolve the models, open the source, warm up, loop, show or write, summarise.

    summary = run_session(LiveOptions(source="clip.avi", jsonl="-"))

Models: an explicit ``--emotion-model``/``--gender-model`` directory, else the best trial of that task's studies in
the storage (``facesweep.sweep.best_model_dir``), else the bundled ``pretrained:<task>``; either may be missing,
not both. A model whose directory holds a calibrated 8-bit graph (both shipped ones) runs it in ONNX Runtime
(``precision="int8"``, the default; ``"float32"`` keeps the full-precision path); the others run in float32 on the
runtime asked for (``facesweep.model.inference``: ``opencv``, its batch-norm-folded graph in ``cv2.dnn``;
``onnxruntime``, the same graph in ONNX Runtime; ``xla``, ``TrainedModel.predict``); a model that cannot run there
falls back to XLA. The start-up line names each model's runtime and precision. The prediction schedule runs on the
source's clock (``facesweep.live.sources``: a file's frame index / FPS), so a file gives the same labels at any
speed; ``realtime`` plays a file at its own frame rate. Detection: the bundled YuNet (``--detector haar`` is the
fallback). Output: a rich ``Live`` view on a terminal, redrawn ``view_hz`` times a second from its own thread
(``facesweep.live.refresh``); one JSON object per frame on stdout when stdout is not a terminal or with ``--jsonl``
(no view then; the summary goes to stderr); ``--jsonl FILE`` writes the frames to FILE and keeps the view.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Hashable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from facesweep.errors import CheckpointError, FacesweepError, StorageError, UsageError
from facesweep.faces.crop import FaceCropper
from facesweep.faces.detect import Detector, make_detector
from facesweep.live.heads import Crop, Head, Predict, warm_up
from facesweep.live.loop import PREDICT_HZ, run_live
from facesweep.live.output import CsvRecorder, JsonlWriter
from facesweep.live.refresh import VIEW_HZ, ViewRefresher
from facesweep.live.sources import Prefetched, open_source
from facesweep.live.state import LiveState, Summary
from facesweep.live.view import render_summary, render_view

TASKS = ("emotion", "gender")
DEFAULT_STORAGE = "sqlite:///facesweep.db"
RUNTIMES = ("opencv", "onnxruntime", "xla")  # facesweep.model.inference.RUNTIMES, without importing jax here
PRECISIONS = ("int8", "float32")  # facesweep.model.inference.PRECISIONS, likewise
DETECT_EVERY = {"yunet": 2, "haar": 4}  # frames per detection while faces are tracked (measured: bench/live.py)
NO_MODEL = (
    "no model: run `facesweep study` (or `facesweep train`) first, "
    "or pass --emotion-model DIR / --gender-model DIR"
)


@dataclass
class LiveOptions:
    source: str = "0"  # camera index, video file, stream URL, image, folder or quoted glob
    emotion_model: str | None = None  # artifact directory or pretrained:emotion; None = storage, then pretrained
    gender_model: str | None = None  # likewise for gender
    storage: str | None = None  # Optuna storage URL; None = sqlite:///facesweep.db in the working directory
    frames: int | None = None  # stop after this many frames
    duration: float | None = None  # stop after this many seconds
    jsonl: str | None = None  # None = only when stdout is not a terminal; "-" = stdout; else a file path
    record: str | None = None  # CSV path: one row per face per frame
    preview: bool = False  # half-block colour preview of the frame with the boxes
    detector: str = "yunet"  # "yunet" (bundled) | "haar" (OpenCV's cascade, no landmarks)
    detector_model: str | None = None  # another YuNet ONNX file
    min_face: int | None = None  # smallest face, full-frame pixels; None = the detector's default (YuNet 32, Haar 64)
    detect_width: int | None = None  # detection copy's width, pixels; None = the detector's default (320, 240)
    detect_every: int | None = None  # frames per detection while faces are tracked; None = DETECT_EVERY[detector]
    predict_hz: float = PREDICT_HZ  # model predictions per face per second; 0 = every face on every frame
    runtime: str = "opencv"  # float32 models: "opencv" (graph in cv2.dnn; XLA where it cannot) | "onnxruntime" | "xla"
    precision: str = "int8"  # "int8": a model's calibrated 8-bit graph in ONNX Runtime where it has one | "float32"
    realtime: bool = False  # play a file or image list at its own frame rate (a camera always is)
    fps: float | None = None  # the source's frame rate for the schedule (image lists: 1; files: the container's)
    parallel_models: bool = True  # run the two models side by side in two threads
    prefetch: bool = True  # decode a file's next frames in a thread while the models run (not for cameras)
    view_hz: float = VIEW_HZ  # view redraws per second
    tta: bool | None = False  # average each prediction with its mirror image: off, as the CLI (None = each model's own
    # default: on for pretrained:emotion, twice its model time)


@dataclass
class LoadedModel:
    task: str
    ref: str  # where it came from, for the start-up line
    model: Any  # facesweep.model.artifacts.TrainedModel


def _sqlite_file(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :])
    return None


def _best_from_storage(storage: str | None, task: str) -> Path | None:
    """``best_model_dir`` without importing Optuna when the default SQLite file does not exist."""
    url = storage or DEFAULT_STORAGE
    db = _sqlite_file(url)
    if db is not None and not db.is_file():
        if storage is not None:
            raise StorageError(f"no study database at {db} (--storage {url})")
        return None
    from facesweep.sweep import best_model_dir

    try:
        return best_model_dir(url, task)
    except StorageError:
        if storage is not None:
            raise
        return None


def resolve_models(
    emotion_model: str | None = None, gender_model: str | None = None, storage: str | None = None
) -> list[LoadedModel]:
    """The models ``live`` uses, in column order; ``CheckpointError`` with how to get one when there is none."""
    from facesweep.model.artifacts import load_model

    explicit = {"emotion": emotion_model, "gender": gender_model}
    loaded = []
    for task in TASKS:
        ref = explicit[task]
        if ref is None:
            best = _best_from_storage(storage, task)
            if best is not None:
                ref = str(best)
        if ref is not None:
            model = load_model(ref)
        else:
            try:
                model = load_model(f"pretrained:{task}")
                ref = f"pretrained:{task}"
            except CheckpointError:
                continue
        if model.config.task != task:
            raise UsageError(f"--{task}-model {ref} holds a model for {model.config.task}, not for {task}")
        loaded.append(LoadedModel(task, ref, model))
    if not loaded:
        raise CheckpointError(NO_MODEL)
    return loaded


def face_crop(model: Any, detector: Detector) -> tuple[Crop, Hashable]:
    """The model's face crop, through the one crop path (``facesweep.faces.crop.FaceCropper``): aligned on the
    landmarks to the model's own template when the detector gives them (YuNet), else the box crop closest to
    that template (Haar); and a key that is equal for models whose crops are equal (made once, shared)."""
    template = model.crop_template
    size, channels = int(model.config.image_size), int(model.config.channels)
    key = (json.dumps(template.to_dict(), sort_keys=True), size, channels)
    return FaceCropper(detector, template, size, channels).crop, key


def model_predict(model: Any, runtime: str, tta: bool | None, precision: str = "int8") -> tuple[Predict, str]:
    """``(predict, what runs it)`` for one model (``facesweep.model.inference.make_predictor``).

    ``precision="int8"`` runs the model's calibrated 8-bit graph in ONNX Runtime when its directory has one
    ("onnxruntime int8"); a model without one -- or whose graph cannot run -- takes the float32 path, on
    ``runtime``, falling back to XLA when the graph runtimes cannot take it. The string says what ran and why
    ("opencv float32 (int8: <reason>)", "xla float32 (opencv: <reason>)")."""
    if runtime not in RUNTIMES:
        raise UsageError(f"unknown runtime {runtime!r}; choose one of: {', '.join(RUNTIMES)}")
    if precision not in PRECISIONS:
        raise UsageError(f"unknown --precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    from facesweep.model.inference import int8_path, make_predictor

    notes = []
    if precision == "int8" and int8_path(model) is not None:
        try:
            return make_predictor(model, tta=tta, precision="int8").predict, "onnxruntime int8"
        except (ImportError, FacesweepError) as exc:
            notes.append(f"int8: {_first_line(exc)}")
    used = f"{runtime} float32"
    if runtime != "xla":
        try:
            predict = make_predictor(model, runtime, tta=tta).predict
            return predict, used + (f" ({'; '.join(notes)})" if notes else "")
        except (ImportError, FacesweepError) as exc:
            notes.append(f"{runtime}: {_first_line(exc)}")
        except Exception as exc:  # noqa: BLE001 - any exporter failure only costs the speed-up
            notes.append(f"{runtime}: {type(exc).__name__}: {_first_line(exc)}")
        used = "xla float32"
    own = model.predict
    predict = own if tta is None else (lambda images: own(images, tta=tta))
    return predict, used + (f" ({'; '.join(notes)})" if notes else "")


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def enable_compile_cache() -> Path | None:
    """Keep compiled models on disk so the next start skips XLA compilation (~3 s -> ~0.8 s for two models).

    Next to the dataset cache: ``$FACESWEEP_CACHE_DIR/jax`` or the user cache dir. Process-wide, which is fine
    for a ``live`` process; a read-only or full disk only costs the speed-up.
    """
    import os

    import jax

    root = os.environ.get("FACESWEEP_CACHE_DIR")
    if root is None:
        import platformdirs

        root = platformdirs.user_cache_dir("facesweep")
    path = Path(root) / "jax"
    try:
        path.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(path))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # small CNNs compile in < 1 s
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except (OSError, AttributeError):
        return None
    return path


def run_session(
    options: LiveOptions,
    *,
    console: Console | None = None,
    stdout: IO[str] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    start: float | None = None,
) -> Summary:
    """Run ``facesweep live`` end to end; returns the summary (already printed)."""
    stdout = stdout or sys.stdout
    console = console or Console(file=stdout, highlight=False)
    start = clock() if start is None else start
    if options.frames is not None and options.frames < 1:
        raise UsageError(f"--frames must be >= 1, got {options.frames}")
    if options.duration is not None and options.duration <= 0:
        raise UsageError(f"--duration must be > 0 seconds, got {options.duration}")
    if options.detect_every is not None and options.detect_every < 1:
        raise UsageError(f"--detect-every must be >= 1 frame, got {options.detect_every}")
    if options.predict_hz < 0:
        raise UsageError(f"--predict-hz must be >= 0 (0 = every frame), got {options.predict_hz:g}")
    if options.view_hz <= 0:
        raise UsageError(f"--view-hz must be > 0, got {options.view_hz:g}")
    if options.runtime not in RUNTIMES:
        raise UsageError(f"unknown --runtime {options.runtime!r}; choose one of: {', '.join(RUNTIMES)}")
    if options.precision not in PRECISIONS:
        raise UsageError(f"unknown --precision {options.precision!r}; choose one of: {', '.join(PRECISIONS)}")
    jsonl_to_stdout = options.jsonl == "-" or (options.jsonl is None and not console.is_terminal)
    show_view = not jsonl_to_stdout and console.is_terminal
    notes = Console(stderr=True, highlight=False) if jsonl_to_stdout else console

    detector = make_detector(
        options.detector, options.detector_model, min_face=options.min_face, detect_width=options.detect_width
    )
    detect_every = options.detect_every or DETECT_EVERY.get(detector.name, 4)
    with ExitStack() as stack:
        source = open_source(options.source, fps=options.fps, realtime=options.realtime)
        if options.prefetch and source.kind in ("video", "images"):
            source = Prefetched(source)
        stack.callback(source.close)
        enable_compile_cache()
        models = resolve_models(options.emotion_model, options.gender_model, options.storage)
        heads, runtimes = [], []
        for m in models:
            predict, runtime = model_predict(m.model, options.runtime, options.tta, options.precision)
            crop, crop_key = face_crop(m.model, detector)
            heads.append(Head.from_model(m.task, m.model, predict=predict, crop=crop, crop_key=crop_key))
            runtimes.append(runtime)
        # Compile the batch sizes of one or two faces now; 4 and 8 compile in the background meanwhile.
        warm_s = warm_up(heads, (1, 2))
        warming = threading.Thread(target=warm_up, args=(heads, (4, 8)), name="warm-up", daemon=True)
        warming.start()
        # A process that exits while XLA compiles in a daemon thread aborts ("terminate called ..."): a short
        # run waits for the warm-up to finish before it returns.
        stack.callback(warming.join)
        clock_fps = getattr(source, "clock_fps", None)
        rate = f"{options.predict_hz:g} Hz a face" if options.predict_hz else "every frame"
        if options.predict_hz:
            rate += f" of the source's time ({clock_fps:g} fps)" if clock_fps else " (wall clock)"
        notes.print(
            Text(
                "models: " + ", ".join(f"{m.task} {m.ref} [{r}]" for m, r in zip(models, runtimes, strict=True))
                + f" (ready in {warm_s:.1f} s), predicted {rate}; detector {detector.name} every {detect_every} "
                "frame" + ("s" if detect_every > 1 else "") + "; Ctrl-C stops",
                style="dim",
            )
        )
        writers: list[Callable[[LiveState], None]] = []
        if jsonl_to_stdout:
            writers.append(JsonlWriter(stdout).write)
        elif options.jsonl is not None:
            try:
                jsonl_file = stack.enter_context(open(options.jsonl, "w", encoding="utf-8"))
            except OSError as exc:
                raise UsageError(f"cannot write --jsonl file {options.jsonl}: {exc.strerror}") from None
            writers.append(JsonlWriter(jsonl_file).write)
        if options.record is not None:
            recorder = CsvRecorder(options.record, [(h.task, h.classes) for h in heads])
            stack.callback(recorder.close)
            writers.append(recorder.write)

        live: Live | None = None
        refresher: ViewRefresher | None = None
        if show_view:
            live = stack.enter_context(Live(console=console, auto_refresh=False, transient=False))
            view = live

            def draw(state: LiveState) -> None:
                view.update(render_view(state, preview=options.preview), refresh=True)

            refresher = ViewRefresher(draw, hz=options.view_hz).start()
            stack.callback(refresher.stop)
            writers.append(refresher.publish)

        def on_frame(state: LiveState) -> None:
            for write in writers:
                write(state)

        state, summary = run_live(
            source,
            heads,
            detector,
            clock=clock,
            on_frame=on_frame,
            max_frames=options.frames,
            duration_s=options.duration,
            source=source.name,
            start=start,
            keep_frame=options.preview and show_view,
            background_detection=True,
            detect_every=detect_every,
            predict_hz=options.predict_hz,
            parallel_heads=options.parallel_models,
        )
        if refresher is not None and live is not None:
            refresher.stop()
            live.update(render_view(state, preview=options.preview), refresh=True)
    notes.print(render_summary(summary))
    return summary
