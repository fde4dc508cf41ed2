"""The sweep view: rendered from state with a fixed clock to a capture console, compared as text."""

from __future__ import annotations

import io

from rich.console import Console

from facesweep.sweep.progress import (
    PlainReporter,
    StateReporter,
    SweepState,
    TrialRow,
    eta_seconds,
    format_trial_line,
    render_sweep,
)


def render_text(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=140, color_system=None, force_terminal=False)
    console.print(renderable)
    return console.file.getvalue()


def sample_state() -> SweepState:
    state = SweepState("emotion-synthetic", "val_accuracy", target=10, finished_before=2, started=100.0)
    params = {"depth": 3, "epochs": 8, "width": 16, "learning_rate": 0.0012, "augment": True, "patience": 3}
    state.rows[2] = TrialRow(2, params, started=100.0, epochs=8, state="COMPLETE", epoch=8, value=0.8123, seconds=41)
    state.rows[3] = TrialRow(3, {**params, "depth": 1}, 141.0, 8, "PRUNED", 2, 0.31, 9, "pruned at epoch 2")
    state.rows[4] = TrialRow(4, {**params, "depth": 4}, started=150.0, epochs=8, epoch=3, value=0.55)
    state.observe_best(2, 0.8123)
    return state


def test_render_sweep_shows_trials_running_bar_best_and_eta() -> None:
    text = render_text(render_sweep(sample_state(), now=160.0))
    assert "study emotion-synthetic: 4 of 10 trials done, 1 pruned  (val_accuracy)" in text  # pruned count too
    lines = text.splitlines()
    row2 = next(line for line in lines if line.strip().startswith("2 "))
    assert "COMPLETE" in row2 and "0.8123 *" in row2 and "41s" in row2 and "aug=on pat=3" in row2
    assert any("PRUNED (pruned at epoch 2)" in line for line in lines)
    row4 = next(line for line in lines if line.strip().startswith("4 "))
    assert "RUNNING" in row4 and "10s" in row4  # elapsed from the injected clock
    assert "trial 4 [#######.............] epoch 3/8" in text
    assert "best: trial 2 val_accuracy=0.8123   elapsed 1m00s   ETA 3m00s" in text  # 6 left x 60 s / 2 done


def test_eta_needs_one_finished_trial_first() -> None:
    state = SweepState("s", "val_accuracy", target=4, started=0.0)
    assert eta_seconds(state, 50.0) is None
    state.rows[0] = TrialRow(0, {}, 0.0, 2, "COMPLETE", value=0.5, seconds=20)
    assert eta_seconds(state, 20.0) == 60.0


def test_plain_line_per_finished_trial() -> None:
    row = TrialRow(7, {"depth": 2, "epochs": 4, "learning_rate": 0.003, "augment": False}, 0.0, 4, "COMPLETE",
                   value=0.71234, seconds=75)  # fmt: skip
    assert format_trial_line(row, "val_accuracy") == (
        "trial 7 COMPLETE val_accuracy=0.7123 depth=2 epochs=4 lr=0.003 aug=off 1m15s"
    )


def test_reporters_update_state_with_the_injected_clock() -> None:
    ticks = iter([10.0, 11.0, 20.0, 30.0, 31.0])
    console = Console(file=io.StringIO(), width=200, color_system=None)
    reporter = PlainReporter(console, clock=lambda: next(ticks))
    state = SweepState("s", "val_accuracy", target=2)
    reporter.start(state)
    reporter.trial_started(0, {"depth": 1}, epochs=2)
    reporter.epoch_done(0, 1, 0.4)
    reporter.trial_finished(0, "COMPLETE", 0.45)
    reporter.trial_started(1, {"depth": 2}, epochs=2)
    reporter.trial_finished(1, "PRUNED", None, "pruned at epoch 1")
    assert console.file.getvalue().splitlines() == [
        "trial 0 COMPLETE val_accuracy=0.4500 depth=1 9s",
        "trial 1 PRUNED (pruned at epoch 1) val_accuracy=- depth=2 1s",
    ]
    assert (state.best_number, state.best_value, state.finished, state.pruned) == (0, 0.45, 2, 1)


def test_state_reporter_shows_nothing() -> None:
    reporter = StateReporter(clock=lambda: 1.0)
    reporter.start(state := SweepState("s", "val_macro_f1", target=1))
    reporter.trial_started(0, {}, 1)
    reporter.trial_finished(0, "FAIL", None, "TrainingDiverged")
    assert state.rows[0].note == "TrainingDiverged" and state.finished == 0  # a failure is re-run


def test_live_reporter_draws_on_a_terminal() -> None:
    from facesweep.sweep.progress import LiveReporter

    console = Console(file=io.StringIO(), width=120, color_system=None, force_terminal=True)
    reporter = LiveReporter(console, clock=lambda: 5.0)
    reporter.start(SweepState("live-test", "val_accuracy", target=1))
    reporter.trial_started(0, {"depth": 2, "epochs": 3}, epochs=3)
    reporter.epoch_done(0, 1, 0.3)
    reporter.trial_finished(0, "COMPLETE", 0.5)
    reporter.stop()
    text = console.file.getvalue()
    assert "study live-test: 1 of 1 trials done" in text and "0.5000 *" in text
