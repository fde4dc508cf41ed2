"""`facesweep live`: Camera or video -> per-face expression and gender, as live text in the terminal."""

from __future__ import annotations

import argparse

from facesweep.cli.common import add_command
from facesweep.errors import UsageError

SUMMARY = "Camera or video -> per-face expression and gender, as live text in the terminal"
EXAMPLES = """
    facesweep live --source 0
"""


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "live", SUMMARY, EXAMPLES, run)


def run(args: argparse.Namespace) -> int:
    raise UsageError("'facesweep live' is not built yet")
