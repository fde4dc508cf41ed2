"""Helpers shared by the command modules: subcommand registration, consoles, common flags."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable

from rich.console import Console


def add_command(
    sub: argparse._SubParsersAction,
    name: str,
    summary: str,
    examples: str,
    run: Callable[[argparse.Namespace], int],
) -> argparse.ArgumentParser:
    """Register one subcommand with a one-line summary, an examples epilog and its ``run`` function."""
    parser = sub.add_parser(
        name,
        help=summary,
        description=summary,
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip("\n"), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", dest="sub_debug", action="store_true", help="show tracebacks for errors")
    parser.set_defaults(run=run)
    return parser


def stdout_console() -> Console:
    return Console(highlight=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)
