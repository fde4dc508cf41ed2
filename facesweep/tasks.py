"""The two tasks facesweep knows: class names, input size and channels."""

from __future__ import annotations

from dataclasses import dataclass, replace

from facesweep.errors import ConfigError

# FER-2013's label order (the CSV's `emotion` column 0..6).
EMOTION_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
GENDER_CLASSES: tuple[str, ...] = ("man", "woman")


@dataclass(frozen=True)
class Task:
    name: str  # "emotion" or "gender"
    classes: tuple[str, ...]  # canonical class order; label i means classes[i]
    image_size: int  # pixels a side; images are square
    channels: int  # 1 = grayscale, 3 = RGB

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, self.channels)


TASKS: dict[str, Task] = {
    "emotion": Task("emotion", EMOTION_CLASSES, 48, 1),
    "gender": Task("gender", GENDER_CLASSES, 96, 3),
}


def get_task(name: str, image_size: int | None = None, channels: int | None = None) -> Task:
    """Return the task preset ``name``, with size and channels optionally overridden."""
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; choose one of: {', '.join(TASKS)}")
    task = TASKS[name]
    if image_size is not None:
        if not 16 <= image_size <= 512:
            raise ConfigError(f"image size must be 16..512 pixels, got {image_size}")
        task = replace(task, image_size=image_size)
    if channels is not None:
        if channels not in (1, 3):
            raise ConfigError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")
        task = replace(task, channels=channels)
    return task
