"""The nightly view of a finished report: a headline in plain language, each target's owner (from the
configured tags), the changes Azure has scheduled, and, with `--history`, the run recorded and the trends read back.

Pure except for the history store, which is written and read here (auditor/history/store.py) so that the
renderers only draw what the report carries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from auditor.model.results import Report, RetirementRow, Severity, Status, TargetStatus
from auditor.model.trends import UNOWNED, Nightly, OwnerRow, ScheduledChange, Trends

if TYPE_CHECKING:
    from auditor.history.store import HistoryStore
    from auditor.knowledge.base import KnowledgeBase

DEFAULT_OWNER_TAGS = ("owner", "team")
HORIZON_DAYS = 365
"""How far ahead the retirement calendar and the headline look."""
HEADLINE_DAYS = 90
AUTO_UPGRADES = {"onceCurrentVersionExpired", "onceNewDefaultVersionAvailable"}
_LIFECYCLE_RULE = "AOAI-LIFE-001"


_NO_REPLACEMENT = {"", "none", "—", "-", "n/a"}


def _replacement(row: RetirementRow) -> str | None:
    """The schedule writes 'none' (or a dash) where no model replaces a version: that is no replacement."""
    value = (row.replacement or "").strip()
    return None if value.lower() in _NO_REPLACEMENT else value


def _kind(row: RetirementRow) -> str:
    """Azure moves a deployment whose upgrade option lets it, when a replacement is known; otherwise the
    version's retirement is the day its calls start failing."""
    option = (row.version_upgrade_option or "").lower()
    if _replacement(row) and option in {o.lower() for o in AUTO_UPGRADES}:
        return "auto-upgrade"
    return "retires"


def scheduled_changes(report: Report, *, horizon_days: int = HORIZON_DAYS) -> tuple[ScheduledChange, ...]:
    """Retirements and auto-upgrades of deployed versions from today up to the horizon, soonest first."""
    docs = next((r.docs for r in report.rules if r.id == _LIFECYCLE_RULE), None)
    changes = [
        ScheduledChange(
            date=str(r.retirement_date),
            kind=_kind(r),
            account_id=r.account_id,
            account_name=r.account_name,
            deployment=r.deployment,
            model_name=r.model_name,
            model_version=r.model_version,
            replacement=_replacement(r),
            source=r.source,
            rule_docs=docs,
        )
        for r in report.retirements
        if r.retirement_date and r.days_left is not None and 0 <= r.days_left <= horizon_days
    ]
    return tuple(sorted(changes, key=lambda c: (c.date, c.account_name, c.deployment)))


def owners(report: Report, owner_tags: Sequence[str]) -> dict[str, str]:
    """Target id (lower case) -> owner: the first configured tag found on the deployment, else on its account.
    Tag names match case-insensitively, as Azure treats them."""
    wanted = [t.lower() for t in owner_tags]

    def pick(tags: Mapping[str, str] | None) -> str | None:
        folded = {str(k).lower(): str(v) for k, v in (tags or {}).items()}
        return next((folded[t].strip() for t in wanted if folded.get(t, "").strip()), None)

    found: dict[str, str] = {}
    for target in report.targets:
        owner = pick(target.tags)
        if owner:
            found[target.id.lower()] = owner
    for row in report.deployments:
        owner = pick(row.tags) or found.get(row.account_id.lower())
        if owner:
            found[f"{row.account_id}/deployments/{row.name}".lower()] = owner
    return found


def by_owner(report: Report, view: Nightly) -> tuple[OwnerRow, ...]:
    """Per owner: deployments, failing findings by severity, unknown and waived ones, and scheduled changes."""
    counts: dict[str, dict[str, int]] = {}

    def row(owner: str) -> dict[str, int]:
        return counts.setdefault(
            owner, dict.fromkeys(("deployments", "error", "warning", "info", "unknown", "waived", "scheduled"), 0)
        )

    for d in report.deployments:
        row(view.owner_of(f"{d.account_id}/deployments/{d.name}", d.account_id))["deployments"] += 1
    for f in report.not_passing:
        entry = row(view.owner_of(f.target, f.account_id))
        if f.status is Status.FAIL:
            entry[f.severity.value] += 1
        elif f.status.value in ("unknown", "waived"):
            entry[f.status.value] += 1
    for c in view.scheduled:
        row(view.owner_of(f"{c.account_id}/deployments/{c.deployment}", c.account_id))["scheduled"] += 1
    ordered = sorted(counts, key=lambda o: (o == UNOWNED, -counts[o]["error"], -counts[o]["warning"], o.lower()))
    return tuple(OwnerRow(owner=o, **counts[o]) for o in ordered)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _day(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b %Y}"


