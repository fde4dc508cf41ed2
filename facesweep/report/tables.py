"""The one renderer of evaluation tables: per class, confusion matrix, per group. One document, two outputs.

    doc = per_class_table(evaluation.per_class)
    console.print(doc.to_rich())                 # `facesweep evaluate`, the report's terminal view
    lines = doc.to_markdown()                    # report.md

A ``TableDoc`` holds the title, the column names and every cell already formatted as text, so the terminal and
Markdown show the same numbers by construction. Builders take plain dicts/lists (``Evaluation.to_dict()`` shapes,
the report's ``BestModelEvaluation``), never a model, so this module imports neither jax nor Optuna.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

NA = "-"
CONFUSION_TITLE = "Confusion matrix (rows true, columns predicted)"


@dataclass(frozen=True)
class TableDoc:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # every cell formatted once, here
    label_columns: int = 1  # leading columns that hold names (left-aligned); the rest are numbers (right-aligned)

    def to_rich(self) -> RenderableType:
        """The title on its own line (a table title would wrap at the table's width), then the table."""
        table = Table()
        for i, name in enumerate(self.columns):
            table.add_column(name, justify="left" if i < self.label_columns else "right")
        for row in self.rows:
            table.add_row(*row)
        return Group(Text(self.title, style="italic"), table) if self.title else table

    def to_markdown(self) -> list[str]:
        """Lines of a GitHub Markdown table (title as a plain line above it), ending with a blank line."""

        def cells(values: Sequence[str]) -> str:
            return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

        align = "|" + "|".join(":---" if i < self.label_columns else "---:" for i in range(len(self.columns))) + "|"
        head = [f"{self.title}:", ""] if self.title else []
        return [*head, cells(self.columns), align, *(cells(r) for r in self.rows), ""]


def fmt(value: float | None, digits: int = 3) -> str:
    return NA if value is None else f"{value:.{digits}f}"


def fmt_interval(value: float | None, ci: Sequence[float] | None, digits: int = 2) -> str:
    """``0.88 [0.84-0.91]`` (one space: a narrow terminal wraps the interval whole onto the next line)."""
    if value is None:
        return NA
    return f"{value:.{digits}f}" + ("" if ci is None else f" [{ci[0]:.{digits}f}-{ci[1]:.{digits}f}]")


def per_class_table(per_class: Sequence[Mapping[str, Any]], *, title: str = "Per class") -> TableDoc:
    """Rows ``{name, precision, recall, f1, support}`` (``Evaluation.per_class``)."""
    rows = tuple(
        (str(r["name"]), fmt(r["precision"]), fmt(r["recall"]), fmt(r["f1"]), f"{int(r['support']):,}")
        for r in per_class
    )
    return TableDoc(title, ("class", "precision", "recall", "F1", "support"), rows)


def confusion_table(
    classes: Sequence[str], matrix: Sequence[Sequence[int]], *, title: str = CONFUSION_TITLE
) -> TableDoc:
    """Counts, rows true and columns predicted."""
    rows = tuple((name, *(f"{int(v):,}" for v in counts)) for name, counts in zip(classes, matrix, strict=True))
    return TableDoc(title, ("true \\ pred", *classes), rows)


def group_table(attribute: Mapping[str, Any], classes: Sequence[str], confidence: float = 0.95) -> TableDoc:
    """One attribute of ``GroupAudit.to_dict()["attributes"]``: per value n, accuracy with its interval, the gap to
    the overall accuracy, and the recall of each class present (with its interval)."""
    shown = [c for c in classes if any(c in g["recall"] for g in attribute["groups"])]
    rows = []
    for g in attribute["groups"]:
        recall = [fmt_interval(g["recall"][c]["recall"], g["recall"][c]["ci"]) if c in g["recall"] else NA
                  for c in shown]  # fmt: skip
        rows.append((g["value"], f"{g['n']:,}", fmt_interval(g["accuracy"], g["accuracy_ci"]), f"{g['gap']:+.3f}",
                     *recall))  # fmt: skip
    pct = f"{round(100 * confidence)}%"
    title = f"{attribute['name']}: accuracy and recall [{pct} bootstrap interval]"
    return TableDoc(title, (attribute["name"], "n", "accuracy", "gap", *(f"recall {c}" for c in shown)), tuple(rows))
