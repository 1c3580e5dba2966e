"""Round 2, the HTML report's data: U+0001 and U+0002 stand for a finding's deployment and account names in
the shared message texts; a text that holds those characters itself (a contract name, an Azure message) has
them escaped, so the page's script never substitutes a name that is not there (it used to throw on load for
a tenant-wide finding and blank the findings table)."""

from __future__ import annotations

from dataclasses import replace

from auditor.model.results import Status
from auditor.pipeline.audit import audit
from auditor.render.html_data import payload
from tests.conftest import TODAY, make_deployment, make_facts


def _texts(data: dict) -> list[str]:
    rows = data["findings"]
    out = [t for row in rows for t in row[5:7] if isinstance(t, str)]
    return out + list(data.get("strings") or ())


def test_marker_characters_in_texts_are_escaped(rules, kb) -> None:
    report = audit(
        make_facts(make_deployment("chat-prod", model="gpt-4o", version="2024-05-13")), rules, kb, today=TODAY
    )
    failing = [i for i, f in enumerate(report.findings) if f.status is not Status.PASS]
    assert len(failing) >= 2
    findings = list(report.findings)
    first, second = findings[failing[0]], findings[failing[1]]
    findings[failing[0]] = replace(first, account_id=None, message="contract \x02name\x01 from a file")
    findings[failing[1]] = replace(second, message=f"{second.deployment} said \x01\x02")
    data = payload(replace(report, findings=tuple(findings)))
    texts = _texts(data)
    assert any(t == "contract \u2402name\u2401 from a file" for t in texts), texts
    assert any(t == "\x01 said \u2401\u2402" for t in texts), texts  # the real name still becomes its marker
