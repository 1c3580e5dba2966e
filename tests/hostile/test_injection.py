"""Class 5: workflow-command and terminal injection. Names from a contract, model strings from scanned
code and messages from Azure may carry newlines (a `::error::` or `::add-mask::` line, which GitHub
Actions executes) and ANSI/OSC escapes. Everything printed is one line per item, control characters
shown as escapes."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.cli import main
from auditor.demo.sim import FaultRule, SimulatedTenant
from auditor.util.redact import printable

EVIL = "x\n::error::owned\r\n::add-mask::y\x1b]0;title\x07\x1b[2J\u2028::warning::z"


def _lines_are_safe(text: str) -> None:
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line
    assert "\x1b" not in text and "\x07" not in text and "\u2028" not in text and "\r" not in text


def test_printable_keeps_one_line_and_shows_controls() -> None:
    shown = printable(EVIL)
    assert "\n" not in shown and "\x1b" not in shown
    assert "\\n::error::owned" in shown and "\\x1b]0;title\\x07" in shown and "\\u2028" in shown


def test_contract_names_and_azure_messages_cannot_inject(tenant: SimulatedTenant, tmp_path: Path, capsys) -> None:
    contract = tmp_path / "contract.yaml"
    contract.write_text("deployments:\n  " + json.dumps(EVIL) + ": {api: chat_completions}\n", encoding="utf-8")
    body = {"error": {"code": "InternalServerError", "message": EVIL}}
    tenant.add_fault(FaultRule(r"/accounts/fabrikam-aoai-wus/deployments$", 500, body, {}, None))
    code = main(
        [
            "--management-endpoint",
            tenant.management_url,
            "--out",
            str(tmp_path / "out"),
            "--resource",
            "fabrikam-aoai-wus",
            "--contract",
            str(contract),
        ]
    )
    captured = capsys.readouterr()
    assert code in (1, 3)
    assert "owned" in captured.out, "the hostile name should be shown, made inert"
    _lines_are_safe(captured.out)
    _lines_are_safe(captured.err)


def test_an_input_error_naming_a_hostile_value_is_one_line(tmp_path: Path, capsys) -> None:
    contract = tmp_path / "contract.yaml"
    contract.write_text("deployments:\n  d: {api: " + json.dumps(EVIL) + "}\n", encoding="utf-8")
    assert main(["--plan", str(tmp_path / "nope.yaml"), "--contract", str(contract), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    _lines_are_safe(err)


def test_scanned_model_strings_cannot_inject(tmp_path: Path, capsys) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text(
        f"from openai import OpenAI\nclient = OpenAI()\nclient.chat.completions.create(model={EVIL!r}, messages=[])\n",
        encoding="utf-8",
    )
    assert main(["contract", "scan", str(app), "--out", str(tmp_path / "c.yaml")]) == 0
    captured = capsys.readouterr()
    _lines_are_safe(captured.out)
    _lines_are_safe(captured.err)
    # and the contract it wrote reads back as the same single name
    from auditor.sources.contract import load_contract_document

    calls, _ = load_contract_document(tmp_path / "c.yaml", {})
    assert [c.deployment for c in calls] == [EVIL]
