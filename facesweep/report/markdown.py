"""``report.md``: the terminal report as Markdown, with the plots linked. A pure function of the reports.

text = render_markdown(reports, storage="sqlite:///facesweep.db", plots={"study": {"learning_curves": "x.png"}})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from facesweep.report.analysis import GroupStat, StudyReport, fmt_corr
from facesweep.report.render import describe_config, fmt, fmt_params, fmt_seconds
from facesweep.report.schema import COMPLEXITY_RULE, EPOCHS_RULE

PLOT_TITLES = {
    "metric_by_depth": "Metric by depth",
    "metric_by_epochs": "Metric by epochs",
    "learning_curves": "Learning curves",
    "confusion_matrix": "Confusion matrix",
    "importances": "Parameter importances",
}


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _groups(label: str, groups: list[GroupStat], metric: str) -> list[str]:
    return _table(
        [label, "complete", "pruned", f"best {metric}", f"median {metric}"],
        [[g.label, str(g.n_complete), str(g.n_pruned), fmt(g.best), fmt(g.median)] for g in groups],
    )


def _image(plots: Mapping[str, str], key: str) -> list[str]:
    return [f"![{PLOT_TITLES[key]}]({plots[key]})", ""] if key in plots else []


def study_markdown(report: StudyReport, plots: Mapping[str, str] | None = None) -> str:
    plots = plots or {}
    s, c, e = report.summary, report.complexity, report.epochs
    out = [f"## Study `{report.name}`", ""]
    out += [f"Task **{report.task or '?'}**, metric **{report.metric}**, data "
            f"{report.data or report.data_source or 'synthetic'}.", ""]  # fmt: skip
    out += ["### Answers", "", f"- **Does a deeper model predict better? {c.headline}.** {c.sentence}",
            f"- **Does training for more epochs predict better? {e.headline}.** {e.sentence}", ""]  # fmt: skip

    out += ["### Summary", ""]
    counts = ", ".join(f"{v} {k}" for k, v in s.counts.items() if v) or "no trials"
    out += [f"- trials: {s.n_trials} ({counts})",
            f"- time: {fmt_seconds(s.total_seconds)} in trials, {fmt_seconds(s.train_seconds)} training, "
            f"{fmt_seconds(s.span_seconds)} first start to last finish"]  # fmt: skip
    if s.best is not None:
        b = s.best
        out += [
            f"- best trial #{b.number}: {report.metric} {fmt(b.value)}, "
            + ("" if report.metric == "val_accuracy" else f"val_accuracy {fmt(b.val_accuracy)}, ")
            + f"val_loss {fmt(b.val_loss)}, macro-F1 {fmt(b.val_macro_f1)}, best epoch {b.best_epoch} of "
            f"{b.epochs_run} run, {fmt_seconds(b.train_seconds)} training, {fmt_params(b.param_count)} parameters",
            f"- config: `{describe_config(b.config, b.params)}`",
        ]
    else:
        out.append("- best trial: none completed yet")
    out.append("")

    out += ["### Best trial at each depth", ""]
    out += _table(
        ["depth", "trial", "params", "train time", "val_accuracy", "val_loss", "macro-F1", "best epoch / run"],
        [
            [str(r.depth), f"#{r.number}", fmt_params(r.param_count), fmt_seconds(r.train_seconds),
             fmt(r.val_accuracy), fmt(r.val_loss), fmt(r.val_macro_f1), f"{r.best_epoch}/{r.epochs_run}"]
            for r in report.depth_table
        ],
    )  # fmt: skip

    out += ["### 1. Complexity: does a deeper model predict better?", ""]
    out += _groups("depth", c.by_depth, report.metric)
    if c.by_params:
        out += ["By parameter count (completed trials, log-spaced quantile bins):", ""]
        out += _groups("params", c.by_params, report.metric)
    out += [f"- Spearman depth vs {report.metric}: {fmt_corr(c.rho_depth)}",
            f"- Spearman parameters vs {report.metric}: {fmt_corr(c.rho_params)}"]  # fmt: skip
    imp = report.importances
    if imp.values:
        body = ", ".join(f"{k} {v:.2f}" for k, v in imp.values.items())
        out.append(f"- parameter importances ({imp.evaluator}): {body}" + (f" ({imp.note})" if imp.note else ""))
    else:
        out.append(f"- parameter importances ({imp.evaluator}): {imp.note}")
    out += ["", f"**Answer: {c.sentence}**", "", f"_Rule: {COMPLEXITY_RULE}._", ""]
    out += _image(plots, "metric_by_depth") + _image(plots, "importances")

    out += ["### 2. Epochs: does training for more epochs predict better?", ""]
    p = e.peak
    if p.n:
        out.append(f"- peak epoch of {report.metric} over {p.n} curves (pruned included): median {p.median:g}, "
                   f"IQR {p.q1:g}-{p.q3:g}; {p.n_at_last} peaked at their last epoch")  # fmt: skip
    o, st = e.overfitting, e.early_stopping
    out.append(
        f"- overfitting onset (val loss minimum, then 2 epochs > 1% above it while train loss falls): "
        f"{o.n_onset}/{o.n_checked} trials" + (f", median epoch {o.median_onset:g}" if o.median_onset else "")
    )
    out.append(
        f"- epochs run {st.run_epochs} of {st.planned_epochs} planned; early stopping saved "
        f"{st.saved_by_early_stopping} ({st.n_stopped_early} trials), pruning saved {st.saved_by_pruning} "
        f"({st.n_pruned} trials); full-length trials ran {st.after_peak_full} epochs after their peak"
    )
    out.append(f"- Spearman epochs vs {report.metric}: {fmt_corr(e.rho_epochs)}")
    out.append("")
    if e.gains:
        out += _table(["e -> 2e", "curves", "median gain", "IQR"],
                      [[f"{g.epoch} -> {2 * g.epoch}", str(g.n), f"{g.median_gain:+.3f}",
                        f"{g.q1:+.3f} .. {g.q3:+.3f}"] for g in e.gains])  # fmt: skip
    out += [f"**Answer: {e.sentence}**", "", f"_Rule: {EPOCHS_RULE}._", ""]
    out += _image(plots, "metric_by_epochs") + _image(plots, "learning_curves")

    out += ["### 3. Best model", ""]
    ev = report.best_model
    if ev is None:
        out += ["Not evaluated.", ""]
    elif ev.skipped:
        out += [f"Skipped: {ev.skipped}.", ""]
    else:
        out += [f"Trial #{ev.trial} on the {ev.split} split ({ev.source}): n = {ev.n}, accuracy "
                f"{fmt(ev.accuracy)}, macro-F1 {fmt(ev.macro_f1)}.", ""]  # fmt: skip
        out += ["Confusion matrix (rows true, columns predicted):", ""]
        out += _table(["true \\ pred", *ev.classes],
                      [[name, *(str(v) for v in row)] for name, row in zip(ev.classes, ev.confusion_matrix,
                                                                            strict=True)])  # fmt: skip
        out += _table(["class", "precision", "recall", "F1", "support"],
                      [[r["name"], fmt(r["precision"]), fmt(r["recall"]), fmt(r["f1"]), str(r["support"])]
                       for r in ev.per_class])  # fmt: skip
        out += _image(plots, "confusion_matrix")
    return "\n".join(out)


def render_markdown(
    reports: Sequence[StudyReport], *, storage: str, plots: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """The whole ``report.md``; ``storage`` must already be redacted; ``plots`` maps study -> plot -> rel. path."""
    plots = plots or {}
    studies = f"{len(reports)} stud{'y' if len(reports) == 1 else 'ies'}"
    head = ["# facesweep report", "", f"Storage: `{storage}`; {studies}.", ""]
    return "\n".join(head + [study_markdown(r, plots.get(r.name)) for r in reports]) + "\n"
