"""The report's architectures as named ``Config`` presets (``facesweep train --preset NAME``).

Widths follow the original report where it gave them (expression model 1: blocks 64/128/256/512, dense
256 and 512); elsewhere they are a 64-channel start doubling per block, capped at 512.
"""

from __future__ import annotations

from facesweep.errors import ConfigError
from facesweep.model.config import Config, config_for_task

PRESETS: dict[str, Config] = {
    # Expression model 1: 4 conv blocks 64/128/256/512, dense 256 then 512.
    "seed-emotion-1": config_for_task(
        "emotion", depth=4, width=64, growth=2.0, dense=(256, 512), conv_dropout=0.25, dropout=0.25
    ),
    # Expression model 2: 3 conv blocks + 1 dense.
    "seed-emotion-2": config_for_task("emotion", depth=3, width=64, growth=2.0, dense=(256,), conv_dropout=0.25),
    # Expression model 3: 2 conv blocks + 1 dense.
    "seed-emotion-3": config_for_task("emotion", depth=2, width=64, growth=2.0, dense=(256,), conv_dropout=0.25),
    # Gender: 6 conv blocks on 96x96 RGB (96 -> 1 pixel after 6 halvings) + 1 dense.
    "seed-gender": config_for_task(
        "gender", depth=6, width=32, growth=2.0, max_width=256, dense=(128,), conv_dropout=0.2
    ),
}


def get_preset(name: str) -> Config:
    """The preset ``name``; ``ConfigError`` listing the valid names otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
