"""Every HTML row shows its own fix and message: the page's data, read back the way its script reads it,
says for each finding exactly what report.json says (one rule, many fixes: AOAI-LIFE-001's replacement
differs per deployment, AOAI-API-003's per parameter)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    out = tmp_path_factory.mktemp("html-fixes")
    assert run_demo(out, "--format", "html,json") == 1
    page = (out / "report.html").read_text()
    found = re.search(r'<script[^>]*id="audit-data"[^>]*>(.*?)</script>', page, re.S)
    assert found
    return json.loads(found.group(1)), json.loads((out / "report.json").read_text())


def _col(data: dict[str, Any], table: str, name: str) -> int:
    """A field's position in a table's rows, as the page's script reads it (payload `columns`)."""
    return list(data["columns"][table]).index(name)


def _field(row: list[Any], index: int) -> Any:
    return row[index] if len(row) > index else None


def _text(value: Any, row: list[Any], data: dict[str, Any]) -> Any:
    """The page script's txt(): an index into strings[], with the account and deployment markers put back."""
    text = data["strings"][value] if isinstance(value, int) else value
    if isinstance(text, str):
        account = data["accounts"][row[_col(data, "findings", "account")]][_col(data, "accounts", "name")]
        deployment = row[_col(data, "findings", "deployment")] or ""
        text = text.replace("\x02", account).replace("\x01", deployment)
    return text


def test_each_row_shows_its_own_fix_and_message(demo: tuple[dict[str, Any], dict[str, Any]]) -> None:
    data, report = demo
    shown: Counter[tuple[Any, Any, Any]] = Counter()
    rule_at, message_at, fix_at = (_col(data, "findings", n) for n in ("rule", "message", "fix"))
    remediation_at, id_at = _col(data, "rules", "remediation"), _col(data, "rules", "id")
    for row in data["findings"]:
        rule = data["rules"][row[rule_at]]
        own = _field(row, fix_at)
        fix = data["remedies"][own] if own is not None else rule[remediation_at]
        shown[(rule[id_at], _text(row[message_at], row, data), fix)] += 1
    expected = Counter(
        (f["rule_id"], f["message"], f["remediation"]) for f in report["findings"] if f["status"] != "pass"
    )
    assert shown == expected
    # the demo has rules whose findings need different fixes: the case the page used to get wrong
    fixes_by_rule: dict[str, set[str]] = {}
    for rule_id, _, fix in expected:
        fixes_by_rule.setdefault(rule_id, set()).add(fix)
    assert any(len(fixes) > 1 for fixes in fixes_by_rule.values())


def test_each_distinct_fix_is_stored_once(demo: tuple[dict[str, Any], dict[str, Any]]) -> None:
    data, _ = demo
    assert len(data["remedies"]) == len(set(data["remedies"]))
    fix_at, rule_at = _col(data, "findings", "fix"), _col(data, "findings", "rule")
    remediation_at = _col(data, "rules", "remediation")
    own = [row for row in data["findings"] if _field(row, fix_at) is not None]
    assert own and all(data["remedies"][row[fix_at]] != data["rules"][row[rule_at]][remediation_at] for row in own)


def test_the_page_script_reads_the_findings_own_fix() -> None:
    template = (Path(__file__).resolve().parents[1] / "reports" / "report.html.j2").read_text()
    assert "D.remedies[own]" in template and "f[F.fix]" in template
