"""The console: lines that fit the terminal, colour only for a person, unknowns at the gate listed, and the
verdict with the report's path last."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from auditor.cli.console import Style, console_lines, fit, terminal_style
from auditor.gating.verdict import gate, verdict
from auditor.model.facts import CollectionGap, ContractCall
from auditor.pipeline.audit import audit
from auditor.util.redact import printable
from tests.conftest import ACCOUNT_ID, TODAY, make_account, make_deployment, make_facts

NOW = datetime(2026, 11, 22, 8, tzinfo=timezone.utc)
PATHS = [Path("out/report.html"), Path("out/report.json")]


@pytest.fixture()
def report(rules, kb):
    facts = make_facts(
        make_deployment("chat-with-a-rather-long-deployment-name-" * 3),
        make_deployment("legacy", "gpt-35-turbo", "0125", sku="Standard"),
        make_deployment("reasoner", "o4-mini", "2025-04-16"),
        account=make_account(disable_local_auth=False),
    )
    return audit(facts, rules, kb, today=TODAY, now=NOW)


def test_fit_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    text = "  ERROR    AOAI-LIFE-001    acct/dep: gpt-35-turbo 0125 on legacy retired on 2025-11-14 and more words"
    cut = fit(text, 60)
    assert len(cut) <= 60 and cut.endswith("…") and not cut.endswith(" …")
    assert text.startswith(cut[:-1]) and text[len(cut) - 1] == " ", "cut where a word ends"
    assert fit("short", 60) == "short"


def test_every_line_fits_the_width_and_the_verdict_comes_last(report) -> None:
    for width in (60, 80, 132):
        lines = console_lines(report, PATHS, "error", Style(width=width))
        assert all(len(line) <= width for line in lines if line.startswith("  ")), width
        assert lines[-1].startswith("Result: failed at the gate (error)") and lines[-1].endswith("(exit 1)")
        assert lines[-2].startswith("Report: out/report.html (also report.json)")
    assert gate(report, "error") == verdict(report, "error").exit_code == 1


def test_unknowns_at_or_above_the_gate_are_listed_with_their_reason(rules, kb) -> None:
    facts = make_facts(
        make_deployment("chat", "brand-new-model", "1"),
        contract=(ContractCall("chat", "chat_completions", {"stream": True, "temperature": 0.5}),),
    )
    report = audit(facts, rules, kb, today=TODAY, now=NOW)
    lines = console_lines(report, PATHS, "error", Style(width=200))
    unknown = [line for line in lines if line.startswith("  UNKNOWN")]
    expected = [f for f in report.findings if f.status.value == "unknown" and f.severity.value == "error"]
    assert len(unknown) == min(len(expected), 12) > 0
    text = "\n".join(lines)
    assert all(f"{f.reason}" in text and f.cause is not None for f in expected[:12])
    assert all(f"{f.target_name}: [{f.cause.value.replace('_', ' ')}] {f.reason}" in text for f in expected[:12])
    assert "      settle: " in text, "how to settle each cause of unknowns"
    assert lines[-1].startswith("Result: incomplete") and lines[-1].endswith("(exit 3)")
    assert gate(report, "error") == 3
    incomplete = audit(
        replace(make_facts(make_deployment("chat")), gaps=(CollectionGap(ACCOUNT_ID, "catalog: HTTP 503"),)),
        rules,
        kb,
        today=TODAY,
    )
    assert "INCOMPLETE acct: catalog: HTTP 503" in "\n".join(console_lines(incomplete, PATHS, "never", Style()))
    assert verdict(incomplete, "never").exit_code == gate(incomplete, "never") == 3


def test_colour_only_on_a_terminal_without_no_color(report) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert terminal_style(Tty(), {}).colour
    assert not terminal_style(Tty(), {"NO_COLOR": "1"}).colour
    assert not terminal_style(io.StringIO(), {}).colour
    coloured = console_lines(report, PATHS, "error", Style(width=100, colour=True))
    plain = console_lines(report, PATHS, "error", Style(width=100, colour=False))
    assert any("\x1b[31m  ERROR" in line for line in coloured)
    assert not any("\x1b" in line for line in plain)


def test_control_characters_from_the_tenant_never_reach_the_terminal(rules, kb) -> None:
    evil = "dep\x1b[2J\x1b]0;pwned\x07\nnext"
    report = audit(make_facts(make_deployment(evil, "gpt-35-turbo", "0125", sku="Standard")), rules, kb, today=TODAY)
    text = "\n".join(console_lines(report, PATHS, "error", Style(width=300)))
    assert "\x1b" not in text and "\x07" not in text and printable(evil) in text
