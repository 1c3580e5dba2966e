"""The retirement calendar (`--format ics`, retirements.ics): one event per upcoming retirement and
auto-upgrade of a deployed model version, for a team calendar to subscribe to.

Each event's UID is derived from the deployment, the model version and the kind of change, never from the date or
the run, so a subscribed calendar updates an event when Azure moves its date instead of adding a second one
(RFC 5545, 3.8.4.7: the UID identifies the event across revisions)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import BinaryIO

from icalendar import Calendar, Event

from auditor.model.errors import InputError
from auditor.model.results import Report
from auditor.model.trends import ScheduledChange

PRODID = "-//aoai-auditor//retirement calendar//EN"


def event_uid(change: ScheduledChange) -> str:
    identity = "|".join(
        (change.account_id.lower(), change.deployment, change.model_name or "", change.model_version or "", change.kind)
    )
    return f"{hashlib.sha256(identity.encode('utf-8')).hexdigest()[:32]}@aoai-auditor"


def _summary(change: ScheduledChange) -> str:
    model = " ".join(v for v in (change.model_name, change.model_version) if v) or "unknown model"
    where = f"{change.account_name}/{change.deployment}"
    if change.kind == "auto-upgrade":
        return f"{where}: Azure upgrades {model} to {change.replacement}"
    return f"{where}: {model} retires (calls fail unless moved)"


def _description(change: ScheduledChange) -> str:
    lines = [
        f"Deployment {change.deployment} in account {change.account_name} ({change.account_id}).",
        f"Model: {change.model_name or 'unknown'} version {change.model_version or 'unknown'}.",
        f"Replacement: {change.replacement or 'none named'}.",
        f"Date from: {change.source or 'unknown'}.",
    ]
    if change.rule_docs:
        lines.append(f"Rule: {change.rule_docs}")
    return "\n".join(lines)


def write_ics(report: Report, out: BinaryIO) -> None:
    if report.nightly is None:  # the pipeline's nightly step decides what is scheduled; a renderer only draws it
        raise InputError("--format ics needs the nightly view of the report (auditor.pipeline.nightly.nightly_view)")
    changes = report.nightly.scheduled
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Azure OpenAI retirements and auto-upgrades")
    for change in changes:
        event = Event()
        day = date.fromisoformat(change.date)
        event.add("uid", event_uid(change))
        event.add("dtstamp", report.generated_at)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", _summary(change))
        event.add("description", _description(change))
        event.add("categories", ["Azure OpenAI", change.kind])
        event.add("transp", "TRANSPARENT")
        if change.rule_docs:
            event.add("url", change.rule_docs)
        calendar.add_component(event)
    out.write(calendar.to_ical())
