"""Sweep progress: state kept apart from rendering.

``SweepState`` is updated by the study loop (from one or more worker threads, under its lock);
``render_sweep(state, now)`` is a pure function building a rich renderable from it (table of trials, the running
trials' epoch bars, best so far, ETA), and ``format_trial_line`` gives the one-line-per-trial text used when stdout
is not a terminal. ``LiveReporter``/``PlainReporter`` connect the two to a console; the clock is injectable.

Try it: ``facesweep study --trials 3`` in a terminal, or ``... | cat`` for the plain lines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

# Shown in the table, in this order, when they are searched; anything else goes in the "other" column.
MAIN_PARAMS = ("depth", "epochs", "width", "dense", "learning_rate", "batch_size")
SHORT = {"learning_rate": "lr", "batch_size": "batch", "augment": "aug", "patience": "pat", "dropout": "drop"}


@dataclass
class TrialRow:
    number: int
    params: dict[str, Any]
    started: float  # clock time the trial began
    epochs: int  # epochs it will train at most
    state: str = "RUNNING"  # RUNNING | COMPLETE | PRUNED | FAIL
    epoch: int = 0  # epochs done
    value: float | None = None  # latest (running) or final metric
    seconds: float | None = None  # wall seconds, once finished
    note: str = ""  # why it failed, "pruned at epoch 3", ...
    role: str = ""  # "" for a search trial; "replicate of 12, seed 2" for a replicate


FINISHED = ("COMPLETE", "PRUNED")  # row states that count towards --trials


@dataclass
class SweepState:
    study_name: str
    metric: str
    target: int  # finished (complete or pruned) search trials wanted in total
    finished_before: int = 0  # finished search trials in storage when this run started
    started: float = 0.0
    rows: dict[int, TrialRow] = field(default_factory=dict)
    best_number: int | None = None
    best_value: float | None = None
    finished_elsewhere: int = 0  # search trials finished by other workers during this run
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def finished_here(self) -> int:
        """Search trials this run finished (complete or pruned); replicates not counted."""
        return sum(1 for r in self.rows.values() if r.state in FINISHED and not r.role)

    @property
    def finished(self) -> int:
        """Finished search trials in total (storage before + this run + other workers); replicates not counted."""
        return self.finished_before + self.finished_here + self.finished_elsewhere

    @property
    def pruned(self) -> int:
        """Search trials this run pruned."""
        return sum(1 for r in self.rows.values() if r.state == "PRUNED" and not r.role)

    def observe_best(self, number: int | None, value: float | None) -> None:
        if value is not None and (self.best_value is None or value > self.best_value):
            self.best_number, self.best_value = number, value


def eta_seconds(state: SweepState, now: float) -> float | None:
    """Remaining search trials x wall seconds per finished trial so far in this run (None before the first).
    Replicates come after the search and are not in it."""
    done_here = state.finished_here + state.finished_elsewhere
    if done_here == 0:
        return None
    remaining = max(0, state.target - state.finished)
    return remaining * (now - state.started) / done_here


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.2g}" if (value != 0 and abs(value) < 0.01) else f"{value:g}"
    return str(value)


def _other_params(params: dict[str, Any]) -> str:
    return " ".join(f"{SHORT.get(k, k)}={format_value(v)}" for k, v in params.items() if k not in MAIN_PARAMS)


def format_trial_line(row: TrialRow, metric: str) -> str:
    """One plain line for a finished trial: ``trial 3 COMPLETE val_accuracy=0.812 depth=3 epochs=8 ... 41s``."""
    value = "-" if row.value is None else f"{row.value:.4f}"
    params = " ".join(f"{SHORT.get(k, k)}={format_value(v)}" for k, v in row.params.items())
    note = f" ({row.note})" if row.note else ""
    role = f" [{row.role}]" if row.role else ""
    return f"trial {row.number}{role} {row.state}{note} {metric}={value} {params} {format_seconds(row.seconds)}"


def _epoch_bar(done: int, total: int, width: int = 20) -> str:
    filled = int(width * done / total) if total else 0
    return "[" + "#" * filled + "." * (width - filled) + f"] epoch {done}/{total}"


def render_sweep(state: SweepState, now: float) -> RenderableType:
    """The whole view, from state alone: header, trial table, running trials' epoch bars, best and ETA."""
    pruned = f", {state.pruned} pruned" if state.pruned else ""
    header = Text(f"study {state.study_name}: {state.finished} of {state.target} trials done{pruned}  ({state.metric})")
    table = Table(show_edge=False, pad_edge=False, expand=False)
    shown = [p for p in MAIN_PARAMS if any(p in r.params for r in state.rows.values())]
    table.add_column("#", justify="right")
    for name in shown:
        table.add_column(SHORT.get(name, name), justify="right")
    table.add_column("other")
    table.add_column("state")
    table.add_column(state.metric.replace("val_", ""), justify="right")
    table.add_column("time", justify="right")
    for row in sorted(state.rows.values(), key=lambda r: r.number):
        seconds = row.seconds if row.seconds is not None else now - row.started
        value = "-" if row.value is None else f"{row.value:.4f}"
        mark = " *" if row.number == state.best_number else ""
        label = row.state if not row.note or row.state == "COMPLETE" else f"{row.state} ({row.note})"
        label += f" [{row.role}]" if row.role else ""
        cells = [format_value(row.params.get(name, "")) for name in shown]
        table.add_row(str(row.number), *cells, _other_params(row.params), label, value + mark, format_seconds(seconds))
    parts: list[RenderableType] = [header, table]
    for row in sorted(state.rows.values(), key=lambda r: r.number):
        if row.state == "RUNNING":
            parts.append(Text(f"trial {row.number} {_epoch_bar(row.epoch, row.epochs)}"))
    best = "-" if state.best_value is None else f"trial {state.best_number} {state.metric}={state.best_value:.4f}"
    eta = eta_seconds(state, now)
    footer = f"best: {best}   elapsed {format_seconds(now - state.started)}   ETA {format_seconds(eta)}"
    parts.append(Text(footer))
    return Group(*parts)


