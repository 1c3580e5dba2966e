"""Drift against a baseline report: new / unchanged / resolved findings and deployment changes, shown
in JSON, HTML and Markdown; a malformed baseline is exit 2 naming file and line."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from auditor.gating.drift import apply_baseline, load_baseline
from auditor.model.errors import InputError
from auditor.model.results import Category, Finding, Severity, Status, finding_key
from auditor.pipeline.audit import audit
from auditor.render.json_report import render_json
from auditor.render.markdown import render_markdown
from auditor.render.templates import render_html
from tests.conftest import TODAY, make_account, make_deployment, make_facts, run_demo
from tests.test_reports_html import page_data

YESTERDAY = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)


@pytest.fixture()
def baseline_file(rules, kb, tmp_path: Path) -> Path:
    """Last night: chat on gpt-4o 2024-05-13, capacity 10, failed to provision; and a deployment `old`."""
    facts = make_facts(
        make_deployment("chat", version="2024-05-13", capacity=10, provisioning_state="Failed"),
        make_deployment("old", "gpt-4o", "2024-05-13"),
        account=make_account(disable_local_auth=False),
    )
    path = tmp_path / "previous" / "report.json"
    path.parent.mkdir()
    path.write_text(render_json(audit(facts, rules, kb, today=TODAY, now=YESTERDAY)))
    return path


@pytest.fixture()
def drifted(rules, kb, baseline_file: Path):
    """Tonight: chat redeployed on 2024-11-20 with capacity 20, `old` gone, `fresh` added and failed."""
    facts = make_facts(
        make_deployment("chat", version="2024-11-20", capacity=20),
        make_deployment("fresh", "gpt-4o-mini", "2024-07-18", provisioning_state="Failed"),
        account=make_account(disable_local_auth=False),
    )
    return apply_baseline(audit(facts, rules, kb, today=TODAY, now=NOW), load_baseline(baseline_file))


def test_findings_are_new_or_unchanged_and_fixed_ones_resolved(drifted) -> None:
    attention = [f for f in drifted.findings if f.status in (Status.FAIL, Status.UNKNOWN, Status.WAIVED)]
    assert all(f.drift in ("new", "unchanged") for f in attention)
    assert all(f.drift is None for f in drifted.findings if f.status is Status.PASS)
    new = {(f.rule_id, f.target_name) for f in attention if f.drift == "new"}
    assert ("AOAI-DEPLOY-001", "acct/fresh") in new
    unchanged = {(f.rule_id, f.target_name) for f in attention if f.drift == "unchanged"}
    assert ("AOAI-SEC-001", "acct") in unchanged
    resolved = {(r.rule_id, r.target_name) for r in drifted.drift.resolved}
    assert ("AOAI-DEPLOY-001", "acct/chat") in resolved, "chat provisions now"
    # gpt-4o 2024-05-13 retires 2026-12-09 (MS-T5): on TODAY it is retiring soon
    assert ("AOAI-LIFE-002", "acct/old") in resolved, "a removed deployment's findings are resolved"
    summary = drifted.summary().drift
    assert summary.new == len(new) and summary.resolved == len(resolved)


def test_deployment_changes_show_the_overnight_upgrade(drifted) -> None:
    changes = {(c.deployment, c.change): (c.before, c.after) for c in drifted.drift.changes}
    assert changes == {
        ("chat", "model_version"): ("2024-05-13", "2024-11-20"),
        ("chat", "capacity"): ("10", "20"),
        ("fresh", "added"): (None, "gpt-4o-mini 2024-07-18 GlobalStandard"),
        ("old", "removed"): ("gpt-4o 2024-05-13 GlobalStandard", None),
    }


def test_drift_shows_in_json_html_and_markdown(drifted) -> None:
    data = json.loads(render_json(drifted))
    assert data["drift"]["baseline_generated_at"] == YESTERDAY.isoformat()
    assert {
        "deployment": "chat",
        "change": "model_version",
        "before": "2024-05-13",
        "after": "2024-11-20",
    }.items() <= next(c for c in data["drift"]["deployment_changes"] if c["change"] == "model_version").items()
    assert {f["drift"] for f in data["findings"]} == {None, "new", "unchanged"}
    html = render_html(drifted)
    assert 'id="deployment-changes"' in html and 'data-change="model_version"' in html
    assert sum(f[8] == "new" for f in page_data(html)["findings"]) == data["summary"]["drift"]["new"]
    assert 'id="f-new"' in html and 'id="resolved"' in html
    text = render_markdown(drifted)
    assert "Since the baseline: **" in text and "| acct | chat | model version | 2024\\-05\\-13" not in text
    assert "| acct | chat | model version | 2024-05-13 | 2024-11-20 |" in text
    assert "**Resolved since the baseline**" in text


def test_nothing_is_claimed_about_accounts_not_read_in_full(rules, kb, baseline_file: Path) -> None:
    from auditor.model.facts import CollectionGap
    from tests.conftest import ACCOUNT_ID

    facts = make_facts(account=make_account(disable_local_auth=False))
    facts = type(facts)(
        accounts=facts.accounts,
        deployments=(),
        regions=facts.regions,
        gaps=(CollectionGap(ACCOUNT_ID, "deployments could not be read: 503"),),
    )
    report = apply_baseline(audit(facts, rules, kb, today=TODAY, now=NOW), load_baseline(baseline_file))
    assert not [c for c in report.drift.changes if c.change == "removed"]
    assert not [r for r in report.drift.resolved if r.target_name.startswith("acct/")]


def test_finding_key_ignores_the_message_but_not_the_identity_facts() -> None:
    def f(message: str, identity: str = "") -> Finding:
        return Finding(
            "AOAI-LIFE-002",
            "t",
            Category.LIFECYCLE,
            Severity.ERROR,
            Status.FAIL,
            "/x",
            "x",
            message,
            "r",
            identity=identity,
        )

    assert f("retires on 2026-12-12, in 20 days").key == f("retires on 2026-12-13, in 19 days").key
    assert f("reworded entirely").key == f("retires soon").key
    assert f("m", "param.name=temperature").key != f("m", "param.name=top_p").key
    assert f("m", "param.name=top_p").key == finding_key("AOAI-LIFE-002", "/x", "param.name=top_p")


@pytest.mark.parametrize(
    "text,line,words",
    [
        ('{\n  "schema_version": "1.1",\n  "findings": [,]\n}\n', 3, "baseline is not valid JSON"),
        ('{\n  "schema_version": "2.0"\n}\n', 1, "not an audit report.json"),
        ("[]\n", 1, "not an audit report.json: top level"),
    ],
)
def test_malformed_baseline_names_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "report.json"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_baseline(path)
    assert str(caught.value).startswith(f"{path}:{line}: {words}"), str(caught.value)


def test_schema_error_points_at_the_line_of_the_bad_value(baseline_file: Path) -> None:
    data = json.loads(baseline_file.read_text())
    data["findings"][3]["status"] = "passed"
    text = json.dumps(data, indent=2)
    baseline_file.write_text(text)
    expected = next(i for i, line in enumerate(text.splitlines(), 1) if '"status": "passed"' in line)
    with pytest.raises(InputError, match=rf"^{baseline_file}:{expected}: not an audit report.json: findings/3/status"):
        load_baseline(baseline_file)


_demo = run_demo


def test_cli_baseline_run(tmp_path: Path) -> None:
    """Yesterday's demo report, edited to look like yesterday: chat-prod ran 2024-08-06, DEPLOY-001 did not
    fail yet, and a finding that has since been fixed."""
    assert _demo(tmp_path / "previous", "--format", "json") == 1
    previous = tmp_path / "previous" / "report.json"
    data = json.loads(previous.read_text())
    chat = next(d for d in data["deployments"] if d["name"] == "chat-prod")
    chat["model_version"] = "2024-08-06"
    data["findings"] = [f for f in data["findings"] if f["rule_id"] != "AOAI-DEPLOY-001"]
    fixed = dict(next(f for f in data["findings"] if f["rule_id"] == "AOAI-SEC-001" and f["status"] == "fail"))
    fixed.update(rule_id="AOAI-SEC-009", title="A check that was fixed overnight", message="It was broken.")
    data["findings"].append(fixed)
    previous.write_text(json.dumps(data, indent=2))

    assert _demo(tmp_path / "now", "--baseline", str(previous)) == 1
    report = json.loads((tmp_path / "now" / "report.json").read_text())
    assert {
        "account_name": "contoso-aoai-eus2",
        "deployment": "chat-prod",
        "change": "model_version",
        "before": "2024-08-06",
        "after": "2024-11-20",
    }.items() <= report["drift"]["deployment_changes"][0].items()
    assert len(report["drift"]["deployment_changes"]) == 1
    new = [f for f in report["findings"] if f["drift"] == "new"]
    assert [f["rule_id"] for f in new] == ["AOAI-DEPLOY-001"]
    assert [r["rule_id"] for r in report["drift"]["resolved"]] == ["AOAI-SEC-009"]
    html = (tmp_path / "now" / "report.html").read_text()
    assert [f[8] for f in page_data(html)["findings"]].count("new") == 1
    assert (
        "Since the baseline: **1 new**, 1 resolved, 1 deployment change(s)."
        in (tmp_path / "now" / "summary.md").read_text()
    )


def test_cli_malformed_baseline_is_exit_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "report.json"
    bad.write_text('{"schema_version": "1.1",\n "findings": [\n')
    assert _demo(tmp_path / "out", "--baseline", str(bad)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"audit: error: {bad}:3: baseline is not valid JSON") and len(err.splitlines()) == 1
    assert _demo(tmp_path / "out", "--baseline", str(tmp_path / "missing.json")) == 2
    assert "missing.json: baseline file not found" in capsys.readouterr().err
