"""The declared fields of each subject kind (auditor/engine/fields.py) are the fields its documents carry:
every key a real subject document has is declared, and every declared key appears on some document, so the
load-time check of rule paths can neither reject a real field nor accept one that is never there."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from auditor.engine.fields import ANY, SUBJECT_FIELDS, declared
from auditor.engine.subjects import build_subjects
from auditor.model.enums import ProbeOutcome
from auditor.model.facts import ContractCall, PlannedDeployment, ProbeResult, UnresolvedCall
from tests.conftest import ACCOUNT_ID, catalog_for, make_deployment, make_facts
from tests.test_precision import SCENARIOS, tenant_state


def _keys(document: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in document.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping):
            yield from _keys(value, path + ".")


def _declared_paths(spec: Any, prefix: str = "") -> Iterator[str]:
    for key, inner in spec.items():
        yield f"{prefix}{key}"
        if isinstance(inner, Mapping):
            yield from _declared_paths(inner, f"{prefix}{key}.")


def _rich_facts() -> list[Any]:
    facts = [tenant_state(s) for s in SCENARIOS]
    base = facts[0]
    deployment = make_deployment("chat")
    probe = ProbeResult(ACCOUNT_ID, "chat", "chat_completions", ProbeOutcome.SUCCESS, deployment_id=deployment.id)
    plan = PlannedDeployment("acct", "new", "gpt-4o", "2024-11-20", "GlobalStandard", 10)
    unresolved = UnresolvedCall(api="responses", expression="model", why="an argument")
    facts.append(
        replace(base, deployments=(deployment,), probes=(probe,), planned=(plan,), contract_unresolved=(unresolved,))
    )
    # a provisioned plan whose catalog SKU states capacity bounds (minimum, maximum, step)
    ptu = make_deployment("ptu", sku="GlobalProvisionedManaged", capacity=15)
    (entry,) = catalog_for(ptu)
    bounded = replace(entry, skus=(replace(entry.skus[0], capacity_minimum=15, capacity_maximum=100, capacity_step=5),))
    planned = PlannedDeployment("acct", "ptu", "gpt-4o", "2024-11-20", "GlobalProvisionedManaged", 17)
    facts.append(replace(make_facts(ptu, catalog=(bounded,)), planned=(planned,)))
    # Azure Monitor read (--monitor), with a custom content filter policy
    from auditor.model.facts import AccountMonitoring, ContentFilterPolicy, DeploymentActivity, DiagnosticSetting

    watched = make_deployment("watched", rai_policy_name="strict")
    monitoring = AccountMonitoring(
        (DiagnosticSetting("law", ("allLogs",), True, ("workspace",)),), (DeploymentActivity("watched", 10, 1, 50.0),)
    )
    strict = ContentFilterPolicy("strict", "UserManaged", "Blocking", None, ())
    facts.append(
        replace(
            make_facts(watched),
            monitoring={ACCOUNT_ID: monitoring},
            content_filter_policies={ACCOUNT_ID: (strict,)},
        )
    )
    # who calls a deployment (--monitor): its traffic, observed contract entries beside a declared one
    from auditor.model.facts import ObservedOperation
    from auditor.sources.traffic import with_observed_contract

    called = make_deployment("called")
    traffic = (
        ObservedOperation("called", "ChatCompletions_Create", "chat_completions", 100.0, streaming=50.0),
        ObservedOperation("called", "Batch_Create", None, 2.0, model_versions=("2024-08-06",)),
    )
    declared = (ContractCall("called", "responses"),)
    watched_traffic = replace(monitoring, traffic=traffic, logs="no workspace")
    facts.append(
        with_observed_contract(replace(make_facts(called, contract=declared), monitoring={ACCOUNT_ID: watched_traffic}))
    )
    return facts


def test_documents_carry_exactly_the_declared_fields(kb, rules) -> None:
    from auditor.engine.upgrade import impact_subjects
    from tests.test_upgrade import _upgrading

    seen: dict[str, set[str]] = {kind: set() for kind in SUBJECT_FIELDS}
    for facts in [*_rich_facts(), _upgrading()]:
        upgrades = impact_subjects(facts, kb, date(2026, 12, 3), rules)  # the upgrade kind comes from audit()
        for subject in [*build_subjects(facts, kb, date(2026, 12, 3)), *upgrades]:
            assert subject.kind in SUBJECT_FIELDS, subject.kind
            for path in _keys(subject.document):
                assert declared(subject.kind, path), f"{subject.kind} documents carry {path}, not declared"
                seen[subject.kind].add(path)
    for kind, spec in SUBJECT_FIELDS.items():
        never = [p for p in _declared_paths(spec) if p not in seen[kind] and not _under_any(spec, p)]
        assert not never, f"{kind}: declared but on no document: {never}"


def _under_any(spec: Any, path: str) -> bool:
    node = spec
    for part in path.split(".")[:-1]:
        node = node.get(part) if isinstance(node, Mapping) else None
        if node is ANY:
            return True
    return False
