"""Per-group audit of an evaluation: accuracy and per-class recall for each value of each attribute, with intervals.

    from facesweep.model.groups import attributes_from_csv, audit_groups
    attrs, match = attributes_from_csv("attrs.csv", split.paths)        # path,age_band,skin
    audit = audit_groups(evaluation, attrs, match=match)                  # evaluation from model.evaluate
    audit.to_dict()["attributes"][0]["worst"]                             # {"value", "accuracy", "gap"}

Attributes come from a CSV (a path column, relative to the evaluated folder, plus one column per attribute) or
from file names (``attributes_from_names`` with a regex of named groups, UTKFace style
``(?P<age>\\d+)_(?P<gender>\\d)_(?P<race>\\d)_``). An image with no row, a row that matches no image and an
empty cell are counted and reported, never fatal.

Intervals are seeded percentile bootstraps (``N_BOOT`` resamples, 95%): resampling a group's n right/wrong
outcomes with replacement, the number right is Binomial(n, k/n), so the bootstrap draws that count directly
(identical in distribution, a thousand times cheaper). Each interval's generator is seeded from ``seed`` and the
interval's own key (attribute, value, class), so adding a column or a group leaves the other intervals unchanged.
A group that is all right (or all wrong) gets the degenerate interval [1, 1] (or [0, 0]): the percentile
bootstrap says nothing beyond the sample there, so read small groups' n before their interval.
"""

from __future__ import annotations

import csv
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facesweep.errors import DataError, UsageError

N_BOOT = 1000  # bootstrap resamples per interval
SEED = 0
CONFIDENCE = 0.95
MIN_GROUP = 10  # images a group needs to be named the worst (a group of 3 is 0% or 100% by chance)
PATH_COLUMNS = ("path", "file", "filename", "file_name", "image", "img")  # else the first column
SHOWN = 5  # unmatched rows / images without a row named in the output


@dataclass(frozen=True)
class Match:
    """How attribute rows met the evaluated images."""

    source: str  # "csv attrs.csv" or "file names /regex/"
    images_without_row: list[str] = field(default_factory=list)  # paths of evaluated images with no attributes
    unmatched_rows: list[str] = field(default_factory=list)  # CSV paths that name no evaluated image
    duplicate_rows: int = 0  # CSV rows for an image that already had one (the first row is used)


@dataclass(frozen=True)
class GroupStats:
    value: str
    n: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    gap: float  # accuracy - overall accuracy
    recall: dict[str, dict[str, Any]]  # class name -> {"recall", "ci": (low, high), "support"}; support > 0 only


@dataclass(frozen=True)
class AttributeAudit:
    name: str
    groups: list[GroupStats]
    n_missing: int  # images with an empty value for this attribute (or no row)
    worst: str | None  # the value with the lowest accuracy among groups of at least min_group images
    worst_gap: float | None  # its accuracy - overall accuracy


@dataclass(frozen=True)
class GroupAudit:
    overall_accuracy: float
    n: int  # images evaluated
    attributes: list[AttributeAudit]
    match: Match
    n_boot: int = N_BOOT
    seed: int = SEED
    confidence: float = CONFIDENCE
    min_group: int = MIN_GROUP

    def to_dict(self) -> dict[str, Any]:
        m = self.match
        return {
            "source": m.source,
            "overall_accuracy": self.overall_accuracy,
            "n": self.n,
            "n_boot": self.n_boot,
            "seed": self.seed,
            "confidence": self.confidence,
            "min_group": self.min_group,
            "images_without_row": {"count": len(m.images_without_row), "first": m.images_without_row[:SHOWN]},
            "unmatched_rows": {"count": len(m.unmatched_rows), "first": m.unmatched_rows[:SHOWN]},
            "duplicate_rows": m.duplicate_rows,
            "attributes": [
                {
                    "name": a.name,
                    "n_missing": a.n_missing,
                    "worst": None if a.worst is None else {
                        "value": a.worst, "gap": a.worst_gap,
                        "accuracy": next(g.accuracy for g in a.groups if g.value == a.worst)},
                    "groups": [
                        dict(asdict(g), accuracy_ci=list(g.accuracy_ci),
                             recall={k: dict(v, ci=list(v["ci"])) for k, v in g.recall.items()})
                        for g in a.groups
                    ],
                }
                for a in self.attributes
            ],
        }  # fmt: skip


