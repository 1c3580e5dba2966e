"""What one run audits, as data (the CLI's flags), and where it reports progress: shared by the pipeline's
I/O half (gather.py) and by run.py, which composes the whole job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from auditor.model.enums import Discovery

if TYPE_CHECKING:
    from auditor.engine.upgrade import WhatIf
    from auditor.probes import ProbeOptions


@dataclass(frozen=True)
class AuditOptions:
    """What to audit and with which inputs (the CLI's flags, as data)."""

    resources: tuple[str, ...] = ()
    all_accounts: bool = False
    subscriptions: tuple[str, ...] = ()
    resource_group: str | None = None
    contract: Path | None = None
    concurrency: int = 8
    select: tuple[str, ...] = field(default=())
    ignore: tuple[str, ...] = field(default=())
    ruleset: str | None = None
    discovery: Discovery = Discovery.AUTO
    contract_from: Path | None = None
    """Derive the contract from the app's Python source (auditor/sources/scan/) instead of a file."""
    scan_allow_unread: bool = False
    """Files of the app the scan could not read are not gaps (--scan-allow-unread); they are still listed."""
    contract_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The audit's environment, for contract deployment names written env:NAME."""
    timeout: float | None = None
    """Seconds the whole run may take (--timeout); what was read by then is reported, the rest is a gap."""
    plan: Path | None = None
    """A plan file (YAML, ARM/Bicep JSON, Terraform plan JSON) whose deployments are checked before they exist."""
    probe: ProbeOptions | None = None
    """Live probes of the data plane (None: no probes)."""
    monitor: bool = False
    """Read Azure Monitor too: each account's diagnostic settings, per-deployment activity, and who calls each
    deployment (the observed contract, auditor/sources/traffic.py). A policy that needs them (`diagnostic_logs`)
    turns this on by itself (auditor/pipeline/run.py)."""
    observed_days: int = 7
    """The look-back window of the Azure Monitor reads, in days (--observed DAYS)."""
    logs_workspace: str | None = None
    """A Log Analytics workspace (customer id) holding the accounts' RequestResponse logs (--logs-workspace)."""
    policy: Path | None = None
    """An organisation policy file (auditor/engine/policy.py): its statements become rules in the `policy` category."""
    what_if: tuple[WhatIf, ...] = ()
    """`--what-if DEPLOYMENT=MODEL[:VERSION]`: audit as if those deployments ran another model."""
    shard: tuple[int, int] | None = None
    """Audit only the accounts of shard K of N (auditor/gating/shard.py); None: every account."""
    waivers: Path | None = None
    """A waivers file (auditor/gating/waivers.py), applied to the final report."""
    baseline: Path | None = None
    """A previous report.json: the final report marks drift against it (auditor/gating/drift.py)."""
    knowledge: Path | None = None
    """The user's knowledge-base overlay (`--knowledge`), layered over the packaged knowledge base."""
    docs_url: str | None = None
    """Where rule links point (`--docs-url`); None: the Documentation URL the package declares."""


class Progress(Protocol):
    """Where long runs report how far they are (the CLI shows a bar); the default reports nowhere."""

    def add(self, total: int, what: str) -> None: ...

    def advance(self, what: str) -> None: ...


class NoProgress:
    """Progress reported nowhere."""

    def add(self, total: int, what: str) -> None:
        return None

    def advance(self, what: str) -> None:
        return None
