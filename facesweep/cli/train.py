"""`facesweep train`: Train one CNN (a preset or explicit depth/width) and save it as an artifact."""

from __future__ import annotations

import argparse

from facesweep.cli.common import add_command
from facesweep.errors import UsageError

SUMMARY = "Train one CNN (a preset or explicit depth/width) and save it as an artifact"
EXAMPLES = """
    facesweep train --task emotion --preset seed-emotion-1 --data ~/fer2013 --epochs 30
"""


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "train", SUMMARY, EXAMPLES, run)


def run(args: argparse.Namespace) -> int:
    raise UsageError("'facesweep train' is not built yet")
