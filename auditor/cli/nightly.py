"""The nightly report's flags (`--history`, `--history-scope`, `--owner-tag`) and `audit history import`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.cli.config import path_or_url
from auditor.model.errors import InputError
from auditor.pipeline.nightly import DEFAULT_OWNER_TAGS

if TYPE_CHECKING:
    from auditor.history.store import HistoryStore
    from auditor.model.results import Report


def add_nightly_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the nightly report: history, trends, owners")
    group.add_argument(
        "--history",
        type=path_or_url,
        metavar="URL",
        help="record this run in a history store and show trends in the report: a file path (SQLite, created "
        "when missing) or a PostgreSQL URL shared by a team. Examples: --history audit-history.sqlite, "
        "--history postgresql://auditor@db.example.com/audits",
    )
    group.add_argument(
        "--history-scope",
        default="default",
        metavar="NAME",
        help="the series this run belongs to in the store (runs are compared with earlier runs of the same "
        "scope; each --shard is its own series). Default: default",
    )
    group.add_argument(
        "--owner-tag",
        action="append",
        default=[],
        metavar="TAG",
        help="an Azure tag naming a finding's owner, on the deployment or its account; repeat for fallbacks "
        f"(default: {', '.join(DEFAULT_OWNER_TAGS)}). Example: --owner-tag cost-center",
    )


def open_history(args: argparse.Namespace) -> HistoryStore | None:
    """Opened (and upgraded) before any Azure call, so a store that cannot be used is exit 2 at once."""
    if not args.history:
        return None
    from auditor.history.store import open_store

    return open_store(args.history)


def with_nightly(report: Report, args: argparse.Namespace, store: HistoryStore | None) -> Report:
    from auditor.pipeline.nightly import nightly_view

    kb = None
    if store is not None:  # the families of the deployed models, for the history's per-family counts
        from auditor.knowledge.base import load_knowledge

        kb = load_knowledge()
    try:
        return nightly_view(
            report,
            owner_tags=tuple(args.owner_tag) or DEFAULT_OWNER_TAGS,
            history=store,
            scope=args.history_scope,
            kb=kb,
        )
    finally:
        if store is not None:
            store.close()


def run_history(argv: Sequence[str]) -> int:
    """`audit history import REPORT.json... --history URL`: back-fill a store from existing reports (a single
    run's or a merged one's), oldest first."""
    parser = argparse.ArgumentParser(
        prog="audit history",
        description="Back-fill a history store from report.json files of earlier runs (single or merged), so the "
        "trends start with the history you already have. Reports are recorded in the order of their generated_at.",
    )
    parser.add_argument("action", choices=["import"], help="import: record each report as a run")
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json")
    parser.add_argument("--history", required=True, metavar="URL", help="the store: a file path or a PostgreSQL URL")
    parser.add_argument("--history-scope", default="default", metavar="NAME", help="the series (default: default)")
    parser.add_argument("--owner-tag", action="append", default=[], metavar="TAG", help="owner tags (repeatable)")
    args = parser.parse_args(argv[1:])
    from auditor.gating.merge import merge_reports
    from auditor.history.store import open_store
    from auditor.pipeline.nightly import nightly_view

    reports = []
    for path in args.reports:
        if not path.is_file():
            raise InputError(f"{path}: no such report.json")
        reports.append(merge_reports([path]))
    reports.sort(key=lambda r: r.generated_at)
    from auditor.knowledge.base import load_knowledge

    kb = load_knowledge()
    store = open_store(args.history)
    try:
        for path, report in zip(args.reports, reports, strict=True):
            recorded = nightly_view(
                report,
                owner_tags=tuple(args.owner_tag) or DEFAULT_OWNER_TAGS,
                history=store,
                scope=args.history_scope,
                kb=kb,
            )
            assert recorded.nightly is not None and recorded.nightly.trends is not None
            sys.stdout.write(
                f"recorded {report.generated_at.isoformat()} as run {recorded.nightly.trends.recorded_run} "
                f"({'complete' if report.complete else 'incomplete'}) from {path}\n"
            )
    finally:
        store.close()
    return 0
