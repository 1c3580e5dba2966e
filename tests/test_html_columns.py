"""The HTML page's data rows are read by field name: html_data.COLUMNS names each table's fields in row order,
the payload carries that declaration and the page's script reads no field of a row by its position."""

from __future__ import annotations

import re
from pathlib import Path

from auditor.pipeline.audit import audit
from auditor.render.html_data import COLUMNS, payload
from tests.conftest import TODAY, make_deployment, make_facts

TEMPLATE = Path(__file__).resolve().parents[1] / "reports" / "report.html.j2"


def test_the_script_reads_row_fields_by_name() -> None:
    script = TEMPLATE.read_text(encoding="utf-8").split("<script>", 1)[1]
    # a row variable indexed by a number (f[5], r[0], ACCOUNTS[a][1], inv[8]); the [rule, count] pairs of
    # counted passes (rc, p) are pairs, not rows
    positional = re.findall(r"\b(?:f|r|ru|rule|acc|inv|d|c|ACCOUNTS\[a\]|D\.findings\[r\.i\])\[\d+\]", script)
    assert positional == []


def test_the_payload_names_every_field_of_its_rows(rules, kb) -> None:
    report = audit(
        make_facts(make_deployment("chat"), make_deployment("r", "o4-mini", "2025-04-16")), rules, kb, today=TODAY
    )
    data = payload(report)
    assert data["columns"] == {table: list(names) for table, names in COLUMNS.items()}
    for table in ("rules", "accounts", "deployments", "otherPasses", "countedPasses"):
        assert all(len(row) == len(COLUMNS[table]) for row in data[table]), table
    message = COLUMNS["findings"].index("message")
    assert data["findings"] and all(message < len(row) <= len(COLUMNS["findings"]) for row in data["findings"])
