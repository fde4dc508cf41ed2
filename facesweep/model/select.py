"""Choose a training epoch by its worst group, not its mean (issue 19): ``train --select worst-group``.

    attrs, match = read_groups(data.val.paths, pattern=UTKFACE_PATTERN, bins={"age": AGE_EDGES})
    scorer = worst_group_scorer(config, data.classes, data.val, attrs, metric="recall")
    result = train_and_evaluate(config, data, score_epoch=scorer)    # result.model: the best-scoring epoch

Groups come from the validation images' file names (a regex with named groups, as ``evaluate
--groups-from-name``) or a CSV (as ``evaluate --groups``), read once before training. After each epoch the
validation split is predicted and every group of every attribute is scored on its own (an age band, a race
code: the audit's groups, not their cross product): with ``metric="recall"`` the score is the lowest recall of
any class within any group, with ``"accuracy"`` the lowest group accuracy. Groups (or a group's class) with fewer
than ``min_group`` images are left out, as the audit leaves them out of its ``worst`` (a group of 3 is 0% or 100%
by chance). The epoch with the highest score wins; ties go to the earlier epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from facesweep.errors import DataError
from facesweep.io.dataset import Split
from facesweep.model.artifacts import TrainedModel
from facesweep.model.config import Config
from facesweep.model.groups import MIN_GROUP, Match, attributes_from_csv, attributes_from_names, bin_attribute

SELECT_METRICS = ("recall", "accuracy")  # worst class recall within a group, or worst group accuracy
UTKFACE_PATTERN = r"^(?P<age>\d+)_\d_(?P<race>\d)_"  # UTKFace AGE_GENDER_RACE_*.jpg (gender is the label)
AGE_EDGES = (0, 18, 30, 45, 60, 120)  # age bands 0-17, 18-29, 30-44, 45-59, 60-119


@dataclass(frozen=True)
class WorstGroup:
    score: float  # the lowest recall (or accuracy) over the scored groups
    attribute: str
    value: str
    cls: str | None  # the class whose recall is lowest there (metric "recall"), else None
    n: int  # images behind the score (the class's support in the group, or the group's size)

    def describe(self) -> str:
        what = f"{self.cls} recall" if self.cls else "accuracy"
        return f"{self.attribute}={self.value} {what} {self.score:.4f} (n={self.n})"


def read_groups(
    paths: Sequence[str] | None,
    *,
    pattern: str | None = None,
    csv: str | None = None,
    bins: Mapping[str, Sequence[float]] | None = None,
    root: str | None = None,
) -> tuple[list[dict[str, str]], Match]:
    """Per image of a split (``paths`` relative to the data folder) its groups, from file names (``pattern``) or
    a CSV; numeric attributes named in ``bins`` become bands. ``DataError`` when no image has a group."""
    if paths is None:
        raise DataError("worst-group selection needs an image folder (per-image paths); this data has none")
    if (pattern is None) == (csv is None):
        raise DataError("worst-group selection needs groups: pass a file-name regex or a CSV, not both or neither")
    attrs, match = attributes_from_names(pattern, paths) if pattern is not None else attributes_from_csv(
        csv, paths, root=root)  # fmt: skip
    for name, edges in (bins or {}).items():
        if not any(name in a for a in attrs):
            raise DataError(f"no group attribute named {name!r} to bin; the groups are: "
                            f"{', '.join(dict.fromkeys(k for a in attrs for k in a)) or 'none'}")  # fmt: skip
        attrs = bin_attribute(attrs, name, edges)
    if not any(attrs):
        raise DataError(f"none of the {len(paths):,} validation images has a group from {match.source}")
    return attrs, match


def worst_group(
    labels: np.ndarray,
    predicted: np.ndarray,
    attrs: Sequence[Mapping[str, str]],
    classes: Sequence[str],
    *,
    metric: str = "recall",
    min_group: int = MIN_GROUP,
) -> WorstGroup:
    """The lowest per-group score of predictions ``predicted`` against ``labels`` (see the module docstring)."""
    if metric not in SELECT_METRICS:
        raise DataError(f"select metric must be one of {', '.join(SELECT_METRICS)}, got {metric!r}")
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    if len(attrs) != len(labels):
        raise DataError(f"{len(attrs)} group rows for {len(labels)} images")
    correct = labels == predicted
    worst: WorstGroup | None = None
    for name in dict.fromkeys(k for a in attrs for k in a):
        values = np.array([a.get(name, "") or "" for a in attrs], dtype=object)
        for value in sorted({v for v in values if v}):
            member = values == value
            if metric == "accuracy":
                cells = [(None, member)]
            else:
                cells = [(cls, member & (labels == c)) for c, cls in enumerate(classes)]
            for cls, cell in cells:
                n = int(cell.sum())
                if n < min_group:
                    continue
                score = float(correct[cell].mean())
                if worst is None or score < worst.score:
                    worst = WorstGroup(score, name, value, cls, n)
    if worst is None:
        raise DataError(f"no group has {min_group} or more validation images"
                        f"{' of one class' if metric == 'recall' else ''}; lower the minimum group size")  # fmt: skip
    return worst


def worst_group_scorer(
    config: Config,
    classes: Sequence[str],
    split: Split,
    attrs: Sequence[Mapping[str, str]],
    *,
    metric: str = "recall",
    min_group: int = MIN_GROUP,
    on_score: Callable[[int, WorstGroup, dict], None] | None = None,
) -> Callable[[int, dict], float]:
    """A ``score_epoch`` hook for ``train_and_evaluate``: the epoch's worst-group score on ``split``.
    ``on_score(epoch, worst, variables)`` sees each result (to log it or keep a checkpoint). The split's groups
    are checked now, before any training, so a set without usable groups fails fast."""
    labels = np.asarray(split.labels)
    worst_group(labels, labels, attrs, classes, metric=metric, min_group=min_group)  # raises if no group counts

    def score_epoch(epoch: int, variables: dict) -> float:
        model = TrainedModel(config=config, classes=tuple(classes), variables=variables)
        predicted = model.predict(split.images, tta=False).argmax(axis=1)
        worst = worst_group(labels, predicted, attrs, classes, metric=metric, min_group=min_group)
        if on_score is not None:
            on_score(epoch, worst, variables)
        return worst.score

    return score_epoch
