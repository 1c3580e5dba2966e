"""Class 9: `summary.md` is posted on pull requests, where GitHub turns bare URLs, @mentions and #123 into
links and pings. Values from the tenant must stay text; NUL and ESC are shown, never kept."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from auditor.model.enums import Category
from auditor.model.results import Finding, Report, Severity, Status, TargetResult, TargetStatus
from auditor.render.markdown import md, render_markdown

HOSTILE = "see https://evil.example/x and www.evil.example, ping @octocat @org/team about #123 and GH-42 \x00\x1b[31m"
SUB = "00000000-0000-4000-8000-000000000001"


def hostile_report() -> Report:
    """A small report whose tenant-controlled strings are all hostile."""
    target = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct"
    finding = Finding(
        rule_id="AOAI-API-001",
        title="t",
        category=Category.API_SUPPORT,
        severity=Severity.ERROR,
        status=Status.FAIL,
        target=target,
        target_name=f"acct/{HOSTILE}",
        message=HOSTILE,
        remediation=HOSTILE,
    )
    return Report(
        generated_at=datetime(2026, 12, 3, tzinfo=timezone.utc),
        tool_version="0",
        ruleset="2026.11",
        knowledge_checked=None,
        deployments=(),
        targets=(
            TargetResult(target, "acct\n::error::x", SUB, "eastus", "OpenAI", TargetStatus.INCOMPLETE, (HOSTILE,)),
        ),
        findings=(finding,),
    )


def test_markdown_values_neither_link_nor_ping() -> None:
    text = render_markdown(hostile_report())
    assert not re.search(r"https?://evil", text), "a bare URL would be autolinked"
    assert "www.evil" not in text
    assert not re.search(r"(?<![\w`])@octocat", text) and not re.search(r"(?<![\w`])@org/team", text)
    assert not re.search(r"(?<![\w&])#123\b", text)
    assert "\x00" not in text and "\x1b" not in text
    assert "\\x00" in text and "\\x1b" in text


def test_md_keeps_the_words_readable() -> None:
    cell = md("mail @octocat about #7 at https://example.com/a")
    assert "octocat" in cell and "7" in cell and "example.com" in cell
