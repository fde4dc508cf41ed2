"""One document per study, rendered twice: the terminal view (``render.py``) and ``report.md`` (``markdown.py``).

    doc = study_document(report)          # StudyDoc: answers, then sections of lines, tables, answers and plots
    doc.sections[0].title                 # "Summary"

Every label, number format and sentence is decided here, once; the two renderers only lay the blocks out, so
the terminal and Markdown cannot drift apart. Tables are ``facesweep.report.tables.TableDoc`` (cells formatted
once). The best-model section is rendered by the evaluation renderer and is not part of this document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from facesweep.report import rules
from facesweep.report.analysis import StudyReport
from facesweep.report.charts import CurvePanel, DepthRow, curve_chart, depth_chart
from facesweep.report.replicates import ReplicateAnswers, noise_text, pts
from facesweep.report.search import GroupStat, fmt_corr, format_count
from facesweep.report.tables import TableDoc
from facesweep.sweep.progress import format_seconds
from facesweep.verdicts.stats import Interval

NA = "-"
COMPLEXITY_QUESTION = "Does a deeper model predict better?"
EPOCHS_QUESTION = "Does training for more epochs predict better?"
SEARCH_ONLY = "search trials only"


def fmt(value: float | None, digits: int = 3) -> str:
    return NA if value is None else f"{value:.{digits}f}"


def fmt_params(n: int | None) -> str:
    return NA if n is None else format_count(n)


def fmt_ci(i: Interval | None, *, points: bool = False) -> str:
    if i is None or not i.defined:
        return NA
    if points:
        return f"{pts(i.low)} to {pts(i.high)}"
    return f"{i.low:.3f} to {i.high:.3f}"


def describe_config(config: dict[str, Any], params: dict[str, Any]) -> str:
    """``depth=4 width=32 ...`` with the sampled parameters first."""
    keys = list(params) + [k for k in config if k not in params and k != "extra"]
    values = {**config, **params}
    return " ".join(f"{k}={values[k]}" for k in keys)


@dataclass(frozen=True)
class Line:
    text: str
    style: str | None = None  # "bold" | "dim" | "warn" (rich style; Markdown shows bold and warn as bold)


@dataclass(frozen=True)
class Answer:
    question: str
    headline: str
    sentence: str
    rule: str
    label: str | None = None  # "search trials only" for the fallback answers


@dataclass(frozen=True)
class Image:
    key: str  # the plot's name in write_plots; shown only when that plot was written

    @property
    def title(self) -> str:
        return PLOT_TITLES.get(self.key, self.key)


@dataclass(frozen=True)
class Chart:
    title: str
    lines: list[str]  # monospace text (report.charts): the terminal prints it, report.md puts it in a code block


Block = Line | TableDoc | Answer | Image | Chart


@dataclass(frozen=True)
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class StudyDoc:
    title: str
    subtitle: str
    lead: list[str]  # the two answers in one line each, with their key numbers: what the report opens with
    answers: list[Answer]
    notes: list[Line]  # beside the answers: the seed noise, or why there is none
    sections: list[Section]


PLOT_TITLES = {
    "metric_by_depth": "Metric by depth (search trials)",
    "replicates_by_depth": "Replicates by depth: mean and 95% interval",
    "replicate_curves": "Replicate learning curves with 95% bands",
    "metric_by_epochs": "Metric by epochs (search trials)",
    "learning_curves": "Learning curves (all trials)",
    "confusion_matrix": "Confusion matrix",
    "importances": "Parameter importances",
}


def _groups_table(title: str, label: str, groups: list[GroupStat], metric: str) -> TableDoc:
    return TableDoc(
        title,
        (label, "complete", "pruned", f"best {metric}", f"median {metric}"),
        tuple((g.label, str(g.n_complete), str(g.n_pruned), fmt(g.best), fmt(g.median)) for g in groups),
    )


def _answers(report: StudyReport) -> tuple[Answer, Answer]:
    rep = report.replicates
    if rep is not None:
        return (
            Answer(COMPLEXITY_QUESTION, rep.complexity.headline, rep.complexity.sentence,
                   rules.COMPLEXITY_REPLICATE_RULE),
            Answer(EPOCHS_QUESTION, rep.epochs.headline, rep.epochs.sentence, rules.EPOCHS_REPLICATE_RULE),
        )  # fmt: skip
    c, e = report.complexity, report.epochs
    return (
        Answer(COMPLEXITY_QUESTION, c.headline, c.sentence, rules.COMPLEXITY_FALLBACK_RULE, SEARCH_ONLY),
        Answer(EPOCHS_QUESTION, e.headline, e.sentence, rules.EPOCHS_FALLBACK_RULE, SEARCH_ONLY),
    )


def _summary(report: StudyReport) -> Section:
    s = report.summary
    counts = ", ".join(f"{v} {k}" for k, v in s.counts.items() if v) or "no trials"
    n_rep = len(report.replicate_records)
    rep = f"; {n_rep} of them seed replicates" if n_rep else ""
    blocks: list[Block] = [
        Line(f"trials: {s.n_trials} ({counts}){rep}"),
        Line(f"time: {format_seconds(s.total_seconds)} in trials, {format_seconds(s.train_seconds)} training, "
             f"{format_seconds(s.span_seconds)} first start to last finish"),
    ]  # fmt: skip
    if s.best is None:
        blocks.append(Line("best trial: none completed yet", "warn"))
    else:
        b = s.best
        other = "" if report.metric == "val_accuracy" else f", val_accuracy {fmt(b.val_accuracy)}"
        blocks.append(
            Line(
                f"best trial #{b.number}: {report.metric} {fmt(b.value)}{other}, val_loss {fmt(b.val_loss)}, "
                f"macro-F1 {fmt(b.val_macro_f1)}, best epoch {b.best_epoch or NA} of {b.epochs_run} run, "
                f"{format_seconds(b.train_seconds)} training, {fmt_params(b.param_count)} parameters",
                "bold",
            )
        )
        blocks.append(Line(f"config: {describe_config(b.config, b.params)}", "dim"))
    rows = tuple(
        (str(r.depth), f"#{r.number}", fmt_params(r.param_count), format_seconds(r.train_seconds),
         fmt(r.val_accuracy), fmt(r.val_loss), fmt(r.val_macro_f1), f"{r.best_epoch or NA}/{r.epochs_run}")
        for r in report.depth_table
    )  # fmt: skip
    blocks.append(
        TableDoc(
            "Best search trial at each depth (metrics at its best epoch)",
            ("depth", "trial", "params", "train time", "val acc", "val loss", "macro-F1", "best ep / run"),
            rows or (("no completed trial", "", "", "", "", "", "", ""),),
        )
    )
    return Section("Summary", blocks)


def _replicate_complexity(rep: ReplicateAnswers, metric: str) -> list[Block]:
    c = rep.complexity
    by_depth = TableDoc(
        f"Seed replicates of the best configuration at each depth ({metric} at the last epoch)",
        ("depth", "source trial", "seeds", "epochs", "mean", "95% CI", "values"),
        tuple(
            (str(d.depth), f"#{d.source_trial}", str(d.n), str(d.epochs), fmt(d.mean.estimate), fmt_ci(d.mean),
             " ".join(f"{v:.3f}" for v in d.values))
            for d in c.depths
        ),
    )  # fmt: skip
    steps = TableDoc(
        "Adjacent depths at a matched epoch (difference in points, simultaneous 95% CI)",
        ("step", "epoch", "difference", "95% CI", "call"),
        tuple((f"{s.shallower} -> {s.deeper}", str(s.epoch), pts(s.diff.estimate), fmt_ci(s.diff, points=True),
               s.call) for s in c.steps),
    )  # fmt: skip
    chart = Chart(f"{metric} by depth: mean and 95% interval of the seed replicates",
                  depth_chart([DepthRow(d.depth, d.mean.estimate, d.mean.low, d.mean.high, d.n) for d in c.depths]))
    return [by_depth, steps, chart, Line(f"{noise_text(rep.noise)}; smallest difference worth having "
                                         f"{pts(c.delta, sign=False)} point(s) (--min-effect)")]


def _search_complexity(report: StudyReport) -> list[Block]:
    c = report.complexity
    blocks: list[Block] = [_groups_table("By depth (search trials)", "depth", c.by_depth, report.metric)]
    if c.by_params:
        blocks.append(_groups_table("By parameter count (search trials, log-quantile bins)", "params", c.by_params,
                                    report.metric))  # fmt: skip
    blocks += [
        Line(f"Spearman depth vs {report.metric}: {fmt_corr(c.rho_depth)}"),
        Line(f"Spearman parameters vs {report.metric}: {fmt_corr(c.rho_params)}"),
    ]
    imp = report.importances
    if imp.values:
        body = ", ".join(f"{k} {v:.2f}" for k, v in imp.values.items())
        blocks.append(Line(f"parameter importances ({imp.evaluator}): {body}" + (f" [{imp.note}]" if imp.note else "")))
    else:
        blocks.append(Line(f"parameter importances ({imp.evaluator}): {imp.note or 'none'}", "dim"))
    return blocks


def _replicate_epochs(rep: ReplicateAnswers) -> list[Block]:
    e = rep.epochs
    rows = []
    for d in e.depths:
        after = d.gain_after_plateau
        rows.append(
            (str(d.depth), str(d.n), str(len(d.bands)), str(d.plateau_epoch or NA),
             pts(d.gain_to_plateau.estimate) if d.gain_to_plateau else NA,
             f"{pts(after.estimate)} ({fmt_ci(after, points=True)})" if after else NA, d.verdict,
             d.overfit + (f" (min at {d.val_loss_min_epoch})" if d.val_loss_min_epoch else ""))
        )  # fmt: skip
    table = TableDoc(
        "Replicate curves per depth (points; plateau = after it, further epochs gain less than the smallest "
        "difference worth having)",
        ("depth", "seeds", "epochs", "plateau epoch", "gain 1 -> plateau", "gain plateau -> last (95% CI)",
         "verdict", "val loss turned up"),
        tuple(rows),
    )  # fmt: skip
    chart = Chart("Replicate learning curves: mean per epoch (●) and its 95% band (│), one panel per depth (seeds)",
                  curve_chart([CurvePanel(d.depth, d.n, [b.mean for b in d.bands], [b.low for b in d.bands],
                                          [b.high for b in d.bands]) for d in e.depths]))  # fmt: skip
    return [table, chart, Line(f"Overfitting: {e.overfit_sentence}.")]


def _search_epochs(report: StudyReport) -> list[Block]:
    e, metric = report.epochs, report.metric
    blocks: list[Block] = []
    p = e.peak
    if p.n:
        hist = "  ".join(f"{k}:{v}" for k, v in p.histogram.items())
        blocks.append(Line(f"peak epoch of {metric} over {p.n} search curves (pruned included): median "
                           f"{p.median:g}, IQR {p.q1:g}-{p.q3:g}; {p.n_at_last} peaked at their last epoch "
                           f"(epoch:trials {hist})"))  # fmt: skip
    else:
        blocks.append(Line("no learning curves stored", "warn"))
    if e.gains:
        blocks.append(
            TableDoc(f"Gain in {metric} from epoch e to 2e (search trials)",
                     ("e -> 2e", "curves", "median gain", "IQR"),
                     tuple((f"{g.epoch} -> {2 * g.epoch}", str(g.n), f"{g.median_gain:+.3f}",
                            f"{g.q1:+.3f} .. {g.q3:+.3f}") for g in e.gains))
        )  # fmt: skip
    o, s = e.overfitting, e.early_stopping
    onset = f", median onset epoch {o.median_onset:g}" if o.median_onset is not None else ""
    blocks.append(Line(
        f"overfitting (val loss minimum, then {rules.MIN_OVERFIT_AFTER} epochs > {rules.OVERFIT_RISE:.0%} above it "
        f"while train loss falls): {o.n_onset} of the {o.n_checked} trials that ran {rules.MIN_OVERFIT_AFTER}+ epochs "
        f"past their minimum{onset} ({o.n_curves - o.n_checked} of {o.n_curves} curves too short after it to judge)"
    ))  # fmt: skip
    blocks.append(Line(
        f"epochs: {s.run_epochs} run of {s.planned_epochs} planned; early stopping saved {s.saved_by_early_stopping} "
        f"({s.n_stopped_early} trials), pruning saved {s.saved_by_pruning} ({s.n_pruned} trials); the {s.n_full} "
        f"full-length trials ran {s.after_peak_full} epochs after their peak"
    ))  # fmt: skip
    blocks.append(Line(f"Spearman epochs vs {metric}: {fmt_corr(e.rho_epochs)}"))
    return blocks


def study_document(report: StudyReport) -> StudyDoc:
    """The one document both renderers lay out."""
    data = report.data or report.data_source or "synthetic"
    rep = report.replicates
    fewest = min((d.n for d in rep.complexity.depths), default=0) if rep else 0  # "k+": every depth has k or more
    design = report.design + (f", {fewest}+ seed replicates per depth" if rep else ", no seed replicates")
    subtitle = f"task {report.task or '?'}, metric {report.metric}, data {data}, design {design}"
    complexity, epochs = _answers(report)
    if rep is not None:
        notes = [Line(f"Seed noise (one configuration, seeds only): {noise_text(rep.noise)}; printed beside every "
                      "verdict.", "bold")]  # fmt: skip
        c_blocks = _replicate_complexity(rep, report.metric) + [complexity, Image("replicates_by_depth")]
        c_blocks += [Line("Supporting evidence from the search trials (depth chosen by the sampler, so confounded "
                          "with the other settings):", "dim")] + _search_complexity(report)  # fmt: skip
        e_blocks = _replicate_epochs(rep) + [epochs, Image("replicate_curves")]
        e_blocks += [Line("Supporting evidence from the search trials:", "dim")] + _search_epochs(report)
    else:
        pending = report.replicates_wanted > 0
        notes = [Line(rules.PENDING_NOTE.format(k=report.replicates_wanted) if pending else rules.FALLBACK_NOTE,
                      "warn")]  # fmt: skip
        c_blocks = _search_complexity(report) + [complexity]
        e_blocks = _search_epochs(report) + [epochs]
    c_blocks += [Image("metric_by_depth"), Image("importances")]
    e_blocks += [Image("metric_by_epochs"), Image("learning_curves")]
    return StudyDoc(
        title=f"Study {report.name!r}",
        subtitle=subtitle,
        lead=lead_lines(report),
        answers=[complexity, epochs],
        notes=notes,
        sections=[
            _summary(report),
            Section(f"1. Complexity: {COMPLEXITY_QUESTION.lower().rstrip('?')}?", c_blocks),
            Section(f"2. Epochs: {EPOCHS_QUESTION.lower().rstrip('?')}?", e_blocks),
        ],
    )


# -- the lead: both answers in one line each -------------------------------------------------------------------


def _ci(i: Interval) -> str:
    return f"95% CI {pts(i.low)} to {pts(i.high)}" if i.defined else "no interval"


def _deeper_line(rep: ReplicateAnswers) -> str:
    c = rep.complexity
    seeds = f"{min(d.n for d in c.depths if d.usable)}+ seeds each" if c.steps else ""
    gains = [s for s in c.steps if s.call == rules.GAIN]
    if c.verdict == "yes":
        s = gains[-1]
        return (f"Deeper: yes, through depth {c.depth_k}: {pts(s.diff.estimate)} points from {s.shallower} to "
                f"{s.deeper} ({_ci(s.diff)}), {seeds}")  # fmt: skip
    if c.verdict == "up to depth k":
        s = gains[-1]
        nxt = c.steps[c.steps.index(s) + 1]
        then = "worse" if nxt.call == rules.LOSS else "no gain"
        return (f"Deeper: yes up to depth {c.depth_k}, {pts(s.diff.estimate)} points from {s.shallower} to "
                f"{s.deeper} ({_ci(s.diff)}); then {then}, {pts(nxt.diff.estimate)} from {nxt.shallower} to "
                f"{nxt.deeper} ({_ci(nxt.diff)}); {seeds}")  # fmt: skip
    if c.verdict == "worse":
        s = next(s for s in c.steps if s.call == rules.LOSS)
        return (f"Deeper: no, worse: {pts(s.diff.estimate)} points from {s.shallower} to {s.deeper} "
                f"({_ci(s.diff)}), {seeds}")  # fmt: skip
    if c.verdict == rules.NO_GAIN:
        return (f"Deeper: no gain worth having: every step below +{pts(c.delta, sign=False)} point(s) "
                f"(--min-effect), {seeds}")  # fmt: skip
    if c.verdict == "cannot answer":
        return f"Deeper: cannot answer yet (fewer than 2 depths with {rules.MIN_VALUES} seed replicates)"
    open_steps = [s for s in c.steps if s.call == rules.NOT_SHOWN]
    need = [s.seeds_to_decide for s in open_steps if s.seeds_to_decide]
    more = f"; about {max(need)} seeds per depth would decide it (--max-seeds)" if need else ""
    head = f"at least up to depth {c.depth_k}, beyond it undecided" if c.verdict == "at least up to depth k" else (
        "not decided")
    return (f"Deeper: {head}: step(s) {', '.join(f'{s.shallower} to {s.deeper}' for s in open_steps)} open after "
            f"{seeds}{more}")  # fmt: skip


def _epochs_line(rep: ReplicateAnswers) -> str:
    e = rep.epochs
    judged = [d for d in e.depths if d.verdict != "cannot answer"]
    if not judged:
        return f"More epochs: cannot answer yet (no depth with {rules.MIN_VALUES} replicate curves)"
    means = {d.depth: d.mean.estimate for d in rep.complexity.depths}
    best = max(judged, key=lambda d: means.get(d.depth, 0.0))  # the depth a user would ship
    where = f"depth {best.depth}, {best.n} seeds"
    if e.verdict == "yes":
        g = best.last_gain
        last = len(best.bands)
        return (f"More epochs: yes, still gaining at epoch {last}: {pts(g.estimate)} points from {last - 1} to "  # type: ignore[union-attr]
                f"{last} ({_ci(g)}) at {where}")  # type: ignore[arg-type]
    if e.verdict == "up to epoch k":
        up, after = best.gain_to_plateau, best.gain_after_plateau
        k = f"epoch {e.epoch_k}"
        if best.plateau_epoch != e.epoch_k:  # k is the latest plateau of the depths; the numbers are best's own
            k += f" (the latest depth; depth {best.depth} levels off at epoch {best.plateau_epoch})"
        return (f"More epochs: yes up to {k}, then no gain worth having: {pts(up.estimate)} points "  # type: ignore[union-attr]
                f"from 1 to {best.plateau_epoch} ({_ci(up)}), {pts(after.estimate)} from {best.plateau_epoch} to "  # type: ignore[arg-type,union-attr]
                f"{len(best.bands)} ({_ci(after)}) at {where}")  # type: ignore[arg-type]
    if e.verdict == rules.NO_GAIN:
        return f"More epochs: no gain worth having after epoch 1 ({where})"
    per = "; ".join(f"depth {d.depth} {d.verdict if d.verdict != 'up to epoch k' else f'up to epoch {d.plateau_epoch}'}"
                    for d in judged)  # fmt: skip
    if e.verdict == "depends on depth":
        return f"More epochs: depends on depth: {per}"
    return f"More epochs: not decided: {per}"


def lead_lines(report: StudyReport) -> list[str]:
    """The two answers, one line each, with the key numbers: the first lines of the terminal report."""
    rep = report.replicates
    if rep is not None:
        return [_deeper_line(rep), _epochs_line(rep)]
    c, e = report.complexity, report.epochs
    return [f"Deeper: {c.headline} ({SEARCH_ONLY}: no seed replicates, so seed luck is not separated)",
            f"More epochs: {e.headline} ({SEARCH_ONLY})"]  # fmt: skip
