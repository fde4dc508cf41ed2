"""One ``facesweep live`` run: resolve the models, open the source, warm up, loop, show or write, summarise.

    summary = run_session(LiveOptions(source="clip.avi", jsonl="-"))

Models: an explicit ``--emotion-model``/``--gender-model`` directory, else the best trial of that task's studies in
the storage (``facesweep.sweep.best_model_dir``), else the bundled ``pretrained:<task>``; either may be missing,
not both. Output: a rich ``Live`` view on a terminal; one JSON object per frame on stdout when stdout is not a
terminal or with ``--jsonl`` (no view then; the summary goes to stderr); ``--jsonl FILE`` writes the frames to
FILE and keeps the view.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.text import Text

from facesweep.errors import CheckpointError, StorageError, UsageError
from facesweep.faces.detect import make_detector
from facesweep.live.loop import Head, LiveState, Summary, run_live, warm_up
from facesweep.live.output import CsvRecorder, JsonlWriter
from facesweep.live.sources import open_source
from facesweep.live.view import render_summary, render_view

TASKS = ("emotion", "gender")
DEFAULT_STORAGE = "sqlite:///facesweep.db"
VIEW_HZ = 12.0  # view refreshes per second; a terminal cannot show more, and each refresh costs a few ms
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
    detector: str = "haar"  # "haar" | "yunet"
    detector_model: str | None = None  # YuNet ONNX file
    min_face: int = 64  # smallest face, full-frame pixels
    tta: bool | None = None  # average each prediction with its horizontal flip; None = each model's own default


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
    jsonl_to_stdout = options.jsonl == "-" or (options.jsonl is None and not console.is_terminal)
    show_view = not jsonl_to_stdout and console.is_terminal
    notes = Console(stderr=True, highlight=False) if jsonl_to_stdout else console

    detector = make_detector(options.detector, options.detector_model, min_face=options.min_face)
    with ExitStack() as stack:
        source = open_source(options.source)
        stack.callback(source.close)
        enable_compile_cache()
        models = resolve_models(options.emotion_model, options.gender_model, options.storage)
        heads = [Head.from_model(m.task, m.model, tta=options.tta) for m in models]
        # Compile the batch sizes of one or two faces now; 4 and 8 compile in the background meanwhile.
        warm_s = warm_up(heads, (1, 2))
        threading.Thread(target=warm_up, args=(heads, (4, 8)), name="warm-up", daemon=True).start()
        notes.print(
            Text(
                "models: " + ", ".join(f"{m.task} {m.ref}" for m in models)
                + f" (compiled in {warm_s:.1f} s); detector {detector.name}; Ctrl-C stops",
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
        if show_view:
            live = stack.enter_context(Live(console=console, auto_refresh=False, transient=False))
        last_view = [float("-inf")]

        def on_frame(state: LiveState) -> None:
            for write in writers:
                write(state)
            if live is not None:
                now = clock()
                if now - last_view[0] >= 1.0 / VIEW_HZ:
                    live.update(render_view(state, preview=options.preview), refresh=True)
                    last_view[0] = now

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
        )
        if live is not None:
            live.update(render_view(state, preview=options.preview), refresh=True)
    notes.print(render_summary(summary))
    return summary