# -- where attributes come from -------------------------------------------------------------------------------------
def _norm(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def read_group_csv(path: str | Path) -> tuple[list[str], list[tuple[str, dict[str, str]]]]:
    """``(attribute names, [(image path, {attribute: value})])`` of a CSV with a header row; the path column is
    the one named ``path`` (or file, filename, image), else the first."""
    path = Path(path).expanduser()
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise DataError(f"{path}: cannot read the groups CSV ({exc.strerror})") from None
    except (UnicodeDecodeError, csv.Error):
        raise DataError(f"{path}: not a UTF-8 CSV file") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise DataError(f"{path}: the groups CSV is empty (expected a header such as path,age_band,skin)")
    header = [h.strip() for h in rows[0]]
    lower = [h.lower() for h in header]
    key = next((lower.index(c) for c in PATH_COLUMNS if c in lower), 0)
    names = [h for i, h in enumerate(header) if i != key]
    if not names or any(not n for n in names):
        raise DataError(f"{path}: the groups CSV needs a path column and named attribute columns, got header "
                        f"{','.join(header)!r}")  # fmt: skip
    out = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{path} line {line}: {len(row)} fields, expected {len(header)}")
        out.append((_norm(row[key]), {h: row[i].strip() for i, h in enumerate(header) if i != key}))
    return names, out


def attributes_from_csv(
    path: str | Path, image_paths: Sequence[str], *, root: str | Path | None = None
) -> tuple[list[dict[str, str]], Match]:
    """Per evaluated image (``image_paths``, relative to the data folder) its attributes from the CSV at ``path``.

    A CSV path is matched exactly; a bare file name (no folder part) also matches an image of that name when only
    one image has it; an absolute path under ``root`` is made relative to it."""
    _, rows = read_group_csv(path)
    index = {_norm(p): i for i, p in enumerate(image_paths)}
    by_name: dict[str, int | None] = {}
    for i, p in enumerate(image_paths):
        name = p.rsplit("/", 1)[-1]
        by_name[name] = None if name in by_name else i  # None: ambiguous
    root_text = _norm(str(Path(root).expanduser())) + "/" if root is not None else None
    attrs: list[dict[str, str] | None] = [None] * len(image_paths)
    unmatched, duplicates = [], 0
    for key, values in rows:
        if root_text and key.startswith(root_text):
            key = key[len(root_text) :]
        i = index.get(key)
        if i is None and "/" not in key:
            i = by_name.get(key)
        if i is None:
            unmatched.append(key)
        elif attrs[i] is not None:
            duplicates += 1
        else:
            attrs[i] = values
    missing = [p for p, a in zip(image_paths, attrs, strict=True) if a is None]
    match = Match(f"csv {Path(path).name}", missing, unmatched, duplicates)
    return [a or {} for a in attrs], match


def attributes_from_names(pattern: str, image_paths: Sequence[str]) -> tuple[list[dict[str, str]], Match]:
    """Per image the named groups of ``pattern`` searched in its file name (not its folders)."""
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"groups-from-name regex {pattern!r} does not compile: {exc}") from None
    if not regex.groupindex:
        raise UsageError(f"groups-from-name regex {pattern!r} has no named group such as (?P<age>\\d+)")
    attrs, missing = [], []
    for p in image_paths:
        found = regex.search(p.rsplit("/", 1)[-1])
        if found is None:
            missing.append(p)
            attrs.append({})
        else:
            attrs.append({k: v for k, v in found.groupdict().items() if v is not None})
    return attrs, Match(f"file names /{pattern}/", missing)


