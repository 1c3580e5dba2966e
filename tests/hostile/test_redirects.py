"""Class 1: a secret follows a redirect. A data-plane 3xx must not be followed (the key or token would be
re-sent to the Location host, even over plain http), and must not count as an answer: it is `unexpected`,
with the Location host in the evidence."""

from __future__ import annotations

from dataclasses import replace

import pytest

from auditor.demo.sim import FaultRule
from auditor.model.clouds import get_cloud
from auditor.model.facts import ContractCall
from auditor.probes import ProbeOptions
from auditor.probes.classify import classify
from tests.conftest import TODAY


def _probe(tenant, credential, **options):
    from auditor.knowledge.base import load_knowledge
    from auditor.pipeline.gather import gather_facts
    from auditor.pipeline.options import AuditOptions
    from auditor.probes.runner import run_probes
    from auditor.sources.azure import AzureEnumerator

    cloud = get_cloud("AzureCloud", tenant.management_url)
    facts = gather_facts(
        AzureEnumerator(credential, cloud, connection_verify=tenant.ca_path), AuditOptions(all_accounts=True)
    )
    facts = replace(
        facts,
        deployments=tuple(d for d in facts.deployments if d.name == "legacy-35"),
        contract=(ContractCall("legacy-35", "chat_completions"),),
    )
    options.setdefault("allow_endpoints", ("127.0.0.1",))
    return run_probes(
        facts,
        load_knowledge(),
        TODAY,
        credential=credential,
        cloud=cloud,
        options=ProbeOptions(**options),
        connection_verify=tenant.ca_path,
    )


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("auth", ["key", "entra"])
def test_a_redirect_is_not_followed_and_is_not_a_pass(tenant, credential, catcher, status: int, auth: str) -> None:
    tenant.add_fault(
        FaultRule(
            r"/chat/completions$",
            status,
            "",
            {"Location": f"{catcher.url}/openai/v1/chat/completions"},
            times=None,
            plane="data",
        )
    )
    key = tenant.account_keys("contoso-ai-swc")[0]
    (result,), summary = _probe(tenant, credential, api_key=key if auth == "key" else None)
    assert catcher.seen == [], "the probe followed the redirect to another host"
    assert result.outcome == "unexpected", result
    assert result.status_code == status
    assert "127.0.0.1" in (result.message or "") and "redirect" in (result.message or "")
    assert summary.calls == 1, "a redirect is not retried"


def test_a_redirect_is_classified_unexpected_with_the_location_host() -> None:
    answer = classify(302, None, {"Location": "http://evil.example.net:8080/steal?x=1"})
    assert answer.outcome == "unexpected" and answer.status_code == 302
    assert "evil.example.net" in (answer.message or "")
    assert "steal" not in (answer.message or ""), "only the host is evidence, not the whole URL"
