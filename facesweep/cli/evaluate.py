"""`facesweep evaluate`: Accuracy, macro-F1, per-class table and confusion matrix of a saved model."""

from __future__ import annotations

import argparse

from facesweep.cli.common import add_command
from facesweep.errors import UsageError

SUMMARY = "Accuracy, macro-F1, per-class table and confusion matrix of a saved model"
EXAMPLES = """
    facesweep evaluate --model runs/emotion/best --data ~/fer2013 --split val --json
"""


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "evaluate", SUMMARY, EXAMPLES, run)


def run(args: argparse.Namespace) -> int:
    raise UsageError("'facesweep evaluate' is not built yet")
