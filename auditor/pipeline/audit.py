"""The pipeline's pure half: facts -> rule engine -> the final report. No I/O: the same facts, rules and date
give the same report.

`audit` evaluates the rules and builds the report (targets, inventory, quota and retirement views, gaps); `finish`
applies what the run's inputs ask for afterwards (waivers, drift against a baseline, the shard's label). The I/O half
is auditor/pipeline/gather.py; auditor/pipeline/run.py composes both into `run_audit`, the one call the CLI makes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

from auditor._version import __version__
from auditor.engine.evaluate import evaluate_all
from auditor.engine.rules import Rule
from auditor.engine.subjects import Subject, build_subjects
from auditor.engine.upgrade import WhatIf, apply_what_ifs, label_what_ifs, with_upgrade_impact
from auditor.knowledge.base import KnowledgeBase
from auditor.model.enums import TargetStatus
from auditor.model.facts import RUN_TARGET, Facts
from auditor.model.results import (
    Finding,
    InventoryRow,
    QuotaLine,
    Report,
    RetirementRow,
    RuleInfo,
    TargetResult,
    TrafficRow,
)
from auditor.util.gcpause import paused_gc

if TYPE_CHECKING:
    from auditor.gating.drift import Baseline
    from auditor.gating.waivers import Waiver


RULESET_VERSION = "2026.12"


def select_rules(
    rules: Sequence[Rule], select: Sequence[str] = (), ignore: Sequence[str] = (), ruleset: str | None = None
) -> list[Rule]:
    """Keep rules whose id or category is selected (all when none is), minus the ignored ones, and,
    with a pinned rule-set version, only the built-in rules that version already had (an organisation's
    policy is its own, never pinned). A gate that would evaluate nothing is an input error (exit 2), never a
    pass: a --select that names no rule or category, a --ruleset older than every rule, or an --ignore that
    removes everything selected."""
    import difflib
    import re

    from auditor.model.errors import InputError

    if ruleset not in (None, "latest") and not re.fullmatch(r"\d{4}\.\d{2}", str(ruleset)):
        raise InputError(f"--ruleset must be a rule-set version like {RULESET_VERSION} or 'latest', not {ruleset!r}")
    pinned = None if ruleset in (None, "latest") else str(ruleset)

    def named(rule: Rule, names: Sequence[str]) -> bool:
        return any(n.lower() in (rule.id.lower(), rule.category.lower()) for n in names)

    known = sorted({r.id for r in rules} | {str(r.category) for r in rules})
    for name in select:
        if not any(named(r, [name]) for r in rules):
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise InputError(f"--select {name}: no rule id or category is named so{hint}")
    kept = [
        r
        for r in rules
        if (not select or named(r, select))
        and not named(r, ignore)
        and (pinned is None or r.since <= pinned or r.category == "policy")
    ]
    if rules and not kept:
        first = min((r.since for r in rules if r.category != "policy"), default=RULESET_VERSION)
        if pinned is not None and pinned < first:
            raise InputError(f"--ruleset {pinned}: no rule existed then (the first rule set is {first})")
        raise InputError(
            "no rule is left to evaluate: "
            + (f"--ignore {', '.join(ignore)} removes every rule --select {', '.join(select)} chose" if ignore else "")
            + (f" (with --ruleset {pinned})" if pinned else "")
        )
    return kept


def check_what_ifs(what_ifs: Sequence[WhatIf], facts: Facts, kb: KnowledgeBase) -> None:
    """A what-if must name a model the knowledge base or a read catalog knows: a typo (chat-prod=gpt-4.1-mnii)
    is an input error (exit 2), never an audit of a model nobody can deploy."""
    import difflib

    from auditor.model.errors import InputError

    catalog = {m.name.lower() for r in facts.regions for m in r.catalog or ()}
    for what_if in what_ifs:
        name = what_if.model_name
        if kb.model(name) is not None or name.lower() in catalog or kb.fine_tuned_base(name) is not None:
            continue
        close = difflib.get_close_matches(name, sorted(set(kb.models) | catalog), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise InputError(
            f"--what-if {what_if.deployment}={name}: no model of that name is in the knowledge base or the region's "
            f"catalog{hint}"
        )


def _targets(facts: Facts) -> tuple[TargetResult, ...]:
    results = unread_targets(facts)
    for account in facts.accounts:
        region_target = f"/subscriptions/{account.subscription_id}/providers/Microsoft.CognitiveServices/locations/{account.location}"
        reasons = tuple(g.reason for g in facts.gaps if g.target in (account.id, region_target))
        results.append(
            TargetResult(
                id=account.id,
                name=account.name,
                subscription_id=account.subscription_id,
                location=account.location,
                kind=account.kind,
                status=TargetStatus.INCOMPLETE if reasons else TargetStatus.COMPLETE,
                reasons=reasons,
                tags=dict(account.tags) or None,
            )
        )
    return tuple(results)


def _inventory(facts: Facts) -> tuple[InventoryRow, ...]:
    """Each deployment's inventory row: the fields InventoryRow shares with Deployment, as read."""
    names = {a.id: a.name for a in facts.accounts}
    shared = [f.name for f in fields(InventoryRow) if f.name not in ("account_name", "tags")]
    return tuple(
        InventoryRow(
            account_name=names.get(d.account_id, ""), tags=dict(d.tags) or None, **{f: getattr(d, f) for f in shared}
        )
        for d in facts.deployments
    )


