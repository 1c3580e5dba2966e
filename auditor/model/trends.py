"""What the nightly report says beyond one night: the plain-language headline, each target's owner, the
changes Azure has scheduled (retirements and auto-upgrades), and, with a history store, the trends over past runs.

Computed by the pipeline (auditor/pipeline/nightly.py, auditor/history/) and carried on the Report, so the
renderers only draw them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

UNOWNED = "unowned"


@dataclass(frozen=True)
class ScheduledChange:
    """A date on which Azure changes what a deployment runs: the version retires (calls fail from then on) or
    Azure upgrades it to another model version."""

    date: str
    """ISO date."""
    kind: str
    """`retires` (nothing replaces it: the deployment stops answering) or `auto-upgrade` (Azure moves it)."""
    account_id: str
    account_name: str
    deployment: str
    model_name: str | None
    model_version: str | None
    replacement: str | None
    source: str | None
    rule_docs: str | None = None
    """The page of the rule that reports it (AOAI-LIFE-001), for the calendar event's link."""


@dataclass(frozen=True)
class OwnerRow:
    """One owner's share of the report: what to hand to whom."""

    owner: str
    deployments: int
    error: int
    warning: int
    info: int
    unknown: int
    waived: int
    scheduled: int
    """Deployments of theirs that retire or are auto-upgraded within the calendar's horizon."""


@dataclass(frozen=True)
class RunPoint:
    """One recorded run, as the trend pictures need it."""

    run: int
    at: str
    """ISO date-time the report was generated."""
    complete: bool
    failing_by_severity: Mapping[str, int]
    failing_by_category: Mapping[str, int]
    new: int | None
    """Failing findings that the previous recorded run did not have (None for the first run)."""
    resolved: int | None
    deployments_by_model: Mapping[str, int]
    """`model version` -> deployments running it."""
    deployments_by_family: Mapping[str, int]
    """Model family (the knowledge base's; the model's name where it names none) -> deployments."""
    quota_max_percent: float | None
    quota_lines_over_80: int


@dataclass(frozen=True)
class TimeToFix:
    """How long a rule's failing findings stayed open before a run no longer had them."""

    rule_id: str
    fixed: int
    median_days: float
    longest_days: float
    still_open: int
    oldest_open_days: float


@dataclass(frozen=True)
class Trends:
    """The last runs of a history store, oldest first (this run last)."""

    store: str
    """The store, as configured, with any password removed."""
    runs: tuple[RunPoint, ...]
    time_to_fix: tuple[TimeToFix, ...] = ()
    recorded_run: int | None = None
    """This run's number in the store."""


@dataclass(frozen=True)
class Nightly:
    """The manager's view of one report: headline sentences, owners and Azure's scheduled changes."""

    headline: tuple[str, ...] = ()
    owners: Mapping[str, str] = field(default_factory=dict)
    """Target id (account or deployment ARM id, lower case) -> owner from the configured tags."""
    owner_tags: tuple[str, ...] = ()
    families: Mapping[str, str] = field(default_factory=dict)
    """Model name (lower case) -> its family, for the history's per-family counts."""
    scheduled: tuple[ScheduledChange, ...] = ()
    by_owner: tuple[OwnerRow, ...] = ()
    """Owners with the most failing errors first; `unowned` last."""
    trends: Trends | None = None

    def owner_of(self, target: str, account_id: str | None) -> str:
        """A finding's owner: its deployment's (or account's) tag, else its account's, else `unowned`."""
        return self.owners.get(target.lower()) or self.owners.get((account_id or "").lower()) or UNOWNED
