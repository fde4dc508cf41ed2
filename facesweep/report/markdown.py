"""``report.md``: a Markdown layout of ``document.study_document``, with the plots linked. A pure function.

text = render_markdown(reports, storage="sqlite:///facesweep.db", plots={"study": {"learning_curves": "x.png"}})

Every label and number comes from the document, which the terminal view lays out too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from facesweep.report.analysis import StudyReport
from facesweep.report.best_model import best_model_headline, best_model_tables
from facesweep.report.document import Answer, Block, Chart, Image, Line, study_document
from facesweep.report.tables import TableDoc


def answer_markdown(answer: Answer) -> list[str]:
    label = f" ({answer.label})" if answer.label else ""
    return [f"**{answer.question} -> {answer.headline}{label}.** {answer.sentence}", "", f"_Rule: {answer.rule}._",
            ""]  # fmt: skip


def block_markdown(block: Block, plots: Mapping[str, str]) -> list[str]:
    if isinstance(block, Line):
        text = f"**{block.text}**" if block.style in ("bold", "warn") else block.text
        return [text, ""]
    if isinstance(block, TableDoc):
        return block.to_markdown()
    if isinstance(block, Answer):
        return answer_markdown(block)
    if isinstance(block, Chart):
        return [f"_{block.title}_", "", "```", *block.lines, "```", ""]
    if isinstance(block, Image):
        return [f"![{block.title}]({plots[block.key]})", ""] if block.key in plots else []
    raise TypeError(f"unknown block {type(block).__name__}")


def study_markdown(report: StudyReport, plots: Mapping[str, str] | None = None) -> str:
    plots = plots or {}
    doc = study_document(report)
    out = [f"## {doc.title.replace(repr(report.name), f'`{report.name}`')}", "", doc.subtitle[0].upper() +
           doc.subtitle[1:] + ".", ""]  # fmt: skip
    out += [f"**{line}**  " for line in doc.lead] + [""]
    out += ["### Answers", ""]
    for line in doc.notes:
        out += block_markdown(line, plots)
    for answer in doc.answers:
        label = f" ({answer.label})" if answer.label else ""
        out.append(f"- **{answer.question} {answer.headline}{label}.** {answer.sentence}")
    out.append("")
    for section in doc.sections:
        out += [f"### {section.title}", ""]
        for block in section.blocks:
            out += block_markdown(block, plots)
    out += ["### 3. Best model", ""]
    ev = report.best_model
    if ev is None:
        out += ["Not evaluated.", ""]
    elif ev.skipped:
        out += [f"Skipped: {ev.skipped}.", ""]
    else:
        cm, per = best_model_tables(ev)  # facesweep.report.tables: the same documents the terminal view renders
        out += [best_model_headline(ev) + ".", "", *cm.to_markdown(), *per.to_markdown()]
        out += block_markdown(Image("confusion_matrix"), plots)
    return "\n".join(out)


def render_markdown(
    reports: Sequence[StudyReport], *, storage: str, plots: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """The whole ``report.md``; ``storage`` must already be redacted; ``plots`` maps study -> plot -> rel. path."""
    plots = plots or {}
    studies = f"{len(reports)} stud{'y' if len(reports) == 1 else 'ies'}"
    head = ["# facesweep report", "", f"Storage: `{storage}`; {studies}.", ""]
    return "\n".join(head + [study_markdown(r, plots.get(r.name)) for r in reports]) + "\n"
