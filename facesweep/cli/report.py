"""`facesweep report`: Answer 'does depth help?' and 'do epochs help?' from a study, with tables and plots."""

from __future__ import annotations

import argparse

from facesweep.cli.common import add_command
from facesweep.errors import UsageError

SUMMARY = "Answer 'does depth help?' and 'do epochs help?' from a study, with tables and plots"
EXAMPLES = """
    facesweep report --out report/
"""


def register(sub: argparse._SubParsersAction) -> None:
    add_command(sub, "report", SUMMARY, EXAMPLES, run)


def run(args: argparse.Namespace) -> int:
    raise UsageError("'facesweep report' is not built yet")