def _rule_infos(rules: Sequence[Rule]) -> tuple[RuleInfo, ...]:
    return tuple(
        RuleInfo(
            id=r.id,
            title=r.title,
            category=r.category,
            severity=r.severity,
            docs=r.help_url,
            remediation=r.remediation,
            description=r.rationale or r.title,
            applies_to=r.applies_to,
        )
        for r in sorted(rules, key=lambda r: r.id)
    )


def _views(facts: Facts, subjects: Sequence[Subject]) -> tuple[tuple[QuotaLine, ...], tuple[RetirementRow, ...]]:
    """Quota lines and retirement dates for the report's pictures, read off the same subject documents
    the rules see (engine/subjects.py), so the pictures and the findings cannot disagree."""
    from auditor.engine.conditions import UNKNOWN

    names = {a.id: a.name for a in facts.accounts}
    regions = {a.id: (a.subscription_id, a.location) for a in facts.accounts}
    models_by_line: dict[tuple[str, str, str], set[str]] = {}
    quota: list[QuotaLine] = []
    retirements: list[RetirementRow] = []
    for subject in subjects:
        doc = subject.document
        if subject.kind == "deployment":
            dep, catalog, life = doc["deployment"], doc["catalog"], doc["lifecycle"]
            usage = catalog.get("usage_name") if isinstance(catalog, dict) else None
            if usage and subject.account_id in regions:
                sub, loc = regions[subject.account_id]
                label = " ".join(str(v) for v in (dep.get("model_name"), dep.get("sku_name")) if v)
                models_by_line.setdefault((sub, loc, usage.lower()), set()).add(label)
            known = life is not UNKNOWN
            life = life if isinstance(life, dict) else {}
            retirements.append(
                RetirementRow(
                    account_id=subject.account_id or "",
                    account_name=names.get(subject.account_id or "", ""),
                    deployment=dep["name"],
                    model_name=dep.get("model_name"),
                    model_version=dep.get("model_version"),
                    sku_name=dep.get("sku_name"),
                    # the view's UNKNOWN (ARM reported none) is None in the report: not reported
                    version_upgrade_option=None
                    if dep.get("version_upgrade_option") is UNKNOWN
                    else dep.get("version_upgrade_option"),
                    retirement_date=life.get("retirement_date"),
                    days_left=life.get("days_left"),
                    source=life.get("source"),
                    replacement=life.get("replacement"),
                    known=known,
                )
            )
        elif subject.kind == "quota_usage" and doc["usage"]["current"] is not UNKNOWN:
            usage, region = doc["usage"], doc["region"]
            quota.append(
                QuotaLine(
                    subscription_id=region["subscription_id"],
                    location=region["location"],
                    name=usage["name"],
                    label=usage["localized_name"],
                    current=float(usage["current"]),
                    limit=float(usage["limit"]),
                    percent=float(usage["percent"]),
                    deployments=tuple(usage.get("deployments", ())),
                )
            )
    quota = [
        replace(q, models=tuple(sorted(models_by_line.get((q.subscription_id, q.location, q.name.lower()), ()))))
        for q in quota
    ]
    quota.sort(key=lambda q: (q.subscription_id, q.location, q.name.lower()))
    retirements.sort(key=lambda r: (r.retirement_date or "9999-99-99", r.account_name, r.deployment))
    return tuple(quota), tuple(retirements)


