"""`facesweep study`: Optuna sweep over depth, epochs and more; resumable, SQLite or PostgreSQL."""

from __future__ import annotations

import argparse

from facesweep.cli.common import add_command
from facesweep.errors import UsageError

SUMMARY = "Optuna sweep over depth, epochs and more; resumable, SQLite or PostgreSQL"
EXAMPLES = """
    facesweep study --trials 30
"""


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "study", SUMMARY, EXAMPLES, run)


def run(args: argparse.Namespace) -> int:
    raise UsageError("'facesweep study' is not built yet")
