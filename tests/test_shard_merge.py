"""Reports at scale: the compact form (passes counted, not listed) in report.json and JUnit, drift against a
compact baseline, `--shard K/N` and `audit merge` (same result as one run, refusals, a missing shard)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from auditor.cli import main
from auditor.gating.drift import load_baseline
from auditor.gating.shard import in_shard, parse_shard, shard_of
from auditor.model.errors import InputError
from auditor.pipeline.audit import audit, finish
from auditor.render.json_report import SUMMARY_ABOVE, passes_form, render_json
from auditor.render.templates import render_junit
from auditor.util.resources import schema_path
from tests.conftest import TODAY, make_deployment, make_facts, run_demo

XSD = Path(__file__).resolve().parent / "schemas" / "junit-10.xsd"


@pytest.fixture()
def report(rules, kb):
    facts = make_facts(make_deployment("chat"), make_deployment("old", "gpt-35-turbo", "0125", sku="Standard"))
    return audit(facts, rules, kb, today=TODAY)


def _schema() -> dict:
    return json.loads(schema_path("report.schema.json").read_text())


def test_auto_counts_passes_above_the_threshold(report) -> None:
    assert passes_form("auto", report) == "full"
    big = replace(report, deployments=report.deployments * (SUMMARY_ABOVE // 2 + 1))
    assert passes_form("auto", big) == "summary" and passes_form("full", big) == "full"
    with pytest.raises(InputError, match="unknown --passes value 'some'"):
        passes_form("some", report)


def test_compact_json_counts_passes_per_account_and_rule(report) -> None:
    full = json.loads(render_json(report))
    compact = json.loads(render_json(replace(report, passes="summary")))
    jsonschema.validate(compact, _schema())
    jsonschema.validate(full, _schema())
    assert full["passes"] == "full" and "pass_counts" not in full
    assert compact["passes"] == "summary"
    assert [f for f in full["findings"] if f["status"] != "pass" or not f["account_id"]] == compact["findings"]
    passed = Counter(
        (f["account_id"], f["rule_id"]) for f in full["findings"] if f["status"] == "pass" and f["account_id"]
    )
    assert {(p["account_id"], p["rule_id"]): p["passed"] for p in compact["pass_counts"]} == passed
    kinds = {p["rule_id"]: p["applies_to"] for p in compact["pass_counts"]}
    assert kinds["AOAI-SEC-001"] == "account" and "deployment" in kinds.values()
    assert compact["summary"] == full["summary"], "the counts do not depend on the form"


def test_compact_junit_lists_failures_and_counts_passes(report) -> None:
    xml = render_junit(replace(report, passes="summary"))
    xmlschema.XMLSchema(str(XSD)).validate(xml)
    root = ET.fromstring(xml)
    cases = root.findall(".//testcase")
    listed = [c for c in cases if "passing check(s), counted not listed" not in c.get("name", "")]
    assert len(listed) == sum(f.status.value != "pass" or not f.account_id for f in report.findings)
    passed = sum(int(p.get("value", "0")) for p in root.findall(".//property[@name='passed']"))
    assert passed == sum(f.status.value == "pass" and bool(f.account_id) for f in report.findings) > 0
    assert int(root.get("tests", "0")) == len(cases)


def test_drift_reads_a_compact_baseline_like_a_full_one(report, tmp_path: Path) -> None:
    now = replace(report, findings=report.findings[1:])
    marks = []
    for form in ("full", "summary"):
        path = tmp_path / f"{form}.json"
        path.write_text(render_json(replace(report, passes=form)))
        drifted = finish(now, baseline=load_baseline(path))
        marks.append(([f.drift for f in drifted.findings], drifted.drift))
    assert marks[0] == marks[1]


def test_shards_split_accounts_stably_without_overlap() -> None:
    ids = [
        f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/a{i}" for i in range(2000)
    ]
    shards = Counter(shard_of(i, 8) for i in ids)
    assert set(shards) == set(range(1, 9)) and min(shards.values()) > 150, shards
    for account in ids[:50]:
        assert sum(in_shard(account, (k, 8)) for k in range(1, 9)) == 1
        assert in_shard(account.upper(), (shard_of(account, 8), 8)), "ARM ids are case-insensitive"
    assert parse_shard(" 2/8 ") == (2, 8)
    for bad in ("0/8", "9/8", "2", "a/b", "1/0"):
        with pytest.raises(InputError, match="--shard"):
            parse_shard(bad)


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shards")
    for label in ("1/1", "1/2", "2/2"):
        code = run_demo(root / label.replace("/", "-of-"), "--shard", label, "--format", "json", "--passes", "summary")
        assert code in (1, 3)
    return root


def _findings(path: Path) -> Counter[tuple[str, str, str]]:
    data = json.loads(path.read_text())
    return Counter((f["key"], f["status"], f["severity"]) for f in data["findings"])


def test_merged_shards_equal_one_run(shards: Path, tmp_path: Path, capsys) -> None:
    whole = shards / "1-of-1" / "report.json"
    one, two = shards / "1-of-2" / "report.json", shards / "2-of-2" / "report.json"
    assert json.loads(one.read_text())["targets"] and json.loads(two.read_text())["targets"], (
        "both shards hold accounts"
    )
    expected = main(["merge", str(whole), "--out", str(tmp_path / "whole"), "--quiet"])
    code = main(["merge", str(one), str(two), "--out", str(tmp_path / "merged")])
    out = capsys.readouterr().out
    assert code == expected == 1 and "Result: failed at the gate" in out.splitlines()[-1]
    assert {p.name for p in (tmp_path / "merged").iterdir()} >= {
        "report.html",
        "junit.xml",
        "report.json",
        "report.sarif",
        "summary.md",
    }
    merged = json.loads((tmp_path / "merged" / "report.json").read_text())
    single = json.loads((tmp_path / "whole" / "report.json").read_text())
    jsonschema.validate(merged, _schema())
    assert _findings(tmp_path / "merged" / "report.json") == _findings(tmp_path / "whole" / "report.json")
    assert merged["summary"] == single["summary"] and merged["summary"]["by_status"]["pass"] > 0
    assert [t["id"] for t in merged["targets"]] == [t["id"] for t in single["targets"]]
    assert len(merged["deployments"]) == len(single["deployments"]) and merged["quota"] == single["quota"]


def test_merge_refuses_other_rule_sets_and_knowledge_bases(shards: Path, tmp_path: Path, capsys) -> None:
    one, two = shards / "1-of-2" / "report.json", shards / "2-of-2" / "report.json"
    for field, value, words in (
        ("ruleset", "2025.01", "different rule sets"),
        ("knowledge_checked", "2025-01-01", "different knowledge bases"),
    ):
        other = tmp_path / f"{field}.json"
        data = json.loads(two.read_text())
        data[field] = value
        other.write_text(json.dumps(data))
        assert main(["merge", str(one), str(other), "--out", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err.strip()
        assert words in err and str(other) in err and len(err.splitlines()) == 1
    assert main(["merge", str(one), str(one), "--out", str(tmp_path / "x")]) == 2
    assert "shard 1/2 given twice" in capsys.readouterr().err
    whole = shards / "1-of-1" / "report.json"
    assert main(["merge", str(whole), str(one), "--out", str(tmp_path / "x")]) == 2
    assert "(shards overlap)" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_missing_shard_makes_the_merge_incomplete(shards: Path, tmp_path: Path) -> None:
    only = shards / "1-of-2" / "report.json"
    main(["merge", str(only), "--out", str(tmp_path / "m"), "--quiet", "--fail-on", "never"])
    merged = json.loads((tmp_path / "m" / "report.json").read_text())
    assert merged["complete"] is False and "shard 2/2 is missing: its accounts were not audited" in merged["gaps"]
    assert main(["merge", str(only), "--out", str(tmp_path / "m"), "--quiet", "--fail-on", "never"]) == 3


def test_shard_with_a_contract_is_refused(tmp_path: Path, capsys) -> None:
    contract = tmp_path / "c.yaml"
    contract.write_text("deployments: {}\n")
    assert run_demo(tmp_path / "o", "--shard", "1/2", "--contract", str(contract)) == 2
    assert "--shard splits the accounts" in capsys.readouterr().err
    assert run_demo(tmp_path / "o", "--shard", "3/2") == 2


def test_merge_compares_with_a_baseline(shards: Path, tmp_path: Path) -> None:
    whole = shards / "1-of-1" / "report.json"
    one, two = shards / "1-of-2" / "report.json", shards / "2-of-2" / "report.json"
    out = tmp_path / "m"
    assert main(["merge", str(one), str(two), "--baseline", str(whole), "--out", str(out), "--quiet"]) == 1
    merged = json.loads((out / "report.json").read_text())
    assert merged["summary"]["drift"]["new"] == 0 and merged["summary"]["drift"]["unchanged"] > 0
    assert merged["summary"]["drift"]["resolved"] == merged["summary"]["drift"]["deployment_changes"] == 0


def test_a_broken_report_is_one_line_naming_it(shards: Path, tmp_path: Path, capsys) -> None:
    one, two = shards / "1-of-2" / "report.json", shards / "2-of-2" / "report.json"
    data = json.loads(two.read_text())
    del data["findings"][0]["severity"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data))
    truncated = tmp_path / "truncated.json"
    truncated.write_text(two.read_text()[:500])
    for bad in (broken, truncated):
        assert main(["merge", str(one), str(bad), "--out", str(tmp_path / "x")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"audit: error: {bad}: ") and len(err.splitlines()) == 1, err
