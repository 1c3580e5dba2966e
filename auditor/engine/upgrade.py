"""Upgrade impact: what each deployment runs next and when, and which of the app's calls break then.

Azure moves deployments on its own schedule: a version retires and the catalog's `replacementConfig` names
the model it is upgraded to; `versionUpgradeOption` moves it to the region's next default version; the
knowledge base's replacement fills in where the catalog names none; a plan (`--plan`) deploys a model under a
name the app calls. The app's calls are then evaluated against that next model with the same contract rules
the audit runs today: a "what the deployment will be" fact model goes through the same engine, and a rule that
fails then but not now is an upgrade impact (rules/builtin/upgrade.yaml grades it by how near the date is).

`--what-if DEPLOYMENT=MODEL[:VERSION]` rewrites the fact model itself (`apply_what_ifs`), so every rule, and
the upgrade impact too, sees the deployment as if it ran that model. Pure: no I/O.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from operator import attrgetter
from typing import Any

from auditor.engine.causes import PRIORITY as CAUSE_PRIORITY
from auditor.engine.conditions import UNKNOWN
from auditor.engine.evaluate import evaluate_all, evaluate_each
from auditor.engine.rules import Rule
from auditor.engine.subjects import Subject, build_subjects
from auditor.knowledge.base import KnowledgeBase, has_replacement, model_view
from auditor.model.documents import UpgradeDocument
from auditor.model.errors import InputError
from auditor.model.facts import (
    Account,
    CatalogModel,
    Deployment,
    Facts,
    PlannedDeployment,
    SourceLocation,
    earliest_retirement,
)
from auditor.model.results import Cause, Finding, Status

IMPACT_CATEGORIES = ("api-support", "parameters")
"""Rules that judge what the app sends against what the model accepts: the ones a model change can flip."""
IMPACT_KINDS = ("deployment", "contract_call", "contract_parameter")
DEFAULT_ROLLOUT_DAYS = 14
"""Microsoft Learn (working-with-models, "Auto update to default"): a deployment set to auto-update "is
automatically updated within two weeks of a change in the default version"."""


@dataclass(frozen=True)
class NextModel:
    """What a deployment will run next, from when (None: no date known), and who says so."""

    model_name: str
    model_version: str | None
    when: date | None
    source: str
    immediate: bool = False
    """A plan: the change happens when the plan is applied (graded like a date that has come)."""


@dataclass(frozen=True)
class WhatIf:
    """`--what-if DEPLOYMENT=MODEL[:VERSION]`: audit as if the deployment ran another model."""

    deployment: str
    model_name: str
    model_version: str | None

    @property
    def label(self) -> str:
        return f"what-if: {self.model_name}{' ' + self.model_version if self.model_version else ''}"


_WHAT_IF = re.compile(r"^(?P<dep>[^=\s]+)=(?P<model>[A-Za-z0-9][A-Za-z0-9._-]*)(?::(?P<version>[A-Za-z0-9._-]+))?$")


def parse_what_if(value: str) -> WhatIf:
    """One `--what-if` value; anything else is an InputError naming it."""
    match = _WHAT_IF.match(value.strip())
    if match is None:
        raise InputError(
            f"--what-if {value!r}: write DEPLOYMENT=MODEL[:VERSION], e.g. --what-if chat-prod=o4-mini:2025-04-16"
        )
    return WhatIf(match["dep"], match["model"], match["version"])


def _deployment_matches(name: str, account: Account | None, deployment_name: str | None) -> bool:
    if "/" in name:
        account_name, _, dep = name.partition("/")
        return account is not None and account.name == account_name and dep == deployment_name
    return name == deployment_name


def _entries(facts: Facts, account: Account, model_name: str | None, model_format: str | None) -> list[CatalogModel]:
    region = facts.region_of(account)
    if region is None or region.catalog is None or not model_name:
        return []
    return [
        m
        for m in region.catalog
        if m.kind.lower() == account.kind.lower()
        and m.name == model_name
        and (model_format is None or m.format.lower() == model_format.lower())
    ]


def _default_version(entries: Iterable[CatalogModel]) -> str | None:
    return next((m.version for m in entries if m.is_default_version), None)


