"""`audit merge`: the command-line side of auditor/gating/merge.py (arguments, printing, exit code)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from auditor.model.errors import InputError

EXAMPLES = """\
examples:
  audit merge shards/*/report.json --out audit-report
  audit merge a/report.json b/report.json --out merged --fail-on warning --format html,json

Each shard is a run of `audit --all --shard K/N --format json` (see the nightly workflow example). The rule
sets and knowledge bases must match; a missing shard makes the merged audit incomplete (exit 3).
"""


def run_merge(argv: Sequence[str]) -> int:
    from auditor.cli.console import console_lines, terminal_style
    from auditor.cli.nightly import add_nightly_arguments, open_history, with_nightly
    from auditor.gating.drift import load_baseline
    from auditor.gating.merge import merge_reports
    from auditor.gating.verdict import gate, parse_fail_on
    from auditor.pipeline.audit import finish
    from auditor.render import check_out_dir, parse_formats, write_reports
    from auditor.render.json_report import PASSES, passes_form

    parser = argparse.ArgumentParser(
        prog="audit merge",
        description="Write one set of reports (HTML, JUnit, JSON, SARIF, Markdown) from the report.json files of "
        "shard runs (--shard K/N), with the gate and exit code computed on the merged result.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json", help="the shards' report.json files")
    parser.add_argument("--out", type=Path, default=Path("audit-report"), metavar="DIR", help="default ./audit-report")
    parser.add_argument("--format", default="all", metavar="LIST", help="as for audit (default all)")
    parser.add_argument("--fail-on", default="error", metavar="LEVEL", help="error (default), warning, info or never")
    parser.add_argument("--passes", default="auto", metavar="FORM", help="auto (default), summary or full")
    parser.add_argument(
        "--baseline", type=Path, metavar="FILE", help="last run's (merged) report.json: drift over the whole tenant"
    )
    parser.add_argument("--quiet", action="store_true", help="print only errors")
    add_nightly_arguments(parser)
    args = parser.parse_args(argv[1:])
    args.fail_on = parse_fail_on(args.fail_on)
    if args.passes not in PASSES:
        raise InputError(f"unknown --passes value {args.passes!r}: choose auto, summary or full")
    formats = parse_formats(args.format)
    check_out_dir(args.out)
    baseline = load_baseline(args.baseline) if args.baseline else None
    history = open_history(args)
    report = merge_reports(args.reports)
    if baseline is not None:
        report = finish(report, baseline=baseline)
    report = replace(report, fail_on=args.fail_on, passes=passes_form(args.passes, report))
    report = with_nightly(report, args, history)
    paths = write_reports(report, args.out, formats)
    if not args.quiet:
        print(f"Merged {len(args.reports)} report(s).")
        for line in console_lines(report, paths, args.fail_on, terminal_style(sys.stdout)):
            print(line)
    return gate(report, args.fail_on)
