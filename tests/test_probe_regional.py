"""Probes on an account served at its regional endpoint (no custom subdomain; every recorded real OpenAI and AI
Services account in Azure CLI's recordings): the host is one Azure issues, so it is not refused as foreign, but an
Entra ID token is not sent, because such an endpoint takes keys only; the probe says why instead of reporting a
401 as a bad token."""

from __future__ import annotations

from dataclasses import replace

from tests.test_probes import _facts, _run, credential  # noqa: F401  (credential is a fixture)


def test_an_entra_probe_of_a_regional_endpoint_is_not_sent_and_says_why(tenant, credential) -> None:  # noqa: F811
    facts = _facts(tenant, credential, only=("chat-prod",))
    regional = tuple(
        replace(a, endpoint=f"https://{a.location}.api.cognitive.microsoft.com/", custom_subdomain=None)
        for a in facts.accounts
    )
    results, summary = _run(tenant, credential, replace(facts, accounts=regional), allow_endpoints=())
    assert results and {r.outcome for r in results} == {"skipped"}
    assert all("regional endpoint" in (r.message or "") and "AOAI-SEC-013" in (r.message or "") for r in results)
    assert all("not under the AzureCloud data-plane domains" not in (r.message or "") for r in results)
    assert not tenant.requests(plane="data") and summary.calls == 0