# -- reporters: the study loop calls these; they update state and show it --------------------------------------


class Reporter(Protocol):
    def start(self, state: SweepState) -> None: ...
    def trial_started(self, number: int, params: dict[str, Any], epochs: int, role: str = "") -> None: ...
    def epoch_done(self, number: int, epoch: int, value: float) -> None: ...
    def trial_finished(self, number: int, state: str, value: float | None, note: str = "") -> None: ...
    def stop(self) -> None: ...


class StateReporter:
    """Keeps ``SweepState`` current; shows nothing. Base of the two console reporters, and enough for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.state: SweepState | None = None

    def start(self, state: SweepState) -> None:
        state.started = self.clock()
        self.state = state

    def trial_started(self, number: int, params: dict[str, Any], epochs: int, role: str = "") -> None:
        assert self.state is not None
        with self.state.lock:
            self.state.rows[number] = TrialRow(number, dict(params), self.clock(), epochs, role=role)

    def epoch_done(self, number: int, epoch: int, value: float) -> None:
        assert self.state is not None
        with self.state.lock:
            row = self.state.rows[number]
            row.epoch, row.value = epoch, value

    def trial_finished(self, number: int, state: str, value: float | None, note: str = "") -> None:
        assert self.state is not None
        with self.state.lock:
            row = self.state.rows[number]
            row.state, row.note, row.seconds = state, note, self.clock() - row.started
            if state == "COMPLETE":  # otherwise keep the last epoch's value: where it was pruned or failed
                row.value = value
                self.state.observe_best(number, value)
        self._finished(row)

    def _finished(self, row: TrialRow) -> None:
        pass

    def stop(self) -> None:
        pass


class PlainReporter(StateReporter):
    """One line per finished trial, for logs and pipes."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.console = console

    def _finished(self, row: TrialRow) -> None:
        assert self.state is not None
        self.console.print(format_trial_line(row, self.state.metric), markup=False, highlight=False, soft_wrap=True)


class LiveReporter(StateReporter):
    """A rich ``Live`` table redrawn from state a few times a second."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.console = console
        self._live: Any = None

    def _render(self) -> RenderableType:
        assert self.state is not None
        with self.state.lock:
            return render_sweep(self.state, self.clock())

    def start(self, state: SweepState) -> None:
        from rich.live import Live

        super().start(state)
        self._live = Live(console=self.console, get_renderable=self._render, refresh_per_second=2, transient=False)
        self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
