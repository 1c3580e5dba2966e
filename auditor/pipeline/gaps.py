"""What could not be read, as data: gaps of single reads, of the run's deadline, and the incomplete
targets they make. Every Azure fault and every answer of the wrong shape ends here, never in a crash."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

from auditor.model.enums import TargetStatus
from auditor.model.facts import CollectionGap, Facts, Region
from auditor.model.results import TargetResult
from auditor.sources.azure import gap
from auditor.util.deadline import Deadline, DeadlineExpired

T = TypeVar("T")

RUN_TARGET = "--timeout"
"""The gap target of a run cut short before it knew which accounts to audit."""


def region_or_unread(
    deadline: Deadline, job: Future[tuple[Region, list[CollectionGap]]], subscription_id: str, location: str
) -> tuple[Region, list[CollectionGap]]:
    try:
        return deadline.result(job)
    except DeadlineExpired:
        target = f"/subscriptions/{subscription_id}/providers/Microsoft.CognitiveServices/locations/{location}"
        return Region(subscription_id, location, None, None), [
            CollectionGap(target, deadline.reason("the model catalog and quota were"))
        ]


def read_or_unread(
    deadline: Deadline, job: Future[tuple[T | None, list[CollectionGap]]], target: str, what: str
) -> tuple[T | None, list[CollectionGap]]:
    """A guarded read's result, or, once the run's deadline has passed, a gap saying what was not read."""
    try:
        return deadline.result(job)
    except DeadlineExpired:
        return None, [CollectionGap(target, deadline.reason(what))]


def guarded(what: str, target: str, read: Callable[[], T]) -> tuple[T | None, list[CollectionGap]]:
    """One read whose Azure fault, or answer of the wrong shape, becomes a gap (the target is incomplete),
    never a crash or a pass."""
    from auditor.model.errors import AuditorError

    try:
        return read(), []
    except AuditorError:
        raise
    except Exception as exc:
        return None, [gap(target, what, exc)]


def unread_targets(facts: Facts) -> list[TargetResult]:
    """What could not be searched at all (a subscription whose accounts could not be listed, a name that
    may live there, a run cut short by --timeout): incomplete targets of their own, so the reports and the
    gate show them."""
    reasons: dict[str, list[str]] = {}
    for g in facts.gaps:
        subscription = g.target.startswith("/subscriptions/") and g.target.count("/") == 2
        if g.target.startswith("name:") or subscription or g.target == RUN_TARGET:
            reasons.setdefault(g.target, []).append(g.reason)
    results = []
    for target, why in reasons.items():
        sub = target.split("/")[2] if target.startswith("/subscriptions/") else ""
        name = target[len("name:") :] if target.startswith("name:") else f"subscription {sub}" if sub else "the run"
        kind = "account" if target.startswith("name:") else "subscription" if sub else "run"
        results.append(TargetResult(target, name, sub, "", kind, TargetStatus.INCOMPLETE, tuple(why)))
    return results
