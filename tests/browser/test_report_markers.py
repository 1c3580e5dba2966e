"""The HTML report's name markers (U+0001, U+0002) in a real browser: a contract name that holds them
itself (the reproduction of issue 27) no longer blanks the findings table; the page loads with no error
and shows the name with the characters as control pictures."""

# mypy: disable-error-code="attr-defined"

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from auditor.model.facts import ContractCall
from auditor.pipeline.audit import audit
from auditor.render.templates import render_html
from tests.conftest import TODAY, make_deployment, make_facts

pytestmark = pytest.mark.browser


def test_a_contract_name_holding_marker_characters_keeps_the_table(browser: Browser, rules, kb, tmp_path: Path) -> None:
    name = "ghost\x02\x01name"
    facts = make_facts(make_deployment("ok"), contract=(ContractCall(name, "chat_completions", {"temperature": 0.7}),))
    report = audit(facts, rules, kb, today=TODAY, now=datetime(2026, 11, 22, 8, tzinfo=timezone.utc))
    path = tmp_path / "markers.html"
    path.write_text(render_html(report), encoding="utf-8")
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready]")
        page.select_option("#f-status", "")
        rows = page.eval_on_selector_all("#rows tr.finding", "rows => rows.map(r => r.innerText)")
    finally:
        context.close()
    assert errors == []
    assert rows and any("ghost\u2402\u2401name" in r for r in rows), rows[:3]
