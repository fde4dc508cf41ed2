"""Rich renderables for the terminal report: pure functions of ``StudyReport`` (no I/O, no clock).

    from rich.console import Console
    Console().print(render_report(report))

Tests render to ``Console(record=True, width=120, color_system=None)`` and compare text.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from facesweep.report.analysis import (
    Correlation,
    GroupStat,
    Importances,
    StudyReport,
    TrialMetrics,
    fmt_corr,
    format_count,
)
from facesweep.report.best_model import BestModelEvaluation

NA = "-"


def fmt(value: float | None, digits: int = 3) -> str:
    return NA if value is None else f"{value:.{digits}f}"


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return NA
    if seconds < 90:
        return f"{seconds:.1f}s"
    if seconds < 5400:
        return f"{seconds / 60:.1f}min"
    return f"{seconds / 3600:.1f}h"


def fmt_params(n: int | None) -> str:
    return NA if n is None else format_count(n)


def describe_config(config: dict[str, Any], params: dict[str, Any]) -> str:
    """``depth=4 width=32 ...`` with the sampled parameters first."""
    keys = list(params) + [k for k in config if k not in params and k != "extra"]
    values = {**config, **params}
    return " ".join(f"{k}={values[k]}" for k in keys)


def render_summary(report: StudyReport) -> RenderableType:
    s = report.summary
    counts = ", ".join(f"{v} {k}" for k, v in s.counts.items() if v) or "no trials"
    lines = [
        Text(f"trials: {s.n_trials} ({counts})"),
        Text(
            f"time: {fmt_seconds(s.total_seconds)} in trials, {fmt_seconds(s.train_seconds)} training, "
            f"{fmt_seconds(s.span_seconds)} first start to last finish"
        ),
    ]
    if s.best is None:
        lines.append(Text("best trial: none completed yet", style="yellow"))
    else:
        b = s.best
        lines.append(
            Text(
                f"best trial #{b.number}: {report.metric} {fmt(b.value)} | "
                + (f"val_accuracy {fmt(b.val_accuracy)} " if report.metric != "val_accuracy" else "")
                + f"val_loss {fmt(b.val_loss)} "
                f"macro-F1 {fmt(b.val_macro_f1)} | best epoch {b.best_epoch or NA} "
                f"of {b.epochs_run} run | {fmt_seconds(b.train_seconds)} training | {fmt_params(b.param_count)} "
                "parameters",
                style="bold",
            )
        )
        lines.append(Text(f"config: {describe_config(b.config, b.params)}", style="dim"))
    return Panel(Group(*lines), title="Summary", title_align="left")


def render_depth_table(report: StudyReport) -> RenderableType:
    table = Table(title="Best trial at each depth", title_justify="left")
    for name in ("depth", "trial", "params", "train time", "val acc", "val loss", "macro-F1", "epochs"):
        table.add_column(name, justify="right")
    rows: list[TrialMetrics] = report.depth_table
    for r in rows:
        table.add_row(
            str(r.depth), f"#{r.number}", fmt_params(r.param_count), fmt_seconds(r.train_seconds),
            fmt(r.val_accuracy), fmt(r.val_loss), fmt(r.val_macro_f1), f"{r.best_epoch or NA}/{r.epochs_run}",
        )  # fmt: skip
    if not rows:
        table.add_row(*(["no completed trial"] + [""] * 7))
    table.caption = "epochs = best epoch / epochs run; metrics at the best epoch"
    return table


def render_groups(title: str, label: str, groups: list[GroupStat], metric: str) -> Table:
    table = Table(title=title, title_justify="left")
    for name in (label, "complete", "pruned", f"best {metric}", f"median {metric}"):
        table.add_column(name, justify="right")
    for g in groups:
        table.add_row(g.label, str(g.n_complete), str(g.n_pruned), fmt(g.best), fmt(g.median))
    return table


def render_correlations(correlations: list[Correlation], metric: str) -> Text:
    lines = [f"Spearman {c.x} vs {metric}: {fmt_corr(c)}" for c in correlations if c is not None]
    return Text("\n".join(lines))


def render_importances(imp: Importances) -> Text:
    if not imp.values:
        return Text(f"parameter importances ({imp.evaluator}): {imp.note or 'none'}", style="dim")
    body = ", ".join(f"{k} {v:.2f}" for k, v in imp.values.items())
    note = f" [{imp.note}]" if imp.note else ""
    return Text(f"parameter importances ({imp.evaluator}): {body}{note}")


def answer_text(label: str, sentence: str) -> Panel:
    return Panel(Text(sentence), title=label, title_align="left", border_style="bold")


def render_complexity(report: StudyReport) -> RenderableType:
    c = report.complexity
    parts: list[RenderableType] = [
        render_groups("By depth (all trials)", "depth", c.by_depth, report.metric),
    ]
    if c.by_params:
        parts.append(render_groups("By parameter count (log-quantile bins)", "params", c.by_params,
                                   report.metric))  # fmt: skip
    parts.append(render_correlations([c.rho_depth, c.rho_params], report.metric))
    parts.append(render_importances(report.importances))
    parts.append(answer_text(f"Does a deeper model predict better? -> {c.headline}", c.sentence))
    return Panel(Group(*parts), title="1. Complexity", title_align="left")


def render_epochs(report: StudyReport) -> RenderableType:
    e = report.epochs
    p = e.peak
    parts: list[RenderableType] = []
    if p.n:
        hist = "  ".join(f"{k}:{v}" for k, v in p.histogram.items())
        parts.append(
            Text(
                f"peak epoch of {report.metric} over {p.n} curves (pruned included): median {p.median:g}, "
                f"IQR {p.q1:g}-{p.q3:g}; {p.n_at_last} peaked at their last epoch\n  epoch:trials  {hist}"
            )
        )
    else:
        parts.append(Text("no learning curves stored", style="yellow"))
    if e.gains:
        table = Table(title=f"Gain in {report.metric} from epoch e to 2e", title_justify="left")
        for name in ("e -> 2e", "curves", "median gain", "IQR"):
            table.add_column(name, justify="right")
        for g in e.gains:
            table.add_row(f"{g.epoch} -> {2 * g.epoch}", str(g.n), f"{g.median_gain:+.3f}",
                          f"{g.q1:+.3f} .. {g.q3:+.3f}")  # fmt: skip
        parts.append(table)
    o, s = e.overfitting, e.early_stopping
    onset = f", median onset epoch {o.median_onset:g}" if o.median_onset is not None else ""
    parts.append(
        Text(
            f"overfitting (val loss minimum, then 2 epochs > 1% above it while train loss falls): "
            f"{o.n_onset}/{o.n_checked} trials{onset}; {o.epochs_after_onset} epochs trained after onset"
        )
    )
    parts.append(
        Text(
            f"epochs: {s.run_epochs} run of {s.planned_epochs} planned; early stopping saved "
            f"{s.saved_by_early_stopping} ({s.n_stopped_early} trials), pruning saved {s.saved_by_pruning} "
            f"({s.n_pruned} trials); the {s.n_full} full-length trials ran {s.after_peak_full} epochs after their "
            "peak (would-be-wasted)"
        )
    )
    parts.append(render_correlations([e.rho_epochs], report.metric))
    parts.append(answer_text(f"Does training for more epochs predict better? -> {e.headline}", e.sentence))
    return Panel(Group(*parts), title="2. Epochs", title_align="left")


def render_best_model(evaluation: BestModelEvaluation | None) -> RenderableType:
    if evaluation is None:
        return Text("best model: not evaluated", style="dim")
    if evaluation.skipped:
        return Panel(Text(f"skipped: {evaluation.skipped}", style="yellow"), title="3. Best model",
                     title_align="left")  # fmt: skip
    classes = evaluation.classes
    cm = Table(title=f"Confusion matrix (rows true, columns predicted), {evaluation.split} split",
               title_justify="left")  # fmt: skip
    cm.add_column("true \\ pred")
    for name in classes:
        cm.add_column(name[:8], justify="right")
    for name, row in zip(classes, evaluation.confusion_matrix, strict=True):
        cm.add_row(name, *(str(v) for v in row))
    per = Table(title="Per class", title_justify="left")
    for name in ("class", "precision", "recall", "F1", "support"):
        per.add_column(name, justify="right")
    for row in evaluation.per_class:
        per.add_row(row["name"], fmt(row["precision"]), fmt(row["recall"]), fmt(row["f1"]), str(row["support"]))
    head = Text(
        f"trial #{evaluation.trial} on {evaluation.split} ({evaluation.source}): n = {evaluation.n}, "
        f"accuracy {fmt(evaluation.accuracy)}, macro-F1 {fmt(evaluation.macro_f1)}"
    )
    return Panel(Group(head, cm, per), title="3. Best model", title_align="left")


def render_report(report: StudyReport) -> RenderableType:
    """The whole terminal view of one study."""
    data = report.data or report.data_source or "synthetic"
    header = Text(f"Study {report.name!r}: task {report.task or '?'}, metric {report.metric}, data {data}",
                  style="bold")  # fmt: skip
    return Group(
        header,
        render_summary(report),
        render_depth_table(report),
        render_complexity(report),
        render_epochs(report),
        render_best_model(report.best_model),
    )