def apply_what_ifs(facts: Facts, what_ifs: Sequence[WhatIf]) -> tuple[Facts, dict[str, str]]:
    """The fact model with each named deployment (existing or planned) running the what-if model, and the
    targets changed with their labels. A name that is neither is an InputError (exit 2)."""
    if not what_ifs:
        return facts, {}
    accounts = {a.id: a for a in facts.accounts}
    deployments = list(facts.deployments)
    planned = list(facts.planned or ())
    labels: dict[str, str] = {}
    for what_if in what_ifs:
        hit = False
        for index, d in enumerate(deployments):
            account = accounts.get(d.account_id)
            if not _deployment_matches(what_if.deployment, account, d.name) or account is None:
                continue
            version = what_if.model_version or _default_version(_entries(facts, account, what_if.model_name, None))
            deployments[index] = replace(d, model_name=what_if.model_name, model_version=version)
            labels[d.id] = f"what-if: {what_if.model_name}{' ' + version if version else ''}"
            hit = True
        for index, p in enumerate(planned):
            account = next((a for a in facts.accounts if p.account in (a.name, a.id)), None)
            if not _deployment_matches(what_if.deployment, account, p.name):
                continue
            planned[index] = replace(p, model_name=what_if.model_name, model_version=what_if.model_version)
            if account is not None:
                labels[f"{account.id}/deployments/{p.name}"] = what_if.label
            hit = True
        if not hit:
            raise InputError(
                f"--what-if {what_if.deployment}={what_if.model_name}: no audited or planned deployment is named "
                f"{what_if.deployment!r}"
            )
    return replace(facts, deployments=tuple(deployments), planned=tuple(planned) if facts.planned else None), labels


def label_what_ifs(findings: Sequence[Finding], labels: Mapping[str, str]) -> list[Finding]:
    """Findings on a what-if deployment say so in their target name (the audit saw a model it does not run)."""
    if not labels:
        return list(findings)
    return [
        replace(f, target_name=f"{f.target_name} ({labels[f.target]})") if f.target in labels else f for f in findings
    ]


def _newer(candidate: str, current: str | None) -> bool:
    """Whether a default version is newer than the deployed one (dated versions compare as text)."""
    if current is None:
        return True
    if len(candidate) == len(current):
        return candidate > current
    return candidate != current


def _replacement(
    facts: Facts, account: Account, deployment: Deployment, entry: CatalogModel, retires: date | None
) -> NextModel:
    """The catalog's replacementConfig: on its auto-upgrade start, else its lead time before retirement."""
    when = entry.replacement_auto_upgrade_start
    if when is None and retires is not None:
        when = retires - timedelta(days=entry.replacement_lead_time_days or 0)
    return NextModel(
        entry.replacement_name or "",
        entry.replacement_version
        or _default_version(_entries(facts, account, entry.replacement_name, deployment.model_format)),
        when,
        f"{account.location}'s catalog: replacementConfig of {deployment.model_name} {deployment.model_version}",
    )


def _new_default(
    deployment: Deployment,
    account: Account,
    default: str | None,
    option: str,
    retires: date | None,
    today: date,
    replaced: bool,
) -> NextModel | None:
    """The region's default version, when it is newer and versionUpgradeOption moves the deployment to it."""
    if not default or default == deployment.model_version or not _newer(default, deployment.model_version):
        return None
    source = f"versionUpgradeOption {option}: {default} is the default version in {account.location}"
    if option == "OnceNewDefaultVersionAvailable":
        return NextModel(deployment.model_name or "", default, today + timedelta(days=DEFAULT_ROLLOUT_DAYS), source)
    if option == "OnceCurrentVersionExpired" and retires is not None and not replaced:
        return NextModel(deployment.model_name or "", default, retires, source)
    return None