def headline(report: Report, scheduled: Sequence[ScheduledChange], trends: Trends | None) -> tuple[str, ...]:
    """What a manager reads first: what breaks soon and when, what changed since the last run, what was not read."""
    lines: list[str] = []
    retired = [r for r in report.retirements if r.days_left is not None and r.days_left < 0]
    if retired:
        verb = "runs" if len(retired) == 1 else "run"
        lines.append(f"{_plural(len(retired), 'deployment')} {verb} a retired model version: calls to it fail now.")
    soon = [c for c in scheduled if (date.fromisoformat(c.date) - report.generated_at.date()).days <= HEADLINE_DAYS]
    stops = [c for c in soon if c.kind == "retires"]
    moves = [c for c in soon if c.kind == "auto-upgrade"]
    if stops:
        first = stops[0].date
        on_first = sum(1 for c in stops if c.date == first)
        more = len(stops) - on_first
        lines.append(
            f"{_plural(on_first, 'deployment')} {'stops' if on_first == 1 else 'stop'} working on {_day(first)} "
            "unless moved" + (f"; {more} more within {HEADLINE_DAYS} days." if more else ".")
        )
    if moves:
        lines.append(
            f"Azure upgrades {_plural(len(moves), 'deployment')} to another model version within {HEADLINE_DAYS} "
            f"days, the first on {_day(moves[0].date)}."
        )
    lines.extend(observed_headline(report))
    lines.extend(_since_last(report, trends))
    lines.append(_failing(report))
    unread = [t for t in report.targets if t.status is not TargetStatus.COMPLETE]
    if unread:
        lines.append(f"{_plural(len(unread), 'target')} not read completely: the report cannot speak for them.")
    return tuple(lines)


def observed_headline(report: Report) -> list[str]:
    """With --monitor: how many deployments their callers use in a way that breaks now or on the next model."""
    if not report.traffic:
        return []
    from auditor.engine.observed import observed_breaking

    breaking = observed_breaking(report)
    verb = "is" if len(breaking) == 1 else "are"
    return [
        f"{_plural(len(breaking), 'deployment')} {verb} called in ways that will break (Azure Monitor's record of "
        "who calls them)" + (f": {', '.join(breaking[:5])}{' …' if len(breaking) > 5 else ''}." if breaking else ".")
    ]


def _failing(report: Report) -> str:
    """In the gate's words: at or above it fails the run, below it does not (one vocabulary with the verdict)."""
    failing = [f for f in report.not_passing if f.status is Status.FAIL]
    if report.fail_on == "never":
        return f"{_plural(len(failing), 'failing finding')}; the gate is off (--fail-on never)."
    rank = Severity(report.fail_on).rank
    at = sum(1 for f in failing if f.severity.rank >= rank)
    return f"{_plural(at, 'failing finding')} at or above the gate ({report.fail_on})" + (
        f", {len(failing) - at} below it." if len(failing) > at else "."
    )


def _since_last(report: Report, trends: Trends | None) -> list[str]:
    if trends is not None and len(trends.runs) >= 2:
        this, before = trends.runs[-1], trends.runs[-2]
        return [
            f"{_plural(this.new or 0, 'new failing finding')} since the last run ({before.at[:10]}), "
            f"{this.resolved or 0} fixed."
        ]
    if report.drift is not None:
        counts = report.summary().drift
        if counts is not None:
            return [
                f"{_plural(counts.new, 'new finding')} since the baseline of {report.drift.baseline_generated_at[:10]}, "
                f"{counts.resolved} resolved."
            ]
    return []


def scope_of(report: Report, scope: str) -> str:
    """Runs are compared with earlier runs of the same scope; each shard of a sharded job is its own series."""
    return f"{scope} shard {report.shard}" if report.shard else scope


def families(report: Report, kb: KnowledgeBase | None) -> dict[str, str]:
    """Each deployed model's family as the knowledge base states it (models.yaml `family:`, else families.yaml);
    a model it does not know counts as its own family."""
    found: dict[str, str] = {}
    for name in {d.model_name for d in report.deployments if d.model_name}:
        entry = kb.model(name) if kb is not None else None
        found[name.lower()] = (entry.family or entry.kb_family or name) if entry is not None else name
    return found


def nightly_view(
    report: Report,
    *,
    owner_tags: Sequence[str] = DEFAULT_OWNER_TAGS,
    history: HistoryStore | None = None,
    scope: str = "default",
    kb: KnowledgeBase | None = None,
) -> Report:
    """The report with its nightly view; with a store, this run is recorded first and the trends include it."""
    scheduled = scheduled_changes(report)
    view = Nightly(
        owners=owners(report, owner_tags),
        owner_tags=tuple(owner_tags),
        families=families(report, kb),
        scheduled=scheduled,
    )
    trends = None
    if history is not None:
        series = scope_of(report, scope)
        run = history.record(report, view, scope=series)
        trends = history.trends(series, recorded_run=run)
    return replace(
        report,
        nightly=replace(
            view, headline=headline(report, scheduled, trends), by_owner=by_owner(report, view), trends=trends
        ),
    )
