"""Rich renderables for the terminal report: a layout of ``document.study_document`` (no I/O, no clock).

    from rich.console import Console
    Console().print(render_report(report))

Every label and number comes from the document, which ``report.md`` lays out too. Tests render to
``Console(record=True, width=120, color_system=None)`` and compare text.
"""

from __future__ import annotations

import dataclasses

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from facesweep.report.analysis import StudyReport
from facesweep.report.best_model import BestModelEvaluation, best_model_headline, best_model_tables
from facesweep.report.document import Answer, Block, Chart, Image, Line, StudyDoc, study_document
from facesweep.report.tables import TableDoc

STYLES = {"bold": "bold", "dim": "dim", "warn": "yellow"}


def render_answer(answer: Answer, *, rule: bool = True) -> Panel:
    label = f" ({answer.label})" if answer.label else ""
    body = Text(answer.sentence)
    if rule:
        body.append(f"\nRule: {answer.rule}.", style="dim")
    return Panel(body, title=f"{answer.question} -> {answer.headline}{label}", title_align="left",
                 border_style="bold")  # fmt: skip


def render_block(block: Block, *, explain: bool = False) -> RenderableType | None:
    if isinstance(block, Line):
        return Text(block.text, style=STYLES.get(block.style or "", ""))
    if isinstance(block, TableDoc):  # the title as a line of its own: rich wraps a title to the table's width
        table = dataclasses.replace(block, title="").to_rich()
        return Group(Text(block.title, style="italic"), table) if block.title else table
    if isinstance(block, Answer):
        return render_answer(block, rule=explain)
    if isinstance(block, Chart):
        return Group(Text(block.title, style="italic"), Text("\n".join(block.lines), no_wrap=True, overflow="crop"))
    if isinstance(block, Image):
        return None  # plots live in the --out folder
    raise TypeError(f"unknown block {type(block).__name__}")


def render_document(doc: StudyDoc, *, explain: bool = False) -> RenderableType:
    """The lead (both answers, one line each) first; the rules' full text only with ``explain``."""
    parts: list[RenderableType] = [Text(line, style="bold") for line in doc.lead]
    parts.append(Text(f"{doc.title}: {doc.subtitle}", style="dim"))
    parts += [render_block(line) for line in doc.notes]  # type: ignore[misc]
    for section in doc.sections:
        body = [r for r in (render_block(b, explain=explain) for b in section.blocks) if r is not None]
        parts.append(Panel(Group(*body), title=section.title, title_align="left"))
    return Group(*parts)


def render_best_model(evaluation: BestModelEvaluation | None) -> RenderableType:
    if evaluation is None:
        return Text("best model: not evaluated", style="dim")
    if evaluation.skipped:
        return Panel(Text(f"skipped: {evaluation.skipped}", style="yellow"), title="3. Best model",
                     title_align="left")  # fmt: skip
    cm, per = best_model_tables(evaluation)  # facesweep.report.tables: the same documents report.md renders
    return Panel(Group(Text(best_model_headline(evaluation)), cm.to_rich(), per.to_rich()), title="3. Best model",
                 title_align="left")  # fmt: skip


def render_report(report: StudyReport, *, explain: bool = False) -> RenderableType:
    """The whole terminal view of one study (``explain``: with each rule's full text under its answer)."""
    return Group(render_document(study_document(report), explain=explain), render_best_model(report.best_model))