def _scheduled(
    facts: Facts, account: Account, deployment: Deployment, kb: KnowledgeBase, today: date, retires: date | None
) -> NextModel | None:
    """The knowledge base's replacement, on the catalog's retirement date where it gives one."""
    view = model_view(kb, deployment.model_name, deployment.model_version, deployment.sku_name, today)
    retirement = view.get("retirement")
    if not isinstance(retirement, Mapping) or not has_replacement(retirement.get("replacement")):
        return None
    name = str(retirement["replacement"])
    return NextModel(
        name,
        _default_version(_entries(facts, account, name, deployment.model_format)),
        retires or (date.fromisoformat(retirement["date"]) if retirement.get("date") else None),
        f"the knowledge base's retirement schedule for {deployment.model_name} {deployment.model_version}",
    )


def next_model(
    facts: Facts, account: Account, deployment: Deployment, kb: KnowledgeBase, today: date
) -> NextModel | None:
    """The first model change ahead of the deployment: the catalog's replacementConfig, the region's next
    default version under versionUpgradeOption, else the knowledge base's replacement (on the catalog's
    retirement date where the catalog gives one: the live catalog wins on dates, as in the lifecycle view). NoAutoUpgrade
    deployments are not moved: they stop working at retirement (AOAI-LIFE-004 says so)."""
    option = deployment.version_upgrade_option or "OnceNewDefaultVersionAvailable"
    if option == "NoAutoUpgrade":
        return None
    entries = _entries(facts, account, deployment.model_name, deployment.model_format)
    entry = next((m for m in entries if m.version == deployment.model_version), None)
    sku = next((s for s in entry.skus if s.name == deployment.sku_name), None) if entry else None
    retires = earliest_retirement(entry.inference_deprecation if entry else None, [sku.deprecation_date] if sku else [])
    candidates: list[NextModel] = []
    if entry is not None and entry.replacement_name:
        candidates.append(_replacement(facts, account, deployment, entry, retires))
    default = _new_default(deployment, account, _default_version(entries), option, retires, today, bool(candidates))
    if default is not None:
        candidates.append(default)
    if not candidates:
        scheduled = _scheduled(facts, account, deployment, kb, today, retires)
        candidates += [scheduled] if scheduled is not None else []
    candidates = [
        c for c in candidates if (c.model_name, c.model_version) != (deployment.model_name, deployment.model_version)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda c: c.when or date.max)


def _planned_next(facts: Facts, plan: PlannedDeployment) -> tuple[Account, NextModel] | None:
    account = next((a for a in facts.accounts if plan.account in (a.name, a.id)), None)
    if account is None or not plan.name or not plan.model_name:
        return None
    version = plan.model_version or _default_version(_entries(facts, account, plan.model_name, plan.model_format))
    where = f" ({plan.location.file}:{plan.location.line})" if plan.location else ""
    return account, NextModel(plan.model_name, version, None, f"the plan{where}", immediate=True)


def next_models(facts: Facts, kb: KnowledgeBase, today: date) -> dict[str, tuple[Deployment, NextModel]]:
    """Per deployment id: the deployment as it is and what it runs next. A planned deployment the app calls is
    the next model of the deployment of that name (created when the plan is applied if none exists)."""
    accounts = {a.id: a for a in facts.accounts}
    found: dict[str, tuple[Deployment, NextModel]] = {}
    # Deployments of one model version, SKU and upgrade option in one region and account kind move alike.
    shared: dict[tuple[Any, ...], NextModel | None] = {}
    for deployment in facts.deployments:
        account = accounts.get(deployment.account_id)
        if account is None:
            continue
        key = (
            account.subscription_id,
            account.location,
            account.kind.lower(),
            deployment.model_format,
            deployment.model_name,
            deployment.model_version,
            deployment.sku_name,
            deployment.version_upgrade_option,
        )
        if key not in shared:
            shared[key] = next_model(facts, account, deployment, kb, today)
        upcoming = shared[key]
        if upcoming is not None:
            found[deployment.id] = (deployment, upcoming)
    called = {c.deployment for c in facts.contract or ()}
    for plan in facts.planned or ():
        if plan.name not in called:
            continue
        planned = _planned_next(facts, plan)
        if planned is None:
            continue
        account, upcoming = planned
        target = f"{account.id}/deployments/{plan.name}"
        existing = next((d for d in facts.deployments if d.id == target), None)
        current = existing or Deployment(
            id=target,
            name=plan.name or "",
            account_id=account.id,
            model_format=plan.model_format,
            model_name=None,
            model_version=None,
            sku_name=plan.sku_name,
            sku_capacity=plan.sku_capacity,
            provisioning_state=None,
        )
        found[target] = (current, upcoming)
    return found


