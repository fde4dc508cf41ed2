"""`facesweep live` end to end on a generated video with tiny untrained models; each error path's exit code."""

from __future__ import annotations

import csv
import json
import threading
import time

import jax
import numpy as np
import pytest

from facesweep.cli import main
from facesweep.errors import CheckpointError, UsageError
from facesweep.live import session
from facesweep.live.testvideo import write_test_video
from facesweep.live.track import iou
from facesweep.model import artifacts, inference
from facesweep.model.artifacts import TrainedModel, save_model
from facesweep.model.cnn import init_variables, model_for
from facesweep.model.config import tiny
from facesweep.tasks import get_task

FRAMES = 24


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    video = write_test_video(root / "faces.avi", frames=FRAMES, faces=2)
    models = {}
    for task in ("emotion", "gender"):
        config = tiny(task)
        variables = init_variables(model_for(config), jax.random.key(0))
        models[task] = str(save_model(root / task, TrainedModel(config, get_task(task).classes, variables)))
    return video, models


@pytest.fixture(autouse=True)
def _no_pretrained_no_compile_cache(tmp_path, monkeypatch):
    """Tests see no shipped pretrained models, no facesweep.db, and leave jax's process-wide cache setting alone."""
    monkeypatch.setattr(artifacts, "PRETRAINED_DIR", tmp_path / "no-pretrained")
    monkeypatch.setattr(session, "enable_compile_cache", lambda: None)
    monkeypatch.chdir(tmp_path)


def models_args(models, tasks=("emotion", "gender")):
    return [arg for task in tasks for arg in (f"--{task}-model", models[task])]


def test_jsonl_on_a_generated_video(assets, capsys):
    video, models = assets
    code = main(["live", "--source", str(video.path), "--jsonl", *models_args(models)])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["frame"] for r in records] == list(range(FRAMES))
    assert all(len(r["faces"]) == 2 for r in records), [len(r["faces"]) for r in records]
    assert {face["id"] for r in records for face in r["faces"]} == {1, 2}  # ids persist across frames
    times = [r["time"] for r in records]
    assert times == sorted(times) and times[0] > 0
    face = records[-1]["faces"][0]
    assert set(face) == {"id", "box", "detected", "emotion", "gender"}
    assert set(face["emotion"]) == {"label", "p", "probs"}
    assert list(face["emotion"]["probs"]) == list(get_task("emotion").classes)
    assert list(face["gender"]["probs"]) == ["man", "woman"]
    assert face["emotion"]["label"] == max(face["emotion"]["probs"], key=face["emotion"]["probs"].get)
    assert sum(face["gender"]["probs"].values()) == pytest.approx(1.0, abs=1e-3)
    # boxes land on the drawn faces (left to right), also on frames where the tracker carried them
    for record, truth in zip(records, video.boxes, strict=True):
        boxes = sorted((f["box"] for f in record["faces"]), key=lambda b: b[0])
        assert all(iou(tuple(b), t) > 0.4 for b, t in zip(boxes, truth, strict=True)), (record["frame"], boxes)
    assert "frames in" in err and "face" in err  # the summary goes to stderr, keeping stdout pure JSONL
    assert "detector yunet" in " ".join(err.split())  # the bundled YuNet with no detector flag


