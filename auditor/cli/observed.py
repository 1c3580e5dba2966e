"""The observed contract's flags: --observed DAYS (the Azure Monitor window; turns --monitor on) and
--logs-workspace ID (a Log Analytics workspace with the accounts' RequestResponse logs; also from the environment
variable AUDITOR_LOGS_WORKSPACE, so a pipeline sets it once)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from typing import Any

from auditor.model.errors import InputError

LOGS_WORKSPACE_ENV = "AUDITOR_LOGS_WORKSPACE"
MAX_DAYS = 93
"""Azure Monitor keeps platform metrics for 93 days (Azure Monitor Metrics overview, retention)."""
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def add_observed_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--observed",
        type=int,
        default=None,
        metavar="DAYS",
        help="read who calls each deployment from Azure Monitor (AzureOpenAIRequests by operation, stream type and "
        f"status) over the last DAYS days (1-{MAX_DAYS}; default 7 with --monitor); implies --monitor. "
        "Example: --observed 14",
    )
    group.add_argument(
        "--logs-workspace",
        default=None,
        metavar="ID",
        help="a Log Analytics workspace id (customer id) holding the accounts' RequestResponse logs: the api-version "
        f"each operation used is read from it (read-only KQL, bounded). Default: ${LOGS_WORKSPACE_ENV}. "
        "Example: --logs-workspace 4b1c2d3e-0000-4000-8000-0000000000a1",
    )


def observed_options(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, Any]:
    """AuditOptions fields from the flags; a bad value is an InputError naming it."""
    days = args.observed
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise InputError(f"--observed {days}: give a number of days from 1 to {MAX_DAYS}")
    workspace = args.logs_workspace or environ.get(LOGS_WORKSPACE_ENV) or None
    if workspace is not None and not _GUID.match(workspace.strip()):
        raise InputError(
            f"--logs-workspace {workspace!r}: give the workspace's id (a GUID, its customerId), e.g. "
            "4b1c2d3e-0000-4000-8000-0000000000a1"
        )
    return {
        "observed_days": days or 7,
        "logs_workspace": workspace.strip().lower() if workspace else None,
        "monitor": days is not None or bool(args.logs_workspace),
    }