def _subject_key(subject: Subject) -> tuple[Any, ...]:
    call, param = _part(subject.document, "call"), _part(subject.document, "param")
    return (subject.kind, subject.target, subject.location, call.get("api"), param.get("name"))


def _outcomes(
    rules: Sequence[Rule], facts: Facts, kb: KnowledgeBase, today: date, targets: set[str]
) -> dict[tuple[Any, ...], tuple[Subject, list[Finding]]]:
    subjects = [s for s in build_subjects(facts, kb, today) if s.kind in IMPACT_KINDS and s.target in targets]
    return {_subject_key(s): (s, found) for s, found in zip(subjects, evaluate_each(rules, subjects), strict=True)}


def _when_text(upcoming: NextModel, today: date) -> tuple[str, Any]:
    if upcoming.immediate:
        return "when the plan is applied", 0
    if upcoming.when is None:
        return "at a date no source gives", None
    days = (upcoming.when - today).days
    if days < 0:
        return f"since {upcoming.when} (the upgrade window has opened)", days
    return f"on {upcoming.when} (in {days} days)", days


def _model_text(name: str | None, version: str | None) -> str:
    return " ".join(v for v in (name, version) if v) or "nothing (the plan creates it)"


_Today = dict[tuple[str, Any, Any], dict[str, Status]]
"""(target, call location, parameter) -> rule id -> today's status."""


def _today_from(findings: Iterable[Finding], rule_ids: set[str]) -> _Today:
    """Today's outcome of the impact rules, read off the audit's own findings (probe evidence included)."""
    today: _Today = {}
    for f in findings:
        if f.rule_id in rule_ids:
            fix = (f.evidence or {}).get("fix")
            parameter = fix.get("parameter") if isinstance(fix, Mapping) and "parameter" in fix else None
            today.setdefault((f.target, f.location, parameter), {})[f.rule_id] = f.status
    return today


def impact_subjects(
    facts: Facts,
    kb: KnowledgeBase,
    today: date,
    rules: Sequence[Rule],
    current: Sequence[Finding] | None = None,
) -> list[Subject]:
    """One `upgrade` subject per call of the app on each deployment that changes model (per deployment when no
    contract names it): what breaks on the next model that does not break today, from the same rules. Today's
    outcome is read from `current` (the audit's findings of these rules) when given, else evaluated here."""
    impact_rules = [r for r in rules if r.category in IMPACT_CATEGORIES and r.applies_to in IMPACT_KINDS]
    upcoming = next_models(facts, kb, today)
    if not upcoming or not impact_rules:
        return []
    targets = set(upcoming)
    base = replace(facts, probes=None, probe_summary=None, planned=None, contract_unresolved=())
    next_deployments = [
        replace(d, model_name=n.model_name, model_version=n.model_version) for d, n in upcoming.values()
    ]
    if current is None:
        now_deployments = [d for d, _ in upcoming.values() if d.model_name is not None]
        now = _outcomes(impact_rules, replace(base, deployments=tuple(now_deployments)), kb, today, targets)
        current = [f for _, found in now.values() for f in found]
    before_all = _today_from(current, {r.id for r in impact_rules})
    then = _outcomes(impact_rules, replace(base, deployments=tuple(next_deployments)), kb, today, targets)
    accounts = {a.id: a for a in facts.accounts}
    groups = _impact_groups(then, before_all)
    contract_targets = {t for (t, _, _, is_deployment) in groups if not is_deployment}
    return [
        _upgrade_subject(target, location, api, group, upcoming[target], accounts, today)
        for (target, location, api, is_deployment), group in sorted(groups.items(), key=lambda item: str(item[0]))
        # a deployment the app's calls name: its calls say what breaks; the generic caller advice would repeat it
        if not (is_deployment and target in contract_targets)
    ]