def test_piped_stdout_defaults_to_jsonl_and_record_writes_csv(assets, capsys, tmp_path):
    video, models = assets
    code = main(["live", "--source", str(video.path), "--frames", "5", "--record", "faces.csv",
                 *models_args(models, ("gender",))])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 5 and all("emotion" not in f for r in records for f in r["faces"])
    with open(tmp_path / "faces.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == sum(len(r["faces"]) for r in records) == 10
    assert list(rows[0]) == ["time", "frame", "face", "x", "y", "w", "h", "gender", "gender_p", "gender_man",
                             "gender_woman"]


def test_jsonl_file_keeps_stdout_for_the_summary(assets, capsys, tmp_path):
    video, models = assets
    code = main(["live", "--source", str(video.path), "--frames", "3", "--jsonl", "frames.jsonl",
                 *models_args(models)])
    out, _ = capsys.readouterr()
    assert code == 0
    assert len((tmp_path / "frames.jsonl").read_text().splitlines()) == 3
    assert "3 frames in" in out and not out.lstrip().startswith("{")


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--source", "57"], 6, "cannot open camera 57: no /dev/video57"),
        (["--source", "missing.mp4"], 6, "no such file: missing.mp4"),
        (["--source", "shots/*.jpg"], 6, "no images match 'shots/*.jpg'"),
        (["--source", "VIDEO"], 4, "no model: run `facesweep study`"),
        (["--source", "VIDEO", "--detector-model", "nope.onnx"], 4, "YuNet model not found"),
        (["--source", "VIDEO", "--detector-model", "BAD_ONNX"], 4, "not a YuNet ONNX file"),
        (["--source", "VIDEO", "--frames", "0"], 2, "--frames must be >= 1"),
        (["--source", "VIDEO", "--detect-every", "0"], 2, "--detect-every must be >= 1 frame, got 0"),
        (["--source", "VIDEO", "--predict-hz", "-1"], 2, "--predict-hz must be >= 0 (0 = every frame), got -1"),
        (["--source", "VIDEO", "--detect-width", "8"], 2, "--detect-width must be >= 32 pixels, got 8"),
        (["--source", "VIDEO", "--view-hz", "0"], 2, "--view-hz must be > 0, got 0"),
        (["--source", "VIDEO", "--emotion-model", "no/such/dir"], 4, "no model directory"),
        (["--source", "VIDEO", "--emotion-model", "GENDER"], 2, "holds a model for gender, not for emotion"),
        (["--source", "VIDEO", "--storage", "sqlite:///nowhere.db"], 5, "no study database"),
    ],
)
def test_errors_are_one_line_with_an_exit_code(assets, capsys, tmp_path, args, code, message):
    video, models = assets
    (tmp_path / "bad.onnx").write_bytes(b"\x08\x01garbage, not a protobuf graph")
    replace = {"VIDEO": str(video.path), "BAD_ONNX": str(tmp_path / "bad.onnx"), "GENDER": models["gender"]}
    assert main(["live", *[replace.get(a, a) for a in args]]) == code
    line = one_line_error(capsys)
    assert line.startswith("facesweep live: error: ") and message in line


def test_no_camera_is_the_default_source_here(capsys):
    import pathlib

    if pathlib.Path("/dev/video0").exists():
        pytest.skip("this machine has a camera")
    assert main(["live"]) == 6
    assert "use a file instead" in one_line_error(capsys)


def test_models_default_to_the_best_study_trial_then_pretrained(assets, tmp_path, monkeypatch):
    import facesweep.sweep

    video, models = assets
    (tmp_path / "facesweep.db").touch()  # a storage exists in the working directory
    best = {"gender": models["gender"]}
    monkeypatch.setattr(facesweep.sweep, "best_model_dir", lambda storage, task: best.get(task))
    loaded = session.resolve_models()
    assert [(m.task, m.ref) for m in loaded] == [("gender", models["gender"])]

    pretrained = tmp_path / "pretrained"
    artifacts_dir = save_model(pretrained / "emotion", artifacts.load_model(models["emotion"]))
    monkeypatch.setattr(artifacts, "PRETRAINED_DIR", pretrained)
    loaded = session.resolve_models()
    assert [(m.task, m.ref) for m in loaded] == [("emotion", "pretrained:emotion"), ("gender", models["gender"])]
    assert artifacts_dir.is_dir()


def test_without_a_storage_file_optuna_is_not_consulted(monkeypatch):
    import facesweep.sweep

    def fail(storage, task):
        raise AssertionError("best_model_dir called without a storage file")

    monkeypatch.setattr(facesweep.sweep, "best_model_dir", fail)
    with pytest.raises(CheckpointError, match="no model"):
        session.resolve_models()


