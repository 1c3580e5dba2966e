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


def add_rule_param_argument(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--rule-param",
        action="append",
        default=[],
        metavar="ID.NAME=VALUE",
        help="set a rule parameter (the thresholds listed on each rule's page), repeatable. "
        "Example: --rule-param AOAI-OBS-002.max_client_error_percent=5",
    )


def _value(text: str) -> Any:
    """A parameter value as YAML would read it: a number, true/false, else the text."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text.strip()


def rule_param_overrides(values: list[str]) -> dict[str, dict[str, Any]]:
    """`--rule-param ID.NAME=VALUE` values as rule id -> name -> value; a malformed one is an InputError."""
    found: dict[str, dict[str, Any]] = {}
    for raw in values:
        match = re.fullmatch(r"(?P<id>[A-Z][A-Z0-9-]*)\.(?P<name>[a-z][a-z0-9_]*)=(?P<value>.+)", raw.strip())
        if match is None:
            raise InputError(f"--rule-param {raw!r}: write RULE-ID.NAME=VALUE, e.g. AOAI-OBS-002.min_requests=500")
        found.setdefault(match["id"], {})[match["name"]] = _value(match["value"])
    return found


def check_overrides(overrides: Mapping[str, Mapping[str, Any]], rule_ids: set[str]) -> None:
    """Every overridden rule exists (a typo in a rule id would otherwise be ignored)."""
    for rule_id in sorted(overrides):
        if rule_id not in rule_ids:
            raise InputError(f"--rule-param {rule_id}: no rule has this id")
