"""`facesweep report`: answer 'does depth help?' and 'do epochs help?' from a study, with tables and plots.

A designed study (balanced depths, seed replicates) is answered from its replicates, with the seed noise beside
every verdict; a study without replicates gets the search-trial rules, labelled as unable to separate effects
from noise. The rules live in ``facesweep.report.rules``.

Thin: parse flags, call ``facesweep.report.build``, print (rich, or ``--json``), write ``--out``. Errors are
``StorageError``/``UsageError`` raised by the library and mapped to exit codes in ``facesweep.cli.main``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facesweep.cli.common import add_command, stderr_console, stdout_console
from facesweep.errors import UsageError

SUMMARY = "Answer 'does depth help?' and 'do epochs help?' from a study, with the seed noise in view"
EXAMPLES = """
    facesweep report                                   every study in ./facesweep.db, in the terminal
    facesweep report --out report/                     also report/report.md and PNG plots
    facesweep report --explain                         also each decision rule's full text under its answer
    facesweep report --study emotion-synthetic --json  one JSON object (schema: facesweep.report/3)
    facesweep report --test ~/fer2013/test             score the best model on a test folder
    facesweep report --storage postgresql://user:pw@db/facesweep
"""


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "report", SUMMARY, EXAMPLES, run)
    parser.add_argument("--storage", help="Optuna storage URL (default: sqlite:///WORKDIR/facesweep.db)")
    parser.add_argument("--study", nargs="+", action="extend", metavar="NAME",
                        help="studies to report (default: every study in the storage)")  # fmt: skip
    parser.add_argument("--out", type=Path, metavar="DIR", help="write DIR/report.md and PNG plots")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout instead of tables")
    parser.add_argument("--explain", action="store_true",
                        help="print each decision rule's full text under its answer (report.md always has them)")
    parser.add_argument("--test", metavar="PATH",
                        help="score the best model on this test folder/CSV instead of the validation split")
    parser.add_argument("--workdir", type=Path, default=Path("."), help="holds facesweep.db (default: .)")
    parser.add_argument("--no-eval", dest="evaluate", action="store_false",
                        help="skip loading the best model (no confusion matrix)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from facesweep.report.build import build_reports, write_outputs
    from facesweep.report.render import render_report
    from facesweep.report.schema import report_to_json
    from facesweep.sweep.storage import default_storage_url, redact

    test = Path(args.test).expanduser() if args.test is not None else None
    if test is not None and not test.exists():
        raise UsageError(f"--test {args.test}: no such file or folder")
    url = args.storage or default_storage_url(args.workdir)
    reports = build_reports(url, args.study, test=test, evaluate=args.evaluate)
    written = write_outputs(reports, args.out, storage=redact(url)) if args.out is not None else []
    if args.json:
        print(json.dumps(report_to_json(reports, redact(url)), indent=2))
        for path in written[:1]:
            stderr_console().print(f"wrote {path} and {len(written) - 1} plot(s)")
        return 0
    console = stdout_console()
    for report in reports:
        console.print(render_report(report, explain=args.explain))
    if written:
        console.print(f"wrote {written[0]} and {len(written) - 1} plot(s) in {args.out}")
    return 0