def test_haar_fallback_and_xla_runtime_with_every_frame_predictions(assets, capsys):
    video, models = assets
    code = main(["live", "--source", str(video.path), "--frames", "6", "--jsonl", "--detector", "haar",
                 "--runtime", "xla", "--predict-hz", "0", "--detect-every", "3", *models_args(models)])
    out, err = capsys.readouterr()
    assert code == 0, err
    note = " ".join(err.split())  # the console wraps the start-up line
    assert "detector haar every 3 frames" in note and "[xla float32]" in note and "predicted every frame" in note
    records = [json.loads(line) for line in out.splitlines()]
    detected = [r["detected"] for r in records]
    # the first detection runs inline; later ones in the background land a frame or more late (later still on a
    # loaded machine), so only the upper bound of "every 3rd frame" is exact
    assert detected[0] and 1 <= sum(detected) <= 3, detected


class FakeModel:
    path = None  # held in memory: no int8 graph beside it

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, images, tta=None):
        self.calls += 1
        return np.zeros((len(images), 2), np.float32)


def test_runtime_opencv_is_used_when_the_model_exports(monkeypatch):
    class Predictor:
        def __init__(self, model, runtime, tta=None, precision="float32"):
            self.tta, self.runtime = tta, runtime

        def predict(self, images):
            return np.ones((len(images), 2), np.float32)

    monkeypatch.setattr(inference, "make_predictor", Predictor)
    model = FakeModel()
    predict, used = session.model_predict(model, "opencv", tta=False)
    assert used == "opencv float32" and predict(np.zeros((2, 4, 4, 1), np.uint8)).sum() == 4 and model.calls == 0


def test_runtime_falls_back_to_xla_when_the_model_cannot_be_exported(monkeypatch):
    def cannot(model, runtime, tta=None, precision="float32"):
        raise CheckpointError("OpenCV 4.x cannot load the exported emotion graph: Unsupported layer\nmore")

    monkeypatch.setattr(inference, "make_predictor", cannot)
    model = FakeModel()
    predict, used = session.model_predict(model, "opencv", tta=None)
    assert used == "xla float32 (opencv: OpenCV 4.x cannot load the exported emotion graph: Unsupported layer)"
    predict(np.zeros((1, 4, 4, 1), np.uint8))
    assert model.calls == 1
    predict, used = session.model_predict(model, "xla", tta=None)
    assert used == "xla float32" and predict.__self__ is model


def test_the_view_is_drawn_from_its_own_thread_on_a_terminal(assets, monkeypatch):
    import io

    from rich.console import Console

    from facesweep.live import refresh

    video, models = assets
    threads = []
    draw = refresh.ViewRefresher.__init__

    def spy(self, fn, **kwargs):
        def recorded(state):
            threads.append(threading.current_thread().name)
            fn(state)

        draw(self, recorded, **kwargs)

    monkeypatch.setattr(refresh.ViewRefresher, "__init__", spy)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, height=40, color_system=None)
    summary = session.run_session(
        session.LiveOptions(source=str(video.path), emotion_model=models["emotion"], gender_model=models["gender"],
                            frames=FRAMES),
        console=console, stdout=out,
    )
    text = out.getvalue()
    assert summary.frames == FRAMES and "expression" in text and "ang  dis" in text and f"{FRAMES} frames in" in text
    assert "frame 24" in text  # the final state is drawn after the loop
    assert set(threads) <= {"view"}


def test_the_same_file_gives_the_same_labels_fast_and_slowed(assets, capsys, monkeypatch):
    """Predictions are scheduled on the video's own clock: as fast as possible, or paced to its frame rate with a
    detector slowed as on a loaded CPU, the JSONL is the same but for the wall-clock time."""
    video, models = assets

    def run(*extra):
        code = main(["live", "--source", str(video.path), "--jsonl", *extra, *models_args(models)])
        out, err = capsys.readouterr()
        assert code == 0, err
        return [{k: v for k, v in json.loads(line).items() if k != "time"} for line in out.splitlines()]

    fast = run()
    make = session.make_detector

    def slow_detector(*args, **kwargs):
        detector = make(*args, **kwargs)
        detect = detector.detect

        def slow(frame):
            time.sleep(0.05)  # longer than a frame's other work: the result arrives late
            return detect(frame)

        detector.detect = slow
        return detector

    monkeypatch.setattr(session, "make_detector", slow_detector)
    slowed = run("--realtime")
    assert len(fast) == FRAMES and slowed == fast
    assert len({f["emotion"]["p"] for r in fast for f in r["faces"]}) > 2  # the probabilities do vary


