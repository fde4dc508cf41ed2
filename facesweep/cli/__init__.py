"""The ``facesweep`` command: parse arguments, call one library function, render, return an exit code.

Every ``FacesweepError`` becomes one line on stderr and its ``exit_code`` here, and only here;
``--debug`` adds the traceback. Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from facesweep import __version__
from facesweep.cli import data, evaluate, export, live, report, study, train
from facesweep.errors import FacesweepError

COMMANDS = (data, train, evaluate, export, study, report, live)

EPILOG = """examples:
  facesweep study --trials 30                       sweep depth x epochs on the built-in synthetic faces
  facesweep report --out report/                    answer "does depth help?" and "do epochs help?"
  facesweep live --source 0                         camera -> per-face expression and gender, as text
  facesweep data --data ~/fer2013                   class counts and image sizes of a dataset
  facesweep train --preset seed-emotion-1 --data ~/fer2013 --epochs 30
  facesweep evaluate --model runs/x/best --data ~/fer2013 --split val --json
  facesweep export --model pretrained:emotion --out emotion.onnx
"""


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (not the whole usage) on a bad argument."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="facesweep",
        description="Sweep depth and epochs of small face CNNs (expression, gender); live predictions as text.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"facesweep {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    debug = args.debug or getattr(args, "sub_debug", False)
    try:
        return int(args.run(args) or 0)
    except FacesweepError as exc:
        if debug:
            traceback.print_exc()
        print(f"facesweep {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"facesweep {args.command}: interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
