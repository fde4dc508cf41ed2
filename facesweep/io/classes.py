"""Folder names -> task class indices (case-insensitive, with the common spellings of each class)."""

from __future__ import annotations

from collections.abc import Iterable

from facesweep.tasks import TASKS, Task

# Extra names seen in public face datasets; the canonical name of each class always matches too.
ALIASES: dict[str, tuple[str, ...]] = {
    "angry": ("anger", "mad"),
    "disgust": ("disgusted", "disgusting"),
    "fear": ("fearful", "afraid", "scared"),
    "happy": ("happiness", "joy"),
    "sad": ("sadness",),
    "surprise": ("surprised",),
    "neutral": ("neutrality",),
    "man": ("men", "male", "males", "m"),
    "woman": ("women", "female", "females", "f", "w"),
}


def class_index(task: Task, name: str) -> int | None:
    """Index of folder ``name`` in ``task.classes``, or ``None`` when it names none of them."""
    key = name.strip().lower()
    for index, cls in enumerate(task.classes):
        if key == cls or key in ALIASES.get(cls, ()):
            return index
    return None


def suggest_task(task: Task, names: Iterable[str]) -> str | None:
    """The name of another task whose classes match more of the folder ``names`` than ``task``'s do (all of them,
    or else the most), for a "did you mean --task gender?" hint; ``None`` when no other task fits better."""
    names = list(names)

    def matched(t: Task) -> int:
        return sum(class_index(t, n) is not None for n in names)

    own = matched(task)
    best = max((t for t in TASKS.values() if t.name != task.name), key=matched, default=None)
    return best.name if best is not None and matched(best) > own else None
