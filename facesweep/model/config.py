"""The one frozen config: architecture + training. It is also what Optuna samples.

The sweep builds it with ``dataclasses.replace(base, depth=trial.suggest_int("depth", ...))``; parameter
names equal field names, so ``replace(base, **best_params)`` rebuilds the winner exactly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from facesweep.errors import ConfigError
from facesweep.tasks import Task, get_task

SCHEDULES = ("cosine", "plateau", "constant")
CLASS_WEIGHTINGS = ("none", "sqrt", "balanced")
MONITORS = ("val_accuracy", "val_macro_f1", "val_loss")


def parse_dense(value: Any) -> tuple[int, ...]:
    """Accept ``(256, 512)``, ``[256]``, ``"256,512"``, ``"256-512"``, ``"none"``/``""`` (no hidden layer)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "none", "0"):
            return ()
        try:
            return tuple(int(part) for part in text.replace("-", ",").split(",") if part.strip())
        except ValueError:
            raise ConfigError(f"dense must be comma-separated integers like '256,512', got {value!r}") from None
    if isinstance(value, int):
        return (value,) if value > 0 else ()
    return tuple(int(v) for v in value)


def knob(
    default: Any = dataclasses.MISSING,
    help: str = "",
    *,
    architecture: bool = False,
    searchable: bool = True,
    flag: str | None = None,
    metavar: str | None = None,
    choices: tuple[Any, ...] | None = None,
    default_factory: Any = dataclasses.MISSING,
    compare: bool = True,
) -> Any:
    """A ``Config`` field with its facts in ``metadata``, the one place they are stated (read them with
    ``architecture_fields()``, ``searchable_fields()``, ``flag_fields()``):

    - ``architecture``: changing it changes the network (``model.cnn`` builds from these fields only);
    - ``searchable``: a study may sample it (False: fixed by the task and data, or not a training knob);
    - ``flag`` / ``metavar`` / ``choices`` / ``help``: its ``facesweep train`` option (a bool ``--no-x`` flag sets
      the field to False).
    """
    metadata = {"help": help, "architecture": architecture, "searchable": searchable, "flag": flag,
                "metavar": metavar, "choices": choices}  # fmt: skip
    if default_factory is not dataclasses.MISSING:
        return field(default_factory=default_factory, compare=compare, hash=compare, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Config:
    # --- task / input: fixed by the task and the data, never searched ---
    task: str = knob("emotion", '"emotion" | "gender": picks classes and default input size', searchable=False)
    image_size: int = knob(48, "input side in pixels (default: the task's)", architecture=True, searchable=False,
                           flag="--image-size", metavar="PX")  # fmt: skip
    channels: int = knob(1, "1 = grayscale, 3 = RGB (default: the task's)", architecture=True, searchable=False,
                         flag="--channels", choices=(1, 3))  # fmt: skip
    num_classes: int = knob(7, "output units", architecture=True, searchable=False)
    # --- architecture ---
    depth: int = knob(3, "conv blocks; each halves H and W with a 2x2 max-pool", architecture=True,
                      flag="--depth", metavar="N")  # fmt: skip
    width: int = knob(32, "channels of the first block", architecture=True, flag="--width", metavar="W")
    growth: float = knob(2.0, "channel multiplier from one block to the next", architecture=True, flag="--growth",
                         metavar="G")  # fmt: skip
    max_width: int = knob(512, "cap on channels per block", architecture=True, flag="--max-width", metavar="W")
    convs_per_block: int = knob(1, "3x3 convs (each + batch norm + ReLU) before the pool", architecture=True,
                                flag="--convs-per-block", metavar="N")  # fmt: skip
    dense: tuple[int, ...] = knob((128,), "dense head units in order, e.g. 256,512 ('none' = global pool -> logits)",
                                  architecture=True, flag="--dense", metavar="UNITS")  # fmt: skip
    conv_dropout: float = knob(0.1, "dropout after each block's pool", architecture=True, flag="--conv-dropout",
                               metavar="P")  # fmt: skip
    dropout: float = knob(0.3, "dropout before each dense layer", architecture=True, flag="--dropout", metavar="P")
    # --- training ---
    epochs: int = knob(10, "full passes over the training split", flag="--epochs", metavar="E")
    batch_size: int = knob(64, "images per step; the last partial batch is dropped", flag="--batch-size",
                           metavar="B")  # fmt: skip
    learning_rate: float = knob(1e-3, "peak AdamW learning rate", flag="--lr", metavar="X")
    weight_decay: float = knob(1e-4, "AdamW decoupled weight decay", flag="--weight-decay", metavar="X")
    schedule: str = knob("cosine", "learning-rate schedule: cosine (one warm-up epoch, then cosine to 0), plateau or "
                         "constant", flag="--schedule", choices=SCHEDULES)  # fmt: skip
    augment: bool = knob(True, "on-device flip/shift/scale/rotation/brightness/contrast jitter (--no-augment: none)",
                         flag="--no-augment")  # fmt: skip
    camera_augment: bool = knob(False, "with augment: also blur, resolution loss, noise, gamma and colour jitter, as "
                                "webcams and detector crops show faces", flag="--camera-augment")  # fmt: skip
    patience: int = knob(0, "early-stopping patience in epochs on the monitored metric (0 = off)", flag="--patience",
                         metavar="P")  # fmt: skip
    monitor: str = knob("val_accuracy", "metric for early stopping / best epoch", flag="--monitor", choices=MONITORS)
    class_weighting: str = knob("none", "loss weight per class: 'balanced' = 1/frequency, 'sqrt' = 1/sqrt(frequency)",
                                flag="--class-weighting", choices=CLASS_WEIGHTINGS)  # fmt: skip
    label_smoothing: float = knob(0.0, "softmax cross-entropy label smoothing", flag="--label-smoothing", metavar="X")
    dense_lr_ref: int = knob(1024, "dense kernels' Adam updates scaled by min(1, sqrt(REF / fan-in)), so one step "
                             "cannot push every head unit below zero (a large flatten, e.g. 24x24x16 after depth "
                             "1, killed the head and left a seed at chance); 0 = off", flag="--dense-lr-ref",
                             metavar="REF")  # fmt: skip
    seed: int = knob(0, "parameter init, dropout, augmentation and shuffling seed", flag="--seed", metavar="S")
    extra: dict = knob(help="free-form notes, not used by training", searchable=False, default_factory=dict,
                       compare=False)  # fmt: skip

    def __post_init__(self) -> None:
        object.__setattr__(self, "dense", parse_dense(self.dense))

    # -- derived -------------------------------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, self.channels)

    def block_widths(self) -> tuple[int, ...]:
        return tuple(min(self.max_width, int(round(self.width * self.growth**i))) for i in range(self.depth))

    # -- (de)serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["dense"] = list(self.dense)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(unknown)}")
        return cls(**data)

    # -- validation ----------------------------------------------------------------------------------
    def validate(self) -> Config:
        """Check every field once, before anything compiles; return self for chaining."""
        max_depth = max_depth_for(self.image_size)
        if not 1 <= self.depth <= max_depth:
            raise ConfigError(
                f"depth must be 1..{max_depth} for {self.image_size}x{self.image_size} input "
                f"(each block halves it), got depth={self.depth}"
            )
        checks = [
            (self.channels in (1, 3), f"channels must be 1 or 3, got channels={self.channels}"),
            (self.num_classes >= 2, f"num_classes must be >= 2, got num_classes={self.num_classes}"),
            (1 <= self.width <= 1024, f"width must be 1..1024, got width={self.width}"),
            (self.growth >= 1.0, f"growth must be >= 1, got growth={self.growth}"),
            (1 <= self.convs_per_block <= 4, f"convs_per_block must be 1..4, got {self.convs_per_block}"),
            (all(u > 0 for u in self.dense), f"dense units must be positive, got dense={self.dense}"),
            (0 <= self.conv_dropout < 1, f"conv_dropout must be in [0, 1), got {self.conv_dropout}"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.epochs >= 1, f"epochs must be >= 1, got epochs={self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got batch_size={self.batch_size}"),
            (0 < self.learning_rate < 1, f"learning_rate must be in (0, 1), got {self.learning_rate}"),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"),
            (self.patience >= 0, f"patience must be >= 0, got patience={self.patience}"),
            (self.monitor in MONITORS, f"monitor must be one of {', '.join(MONITORS)}, got {self.monitor!r}"),
            (
                self.class_weighting in CLASS_WEIGHTINGS,
                f"class_weighting must be one of {', '.join(CLASS_WEIGHTINGS)}, got {self.class_weighting!r}",
            ),
            (0 <= self.label_smoothing < 1, f"label_smoothing must be in [0, 1), got {self.label_smoothing}"),
            (self.dense_lr_ref >= 0, f"dense_lr_ref must be >= 0 (0 = off), got {self.dense_lr_ref}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        return self


def _fields_where(key: str) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(Config) if f.metadata.get(key))


def architecture_fields() -> tuple[str, ...]:
    """The ``Config`` fields that change the network; everything else is training."""
    return _fields_where("architecture")


def searchable_fields() -> tuple[str, ...]:
    """The ``Config`` fields a study may sample (the rest are fixed by the task and data)."""
    return _fields_where("searchable")


def flag_fields() -> tuple[dataclasses.Field, ...]:
    """The ``Config`` fields with a ``facesweep train`` flag, in field order (``field.metadata`` has the rest)."""
    return tuple(f for f in dataclasses.fields(Config) if f.metadata.get("flag"))


def max_depth_for(image_size: int) -> int:
    """Blocks that fit: each halves the side, and the last feature map must stay >= 1 pixel."""
    depth = 0
    while image_size >= 2:
        image_size //= 2
        depth += 1
    return depth


def config_for_task(task: Task | str, **overrides: Any) -> Config:
    """A default config whose input matches ``task`` (a preset name or a ``Task``)."""
    task = get_task(task) if isinstance(task, str) else task
    base = dict(task=task.name, image_size=task.image_size, channels=task.channels, num_classes=len(task.classes))
    if task.name == "gender":
        base.update(depth=4)
    base.update(overrides)
    return Config(**base)


def tiny(task: str = "emotion", **overrides: Any) -> Config:
    """A seconds-to-train config for tests: 2 small blocks, 1 epoch."""
    base = dict(depth=2, width=8, dense=(16,), epochs=1, batch_size=32, augment=False, conv_dropout=0.0, dropout=0.0)
    base.update(overrides)
    return config_for_task(task, **base)