def bin_attribute(attrs: list[dict[str, str]], name: str, edges: Sequence[float]) -> list[dict[str, str]]:
    """Replace numeric values of attribute ``name`` by bands ``[edges[i], edges[i+1])`` named ``"18-29"``
    (integers) or ``"18-30"``; values outside the edges or not numbers become missing."""
    edges = sorted(float(e) for e in edges)
    if len(edges) < 2:
        raise UsageError(f"bins for {name!r} need at least two edges, got {list(edges)}")

    def label(lo: float, hi: float) -> str:
        if lo.is_integer() and hi.is_integer():
            return f"{int(lo)}-{int(hi) - 1}"
        return f"{lo:g}-{hi:g}"

    out = []
    for a in attrs:
        a = dict(a)
        if name in a:
            try:
                x = float(a[name])
            except ValueError:
                x = float("nan")
            k = int(np.searchsorted(edges, x, side="right")) - 1
            if 0 <= k < len(edges) - 1:
                a[name] = label(edges[k], edges[k + 1])
            else:
                del a[name]
        out.append(a)
    return out


# -- the audit ------------------------------------------------------------------------------------------------------
def bootstrap_interval(k: int, n: int, *, key: str, n_boot: int = N_BOOT, seed: int = SEED,
                       confidence: float = CONFIDENCE) -> tuple[float, float]:  # fmt: skip
    """Percentile bootstrap interval of the proportion ``k / n`` (``n`` > 0), seeded by ``seed`` and ``key``."""
    rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
    draws = rng.binomial(n, k / n, size=n_boot) / n
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)


def _sort_key(value: str) -> tuple:
    try:
        return (0, float(value), value)
    except ValueError:
        return (1, 0.0, value)


def audit_groups(
    evaluation: Any,
    attrs: Sequence[Mapping[str, str]],
    *,
    match: Match | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
    min_group: int = MIN_GROUP,
) -> GroupAudit:
    """Accuracy and per-class recall per attribute value of ``evaluation`` (``labels``, ``predicted``,
    ``classes``, ``accuracy``); ``attrs[i]`` are image i's attributes (empty values and absent keys: missing).
    Every group is reported; only groups of at least ``min_group`` images can be an attribute's ``worst``."""
    labels, predicted = np.asarray(evaluation.labels), np.asarray(evaluation.predicted)
    if len(attrs) != len(labels):
        raise ValueError(f"{len(attrs)} attribute rows for {len(labels)} images")
    correct = labels == predicted
    overall = float(evaluation.accuracy)
    classes = tuple(evaluation.classes)
    names = list(dict.fromkeys(k for a in attrs for k in a))
    audits = []
    for name in names:
        values = np.array([a.get(name, "") or "" for a in attrs], dtype=object)
        stats = []
        for value in sorted({v for v in values if v}, key=_sort_key):
            member = values == value
            n, k = int(member.sum()), int(correct[member].sum())
            ci = dict(key=f"{name}\0{value}", n_boot=n_boot, seed=seed, confidence=confidence)
            recall = {}
            for c, cls in enumerate(classes):
                of_class = member & (labels == c)
                support = int(of_class.sum())
                if support:
                    hit = int(correct[of_class].sum())
                    recall[cls] = {
                        "recall": hit / support,
                        "support": support,
                        "ci": bootstrap_interval(hit, support, **{**ci, "key": f"{ci['key']}\0{cls}"}),
                    }
            stats.append(GroupStats(value, n, k / n, bootstrap_interval(k, n, **ci), k / n - overall, recall))
        worst = min((g for g in stats if g.n >= min_group), key=lambda g: g.accuracy, default=None)
        audits.append(AttributeAudit(name, stats, int((values == "").sum()), worst and worst.value,
                                     None if worst is None else worst.gap))  # fmt: skip
    return GroupAudit(overall, len(labels), audits, match or Match("attributes"), n_boot, seed, confidence, min_group)