def audit(
    facts: Facts,
    rules: Sequence[Rule],
    kb: KnowledgeBase,
    *,
    today: date | None = None,
    now: datetime | None = None,
    what_ifs: Sequence[WhatIf] = (),
    impact_rules: Sequence[Rule] | None = None,
) -> Report:
    """Evaluate rules over facts. Pure: the same facts, rules and date give the same report.

    `what_ifs` rewrite the facts first (findings on those deployments are labelled); the upgrade impact judges
    the app's calls on each deployment's next model with `impact_rules` (default: `rules`), so selecting only
    the upgrade category still sees the contract rules."""
    now = now or datetime.now(timezone.utc)
    check_what_ifs(what_ifs, facts, kb)
    facts, labels = apply_what_ifs(facts, what_ifs)
    day = today or now.date()
    with paused_gc():
        subjects = list(build_subjects(facts, kb, day))
        findings: list[Finding] = evaluate_all(rules, facts, kb, day, subjects)
        findings = label_what_ifs(with_upgrade_impact(findings, facts, kb, day, rules, impact_rules), labels)
        quota, retirements = _views(facts, subjects)
    return Report(
        rules=_rule_infos(rules),
        quota=quota,
        retirements=retirements,
        generated_at=now,
        tool_version=__version__,
        ruleset=RULESET_VERSION,
        knowledge_checked=str(kb.checked) if kb.checked else None,
        targets=_targets(facts),
        deployments=_inventory(facts),
        findings=tuple(findings),
        gaps=tuple(g.reason if g.target in g.reason else f"{g.target}: {g.reason}" for g in facts.gaps)
        + _empty_scope(facts),
        probe_summary=_probe_totals(facts),
        traffic=_traffic_rows(facts),
    )


def _traffic_rows(facts: Facts) -> tuple[TrafficRow, ...]:
    """The observed traffic, per account, deployment and operation, for the report's who-calls-it table."""

    def share(part: float, whole: float) -> float:
        return round(100.0 * part / whole, 2) if whole else 0.0

    names = {a.id: a.name for a in facts.accounts}
    return tuple(
        TrafficRow(
            account_id=account_id,
            account_name=names.get(account_id, ""),
            deployment=o.deployment,
            operation=o.operation,
            api=o.api,
            requests=round(o.requests),
            streaming_percent=share(o.streaming, o.requests),
            client_error_percent=share(o.client_errors, o.requests),
            throttled_percent=share(o.throttled, o.requests),
            server_error_percent=share(o.server_errors, o.requests),
            model_versions=o.model_versions,
            api_versions=o.api_versions,
            daily=tuple(round(v, 1) for v in o.daily),
            days=o.days,
        )
        for account_id, monitoring in sorted((facts.monitoring or {}).items())
        for o in monitoring.traffic or ()
    )


def _empty_scope(facts: Facts) -> tuple[str, ...]:
    """An audit that audited nothing is incomplete (exit 3), never a pass: a nightly job over subscriptions
    that hold no Azure OpenAI or AI Services account must not go green."""
    if facts.accounts or facts.planned:
        return ()
    where = ", ".join(facts.subscriptions_searched) or "the scope given"
    return (f"audited nothing: no Azure OpenAI or AI Services account in subscription(s) {where}",)


def _probe_totals(facts: Facts) -> Mapping[str, object] | None:
    if facts.probe_summary is None:
        return None
    from auditor.probes.runner import summary_dict

    return summary_dict(facts.probe_summary)


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


def finish(
    report: Report,
    *,
    waivers: Sequence[Waiver] = (),
    baseline: Baseline | None = None,
    today: date | None = None,
    shard: tuple[int, int] | None = None,
) -> Report:
    """Post-processing before rendering, pure: waivers first (so an expired waiver's finding counts as
    new or unchanged like any other), then drift against the baseline; a shard's report says which shard it
    is (`audit merge` reads that)."""
    from auditor.gating.drift import apply_baseline
    from auditor.gating.waivers import apply_waivers

    if waivers:
        report = apply_waivers(report, waivers, today or report.generated_at.date())
    if baseline is not None:
        report = apply_baseline(report, baseline)
    if shard is not None:
        report = replace(report, shard=f"{shard[0]}/{shard[1]}")
    return report
