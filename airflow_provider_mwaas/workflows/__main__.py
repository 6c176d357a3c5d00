"""``python -m airflow_provider_mwaas.workflows check [--import-operators] [--strict] FILE...``

Prints one ``file:line: severity: reason`` line per finding and exits 1 when any definition has an
error (or, with ``--strict``, a warning), 0 otherwise; 2 on a usage error. No network, no AWS.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from airflow_provider_mwaas.deploy.definition_check import ERROR, check_file


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """The command line; returns the exit status."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_mwaas.workflows",
        description="Check MWAA Serverless workflow definitions offline, before deploying them.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="check YAML workflow definitions")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument(
        "--import-operators",
        action="store_true",
        help="also import each task's operator class (needs the workflow's providers installed)",
    )
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    args = parser.parse_args(argv)

    failed = False
    for path in args.files:
        findings = check_file(path, import_operators=args.import_operators)
        for finding in findings:
            print(finding, file=out)
        failed |= any(f.severity == ERROR or args.strict for f in findings)
    if not failed:
        print(f"{len(args.files)} workflow definition(s) OK", file=out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