@pytest.fixture(scope="module")
def int8_models(assets, tmp_path_factory):
    """Copies of the tiny models, each with a calibrated int8 graph beside its params."""
    from facesweep.model.export import quantize_int8

    _, models = assets
    root = tmp_path_factory.mktemp("int8-models")
    out = {}
    for task, path in models.items():
        copy = save_model(root / task, artifacts.load_model(path))
        model = artifacts.load_model(copy)
        calib = np.random.default_rng(0).integers(0, 256, (64, *model.input_shape), dtype=np.uint8)
        (copy / artifacts.INT8_FILE).write_bytes(quantize_int8(model, calib))
        out[task] = str(copy)
    return out


def test_int8_graphs_run_by_default_and_float32_gives_todays_probabilities(assets, int8_models, capsys):
    """A model that ships an int8 graph runs it (the start-up line says so); ``--precision float32`` runs the
    float32 path exactly as a model without a graph does: the same JSONL, the same probabilities."""
    video, models = assets

    def run(model_dirs, *extra):
        code = main(["live", "--source", str(video.path), "--jsonl", "--frames", "8", "--predict-hz", "0", *extra,
                     *models_args(model_dirs)])
        out, err = capsys.readouterr()
        assert code == 0, err
        lines = [{k: v for k, v in json.loads(line).items() if k != "time"} for line in out.splitlines()]
        return lines, " ".join(err.split())

    today, note = run(models)
    assert note.count("[opencv float32]") == 2  # no int8 graph: float32, as before
    int8, note = run(int8_models)
    assert note.count("[onnxruntime int8]") == 2 and len(int8) == 8
    float32, note = run(int8_models, "--precision", "float32")
    assert note.count("[opencv float32]") == 2 and float32 == today

    model = artifacts.load_model(int8_models["emotion"])
    images = np.random.default_rng(1).integers(0, 256, (4, *model.input_shape), dtype=np.uint8)
    predict, used = session.model_predict(model, "opencv", None, "float32")
    assert used == "opencv float32"
    assert np.array_equal(predict(images), inference.OpenCVPredictor(model).predict(images))
    predict, used = session.model_predict(model, "opencv", None, "int8")
    assert used == "onnxruntime int8" and predict.__self__.precision == "int8"


def test_an_unusable_int8_graph_falls_back_to_float32_and_says_why(int8_models, tmp_path):
    copy = save_model(tmp_path / "emotion", artifacts.load_model(int8_models["emotion"]))
    (copy / artifacts.INT8_FILE).write_bytes((artifacts.load_model(int8_models["gender"]).path
                                              / artifacts.INT8_FILE).read_bytes())  # another model's graph
    _, used = session.model_predict(artifacts.load_model(copy), "opencv", None, "int8")
    assert used.startswith("opencv float32 (int8: ") and "was built from other weights" in used


def test_a_bad_precision_is_a_one_line_error(assets, capsys):
    video, models = assets
    with pytest.raises(SystemExit) as exit_info:
        main(["live", "--source", str(video.path), "--precision", "fp16", *models_args(models)])
    assert exit_info.value.code == 2
    line = one_line_error(capsys)
    assert line.startswith("facesweep live: error: argument --precision: invalid choice: 'fp16'")
    with pytest.raises(UsageError, match=r"^unknown --precision 'fp16'; choose one of: int8, float32$"):
        session.run_session(session.LiveOptions(source=str(video.path), precision="fp16"))
