"""`facesweep data`: Show class counts, shares and image sizes of a dataset (the report's EDA)."""

from __future__ import annotations

import argparse

from facesweep.cli.common import add_command
from facesweep.errors import UsageError

SUMMARY = "Show class counts, shares and image sizes of a dataset (the report's EDA)"
EXAMPLES = """
    facesweep data
    facesweep data --data ~/fer2013 --json
"""


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "data", SUMMARY, EXAMPLES, run)


def run(args: argparse.Namespace) -> int:
    raise UsageError("'facesweep data' is not built yet")
