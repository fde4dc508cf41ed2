"""Folder names -> task class indices (case-insensitive, with the common spellings of each class)."""

from __future__ import annotations

from facesweep.tasks import Task

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