def _impact_groups(
    then: Mapping[tuple[Any, ...], tuple[Subject, list[Finding]]], before_all: _Today
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The next model's findings grouped per call (target, location, API; per deployment with no contract):
    what newly fails (breaks, with the fixes' details and advice) and what newly cannot be told."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for _, (subject, findings) in sorted(then.items(), key=lambda item: str(item[0])):
        param = _part(subject.document, "param").get("name")
        before = before_all.get((subject.target, subject.location, param), {})
        failing_before = {rule for rule, status in before.items() if status is Status.FAIL}
        unknown_before = {rule for rule, status in before.items() if status is Status.UNKNOWN}
        call = subject.document.get("call") if subject.kind != "deployment" else None
        group_key = (subject.target, subject.location, call.get("api") if call else None, subject.kind == "deployment")
        group = groups.setdefault(
            group_key,
            {
                "subject": subject,
                "call": call,
                "breaks": [],
                "unknown": [],
                "remedies": [],
                "details": [],
                "causes": [],
            },
        )
        if subject.kind == "contract_call":
            group["subject"] = subject
        for f in findings:
            if f.status is Status.FAIL and f.rule_id not in failing_before:
                group["breaks"].append(f"{f.message} [{f.rule_id}]")
                if f.remediation not in group["remedies"]:
                    group["remedies"].append(f.remediation)
                group["details"].append(_detail(f, subject))
            elif f.status is Status.UNKNOWN and f.rule_id not in unknown_before | failing_before:
                group["unknown"].append(f"{f.rule_id}: {f.reason}")
                if f.cause is not None:
                    group["causes"].append(f.cause)
    return groups


def _call_text(deployment: Deployment, call: Any, source: str | None, api: Any) -> str:
    if call and source:
        return f"The call at {source} ({api}) to {deployment.name}"
    if call:
        return f"The app's {api} call to {deployment.name}"
    return f"Callers of {deployment.name}"


def _upgrade_subject(
    target: str,
    location: SourceLocation | None,
    api: Any,
    group: Mapping[str, Any],
    moving: tuple[Deployment, NextModel],
    accounts: Mapping[str, Account],
    today: date,
) -> Subject:
    """One `upgrade` subject: a call (or the deployment's callers) against the deployment's next model."""
    deployment, upcoming_model = moving
    account = accounts[deployment.account_id]
    when, days_left = _when_text(upcoming_model, today)
    call = group["call"]
    source = f"{location.file}:{location.line}" if location else None
    call_text, plural = observed_wording(call, deployment.name) or (
        _call_text(deployment, call, source, api),
        call is None,
    )
    breaks: Any = group["breaks"]
    if not breaks and group["unknown"]:
        breaks = UNKNOWN
    parameters = sorted({d["parameter"] for d in group["details"] if d.get("parameter")})
    document: UpgradeDocument = {
        "deployment": {
            "name": deployment.name,
            "model_name": deployment.model_name,
            "model_version": deployment.model_version,
            "version_upgrade_option": deployment.version_upgrade_option,
        },
        "account": {"name": account.name, "location": account.location},
        "upgrade": {
            "from": _model_text(deployment.model_name, deployment.model_version),
            "to": _model_text(upcoming_model.model_name, upcoming_model.model_version),
            "model_name": upcoming_model.model_name,
            "model_version": upcoming_model.model_version,
            "date": str(upcoming_model.when) if upcoming_model.when else None,
            "when": when,
            "days_left": days_left,
            "source": upcoming_model.source,
        },
        "call": {
            "present": call is not None,
            "source": source,
            "api": api,
            "breaks_text": f"{call_text} {'break' if plural else 'breaks'}",
            "works_text": f"{call_text} {'keep' if plural else 'keeps'} working",
        },
        "impact": {
            "breaks": breaks,
            "breaks_text": " ".join(group["breaks"]) or "nothing",
            "affected": ", ".join(parameters) or ", ".join(sorted({d["rule"] for d in group["details"]})),
            "remediation_text": " ".join(group["remedies"]) or "nothing to change",
            "unknown_text": "; ".join(group["unknown"]) or "none",
        },
    }
    evidence: dict[str, Any] = {
        "upgrade_to": upcoming_model.model_name,
        "upgrade_version": upcoming_model.model_version,
        "upgrade_date": str(upcoming_model.when) if upcoming_model.when else None,
        "upgrade_source": upcoming_model.source,
        "call": source,
        "api": api,
        "breaks": group["details"],
        **observed_evidence(call),
    }
    causes: dict[str, tuple[Cause, str]] = {}
    if breaks is UNKNOWN:
        evidence["summary"] = f"on {upcoming_model.model_name}: {'; '.join(group['unknown'])}"
        # why the next model's checks could not be decided (its facts missing from the knowledge base, ...)
        first = min(group["causes"], key=CAUSE_PRIORITY.index, default=Cause.KNOWLEDGE)
        causes["impact.breaks"] = (first, f"on {upcoming_model.model_name}: {'; '.join(group['unknown'])}")
    return Subject(
        "upgrade",
        target,
        f"{account.name}/{deployment.name}",
        document,
        account_id=account.id,
        deployment=deployment.name,
        location=location,
        evidence=evidence,
        causes=causes,
    )


def observed_wording(call: Mapping[str, Any] | None, deployment: str) -> tuple[str, bool] | None:
    """An observed call is named by its operation and volume ("Callers' Completions_Create calls to
    instruct-legacy (observed: 9,800 Completions_Create calls in 7 days) break"), not by a place in the code;
    None for a declared or scanned call. (The text, and whether it takes the plural verb.)"""
    if not call or call.get("observed") is not True:
        return None
    return f"Callers' {call.get('operation')} calls to {deployment} ({call.get('evidence')})", True


def observed_evidence(call: Mapping[str, Any] | None) -> dict[str, Any]:
    """The observed call's operation and volume on the upgrade finding's evidence (empty for other calls)."""
    if not call or call.get("observed") is not True:
        return {}
    return {"operation": call.get("operation"), "requests": call.get("requests"), "observed": call.get("evidence")}


def with_upgrade_impact(
    findings: list[Finding],
    facts: Facts,
    kb: KnowledgeBase,
    today: date,
    rules: Sequence[Rule],
    impact_rules: Sequence[Rule] | None = None,
) -> list[Finding]:
    """The audit's findings (in report order) with the upgrade rules' findings merged in. Today's outcome of the
    contract rules is read off `findings` unless a selection (`--select upgrade`) left some of them out; the
    impact is judged with `impact_rules` (default: `rules`)."""
    chosen = rules if impact_rules is None else impact_rules
    judged = {r.id for r in rules} >= {r.id for r in chosen}
    upgrades = impact_subjects(facts, kb, today, chosen, findings if judged else None)
    if not upgrades:
        return findings
    return _merged(findings, evaluate_all(rules, facts, kb, today, upgrades))


def _merged(findings: list[Finding], more: list[Finding]) -> list[Finding]:
    """Two lists in report order merged, each of `more` after the findings it ties with (as heapq.merge does):
    by bisection, so the few thousand upgrade findings cost a few key reads each rather than one read per
    finding of the fleet (0.066 s -> 0.021 s CPU at 10,000 deployments, 2,333 upgrade findings)."""
    merged: list[Finding] = []
    start = 0
    for finding in more:
        end = bisect_right(findings, finding.sort_key, lo=start, key=_SORT_KEY)
        merged += findings[start:end]
        merged.append(finding)
        start = end
    merged += findings[start:]
    return merged


_SORT_KEY = attrgetter("sort_key")


def _detail(finding: Finding, subject: Subject) -> dict[str, Any]:
    """What the fixes module needs to know about one breaking rule, read off the subject the rule judged."""
    document = subject.document
    call, param = _part(document, "call"), _part(document, "param")
    value = param.get("value")
    return {
        "rule": finding.rule_id,
        "parameter": param.get("name"),
        "value": None if value is UNKNOWN else value,
        "support": _plain(param.get("support")),
        "use_instead": _plain(param.get("use_instead")) or _plain(param.get("other_api_name")),
        "api": call.get("api"),
    }


def _part(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = document.get(key)
    return value if isinstance(value, Mapping) else {}


def _plain(value: Any) -> Any:
    return None if value is UNKNOWN else value
