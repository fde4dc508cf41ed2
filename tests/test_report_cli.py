"""`facesweep report` end to end on SQLite studies built through ask/tell: JSON schema, --out, terminal view, errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from rich.console import Console

from facesweep.cli import main
from facesweep.report.analysis import analyze_study
from facesweep.report.best_model import evaluate_best
from facesweep.report.build import build_reports
from facesweep.report.render import render_report
from facesweep.report.schema import SCHEMA, report_to_json
from tests.test_report_studies import build_study, depth_helps, epochs_overfit, saturating


def storage_in(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'facesweep.db'}"


@pytest.fixture(scope="module")
def two_studies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read-only for the tests that use it: built once."""
    path = tmp_path_factory.mktemp("two-studies")
    depth_helps(prune_every=4, fail=1, storage=storage_in(path), name="emotion-synthetic")
    epochs_overfit(storage=storage_in(path), name="overfit")
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["report", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- JSON ----------------------------------------------------------------------------------------------------------
TRIAL_KEYS = {"trial", "depth", "value", "val_accuracy", "val_loss", "val_macro_f1", "best_epoch", "epochs_run",
              "epochs", "train_seconds", "param_count", "params", "config", "artifact"}  # fmt: skip
CORR_KEYS = {"x", "n", "rho", "low", "high", "n_boot", "n_used", "p_value"}


def test_json_schema_and_answers(two_studies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--workdir", str(two_studies), "--json", "--no-eval")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == SCHEMA and doc["storage"].endswith("facesweep.db")
    assert [s["study"] for s in doc["studies"]] == ["emotion-synthetic", "overfit"]
    study = doc["studies"][0]
    assert set(study) == {"study", "task", "metric", "data", "data_source", "design", "answers_from", "seed_noise",
                          "summary", "depth_table", "complexity", "epochs", "best_model", "lead", "decided",
                          "seed_plan"}  # fmt: skip
    assert study["lead"][0].startswith("Deeper: ") and "search trials only" in study["lead"][0]
    assert study["decided"] is False and study["seed_plan"] is None
    assert study["design"] == "tpe" and study["answers_from"] == "search trials" and study["seed_noise"] is None
    assert study["summary"]["counts"]["complete"] == 23 and study["summary"]["counts"]["fail"] == 1
    assert set(study["summary"]["best"]) == TRIAL_KEYS
    assert [row["depth"] for row in study["depth_table"]] == [1, 2, 3, 4, 5]
    assert all(set(row) == TRIAL_KEYS for row in study["depth_table"])
    assert study["complexity"]["replicates"] == [] and study["complexity"]["adjacent"] == []
    assert study["complexity"]["verdict"] == study["complexity"]["search"]["verdict"]  # the labelled fallback
    assert study["complexity"]["rule"].startswith("search trials only")
    c = study["complexity"]["search"]
    assert c["verdict"] == "yes" and c["strength"] == "strong" and "rule" in c
    assert set(c["spearman_depth"]) == CORR_KEYS and c["spearman_depth"]["low"] > 0
    assert set(c["by_depth"][0]) == {"label", "key", "n_complete", "n_pruned", "best", "median"}
    assert c["importances"]["evaluator"] == "PED-ANOVA" and set(c["importances"]["values"]) == {"depth", "epochs"}
    e = doc["studies"][1]["epochs"]
    assert e["verdict"] == "up to epoch k" and e["epoch_k"] == 8 and e["replicate_curves"] == []
    e = e["search"]
    assert {"peak_epoch", "doubling_gains", "overfitting", "early_stopping", "spearman_epochs"} <= set(e)
    assert e["overfitting"]["n_onset"] > 0 and all(isinstance(k, str) for k in e["overfitting"]["onsets"])
    assert study["best_model"] is None  # --no-eval


def test_json_best_model_section_when_artifact_is_missing(two_studies: Path, capsys) -> None:
    code, out, _ = run_cli(capsys, "--workdir", str(two_studies), "--json", "--study", "overfit")
    assert code == 0
    best = json.loads(out)["studies"][0]["best_model"]
    assert best["skipped"].startswith("trial ") and "no model artifact" in best["skipped"]
    assert best["confusion_matrix"] == []


# -- --out -------------------------------------------------------------------------------------------------------
def test_out_writes_markdown_and_plots(two_studies: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "report"
    code, out, _ = run_cli(capsys, "--workdir", str(two_studies), "--study", "emotion-synthetic", "--out",
                           str(out_dir), "--no-eval")  # fmt: skip
    assert code == 0 and "wrote" in out
    text = (out_dir / "report.md").read_text()
    assert "## Study `emotion-synthetic`" in text
    assert "**Does a deeper model predict better? yes (search trials only).**" in text
    assert "No seed replicates in this study, so the report cannot separate an effect from seed noise" in text
    assert "![Learning curves (all trials)](learning_curves.png)" in text
    for name in ("metric_by_depth", "metric_by_epochs", "learning_curves", "importances"):
        png = out_dir / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


# -- terminal view -----------------------------------------------------------------------------------------------
def test_rendered_view_has_both_answers_and_the_tables(tmp_path: Path) -> None:
    study = epochs_overfit(storage=storage_in(tmp_path), name="overfit")
    report = analyze_study("overfit", study.trials, study_attrs=study.user_attrs, n_boot=300)
    console = Console(record=True, width=120, color_system=None)
    console.print(render_report(report))
    text = console.export_text()
    assert "Study 'overfit': task emotion, metric val_accuracy" in text
    assert "trials: 30 (30 complete)" in text
    assert "Best search trial at each depth" in text and "By depth (search trials)" in text
    assert "cannot separate an effect from seed noise" in text
    assert "Does a deeper model predict better? -> no clear effect (search trials only)" in text
    assert "Does training for more epochs predict better? -> up to epoch 8, then no (search trials only)" in text
    assert "Up to epoch 8, then no" in text and "8 -> 16" in text
    assert "parameter importances (PED-ANOVA)" in text
    assert "skipped" not in text and "best model: not evaluated" in text


# -- best model --------------------------------------------------------------------------------------------------
class _FakeModel:
    classes = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

    def __init__(self) -> None:
        from facesweep.model.config import tiny

        self.config = tiny()

    def predict(self, images):
        import numpy as np

        probs = np.zeros((len(images), 7), dtype=np.float32)
        probs[np.arange(len(images)), images[:, 0, 0, 0] % 7] = 1.0  # "predicts" the pixel value
        return probs


class _FakeData:
    def __init__(self, split_name: str) -> None:
        import numpy as np

        from facesweep.io.dataset import Split

        labels = np.array([0, 0, 1, 2, 3, 3, 3, 6], dtype=np.int32)
        images = np.zeros((8, 48, 48, 1), dtype=np.uint8)
        images[:, 0, 0, 0] = [0, 1, 1, 2, 3, 3, 4, 6]  # two mistakes: 0->1 and 3->4
        self.splits = {split_name: Split(images, labels)}
        self.classes = _FakeModel.classes
        self.source = "fake"


def test_best_model_confusion_matrix_and_per_class(tmp_path: Path) -> None:
    artifact = tmp_path / "trial-0"
    artifact.mkdir()
    study = depth_helps(n_trials=10, artifact=lambda n: str(artifact))
    report = analyze_study("s", study.trials, study_attrs=study.user_attrs, n_boot=100)
    calls = []

    def fake_load_dataset(task, data, **kw):
        calls.append((task, data, kw))
        return _FakeData("test" if kw.get("whole") else "val")

    ev = evaluate_best(report, load_model=lambda ref: _FakeModel(), load_dataset=fake_load_dataset)
    assert ev.skipped is None and ev.split == "val" and ev.n == 8
    assert ev.accuracy == pytest.approx(6 / 8)
    assert ev.confusion_matrix[0][:2] == [1, 1] and ev.confusion_matrix[3][3:5] == [2, 1]
    assert ev.per_class[3]["name"] == "happy" and ev.per_class[3]["recall"] == pytest.approx(2 / 3)
    assert calls[0][0] == "emotion" and calls[0][2]["image_size"] == 48

    test = evaluate_best(report, test=tmp_path, load_model=lambda ref: _FakeModel(), load_dataset=fake_load_dataset)
    assert test.split == "test" and calls[-1][1] == tmp_path and calls[-1][2]["whole"] is True

    report = dataclasses.replace(report, best_model=ev)
    console = Console(record=True, width=120, color_system=None)
    console.print(render_report(report))
    text = console.export_text()
    assert "Confusion matrix (rows true, columns predicted), val split" in text
    assert "accuracy 0.750" in text
    doc = report_to_json([report], "sqlite:///x.db")["studies"][0]["best_model"]
    assert doc["confusion_matrix"][0][:2] == [1, 1] and doc["classes"][0] == "angry"

    from facesweep.report.plots import plot_confusion_matrix

    png = plot_confusion_matrix(report, tmp_path / "cm.png")
    assert png.stat().st_size > 1000


def test_missing_artifact_directory_is_skipped_not_an_error(tmp_path: Path) -> None:
    study = depth_helps(n_trials=10, artifact=lambda n: str(tmp_path / "gone" / f"trial-{n}"))
    report = analyze_study("s", study.trials, study_attrs=study.user_attrs, n_boot=100)
    ev = evaluate_best(report)
    assert ev.skipped.startswith(f"the artifact of trial {report.summary.best.number} is missing")


# -- edge cases: one line, right exit code, no traceback, no password --------------------------------------------
def test_no_database_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "--workdir", str(tmp_path))
    assert code == 5 and out == ""
    assert err.count("\n") == 1 and "no study database at" in err and "Traceback" not in err
    assert not (tmp_path / "facesweep.db").exists()  # the report never creates a storage


def test_storage_without_studies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from facesweep.sweep.storage import open_storage

    open_storage(storage_in(tmp_path), heartbeat=None)  # tables, no study
    code, _, err = run_cli(capsys, "--storage", storage_in(tmp_path))
    assert code == 5 and err.count("\n") == 1 and "no study in" in err


def test_unknown_study_lists_the_ones_there(two_studies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--workdir", str(two_studies), "--study", "nope")
    assert code == 5 and "no study named 'nope'" in err and "emotion-synthetic, overfit" in err


def test_storage_that_does_not_connect_hides_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("psycopg2")
    code, out, err = run_cli(capsys, "--storage", "postgresql://alice:s3cret-pw@127.0.0.1:1/facesweep")
    assert code == 5 and out == "" and err.count("\n") == 1
    assert "s3cret-pw" not in err and "alice:***@127.0.0.1" in err and "Traceback" not in err


def test_missing_test_path_is_a_usage_error(two_studies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--workdir", str(two_studies), "--test", str(two_studies / "nope"))
    assert code == 2 and "--test" in err and err.count("\n") == 1


def test_single_depth_and_no_complete_trial_studies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_study(saturating(lambda d: 0.5), depths=[3], epochs=[4, 8], n_trials=10, storage=storage_in(tmp_path),
                name="one-depth")  # fmt: skip
    depth_helps(n_trials=10, prune_every=1, prune_after=4, running=1, storage=storage_in(tmp_path), name="pruned")
    code, out, err = run_cli(capsys, "--workdir", str(tmp_path))
    assert code == 0, err
    flat = " ".join(out.replace("│", " ").split())
    assert "every completed trial has depth 3" in flat and "run facesweep study with a depth range" in flat
    assert "trials: 11 (10 pruned, 1 running)" in flat
    assert "best trial: none completed yet" in flat
    assert "peak epoch of val_accuracy over 10 search curves (pruned included)" in flat
    assert "skipped: no completed trial, so no best model" in flat
    reports = build_reports(storage_in(tmp_path), ["pruned"], evaluate=False, n_boot=100)
    assert reports[0].complexity.verdict == "cannot answer" and reports[0].epochs.gains
