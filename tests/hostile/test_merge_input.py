"""Round 2, `audit merge`: a shard file is input, and may be forged. It is read through the bounded reader
(no /dev/zero, FIFO, directory, invalid UTF-8, 600-deep nesting, absurd `shard` label), it speaks only for
the accounts in its own targets, a repeated finding key resolves to the worst status, an expired waiver
waives nothing, an empty shard is complete with zero accounts, and shard text is filtered like a fresh
run's. The merged gate cannot be turned green by a forged shard."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from tests.conftest import run_demo

BOUND = 10.0


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo tenant's three accounts as shards 1/2 and 2/2, and as 1/4 .. 4/4 (2/4 and 3/4 hold none)."""
    root = tmp_path_factory.mktemp("shards")
    made: dict[str, Path] = {}
    for label in ("1/2", "2/2", "1/4", "2/4", "3/4", "4/4"):
        out = root / label.replace("/", "of")
        assert run_demo(out, "--shard", label, "--format", "json", "--fail-on", "never") in (0, 3)
        made[label] = out / "report.json"
    return made


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _merge(capsys, out: Path, *args: str) -> tuple[int, str]:
    started = time.monotonic()
    code = main(["merge", *args, "--out", str(out), "--quiet"])
    assert time.monotonic() - started < BOUND
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_an_empty_shard_is_complete_with_zero_accounts(shards, tmp_path: Path, capsys) -> None:
    empty = _load(shards["2/4"])
    assert empty["targets"] == [] and empty["gaps"] == []  # the shard run itself is complete
    quarters = [str(shards[k]) for k in ("1/4", "2/4", "3/4", "4/4")]
    code, _ = _merge(capsys, tmp_path / "out", *quarters, "--fail-on", "never")
    merged = _load(tmp_path / "out" / "report.json")
    assert code == 0 and merged["gaps"] == [] and len(merged["targets"]) == 3


def test_a_merge_of_only_empty_shards_audited_nothing(shards, tmp_path: Path, capsys) -> None:
    one = _write(tmp_path / "e1.json", {**_load(shards["2/4"]), "shard": "1/2"})
    two = _write(tmp_path / "e2.json", {**_load(shards["3/4"]), "shard": "2/2"})
    code, _ = _merge(capsys, tmp_path / "out", str(one), str(two), "--fail-on", "never")
    assert code == 3 and any("audited nothing" in g for g in _load(tmp_path / "out" / "report.json")["gaps"])


def test_a_forged_shard_cannot_speak_for_another_shards_accounts(shards, tmp_path: Path, capsys) -> None:
    honest = _load(shards["2/2"])
    failing = [f for f in honest["findings"] if f["status"] == "fail" and f.get("account_id")]
    assert failing
    forged = _load(shards["1/2"])
    forged["findings"] = [{**f, "status": "pass"} for f in failing] + forged["findings"]
    path = _write(tmp_path / "forged.json", forged)
    code, err = _merge(capsys, tmp_path / "out", str(path), str(shards["2/2"]))
    assert code == 2 and "not among this shard's targets" in err and str(path) in err


def test_a_forged_shard_cannot_claim_accounts_outside_its_bucket(shards, tmp_path: Path, capsys) -> None:
    forged = _load(shards["2/2"])
    forged["shard"] = "1/2"
    path = _write(tmp_path / "forged.json", forged)
    code, err = _merge(capsys, tmp_path / "out", str(path))
    assert code == 2 and "is not in shard 1/2" in err


def _tenant_wide_failure(shards) -> dict[str, Any]:
    """A tenant-wide finding (no account) as a failure, as the honest shard would report it."""
    finding = next(f for f in _load(shards["2/2"])["findings"] if not f.get("account_id"))
    return {**finding, "status": "fail", "severity": "error"}


@pytest.mark.parametrize("disguise", ["pass", "expired waiver"])
def test_a_repeated_key_resolves_to_the_worst_status(shards, tmp_path: Path, capsys, disguise: str) -> None:
    failure = _tenant_wide_failure(shards)
    honest = _load(shards["2/2"])
    honest["findings"] = [failure if f["key"] == failure["key"] else f for f in honest["findings"]]
    forged = _load(shards["1/2"])
    waiver = {"owner": "x", "reason": "y", "expires": "2000-01-01", "source": "w.yaml:1"}
    fake = {**failure, "status": "pass"} if disguise == "pass" else {**failure, "status": "waived", "waiver": waiver}
    forged["findings"] = [fake] + [f for f in forged["findings"] if f["key"] != failure["key"]]
    first = _write(tmp_path / "forged.json", forged)
    second = _write(tmp_path / "honest.json", honest)
    code, _ = _merge(capsys, tmp_path / "out", str(first), str(second))
    merged = {f["key"]: f for f in _load(tmp_path / "out" / "report.json")["findings"]}
    assert merged[failure["key"]]["status"] == "fail" and merged[failure["key"]]["waiver"] is None
    assert code == 1


@pytest.mark.parametrize("label", ["1/1000000000", "1", 1, "0/2", "3/2", "9" * 5000 + "/2"])
def test_a_bad_shard_label_is_exit_2(shards, tmp_path: Path, capsys, label: object) -> None:
    path = _write(tmp_path / "shard.json", {**_load(shards["1/2"]), "shard": label})
    code, err = _merge(capsys, tmp_path / "out", str(path))
    assert code == 2 and str(path) in err and len(err) < 400


def test_a_5000_digit_shard_option_is_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["--demo", "--shard", "9" * 5000 + "/2", "--out", str(tmp_path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def _special(tmp_path: Path, kind: str) -> str:
    if kind == "dev-zero":
        return "/dev/zero"
    if kind == "directory":
        return str(tmp_path)
    if kind == "fifo":
        os.mkfifo(tmp_path / "fifo.json")
        return str(tmp_path / "fifo.json")
    path = tmp_path / f"{kind}.json"
    if kind == "invalid-utf8":
        path.write_bytes(b'{"schema_version": "1.0", "x": "\xff\xfe"}')
    elif kind == "nested-600":
        path.write_text('{"schema_version": "1.0", "e": ' + "[" * 600 + "]" * 600 + "}")
    return str(path)


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory", "invalid-utf8", "nested-600"])
def test_a_hostile_shard_file_is_exit_2(tmp_path: Path, capsys, kind: str) -> None:
    if kind == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path = _special(tmp_path, kind)
    code, err = _merge(capsys, tmp_path / "out", path)
    assert code == 2 and path in err


def test_evidence_nested_600_deep_in_a_real_shard_is_exit_2(shards, tmp_path: Path, capsys) -> None:
    data = _load(shards["1/2"])
    deep: Any = "x"
    for _ in range(600):
        deep = {"e": deep}
    data["findings"][0]["evidence"] = deep
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(data))
    code, err = _merge(capsys, tmp_path / "out", str(path))
    assert code == 2 and "nests deeper" in err


def test_a_summary_missing_keys_is_no_traceback(shards, tmp_path: Path, capsys) -> None:
    path = _write(tmp_path / "s.json", {**_load(shards["1/2"]), "summary": {}})
    code, _ = _merge(capsys, tmp_path / "out", str(path), str(shards["2/2"]), "--fail-on", "never")
    assert code in (0, 3)


def test_out_naming_a_shard_file_is_exit_2(shards, tmp_path: Path, capsys) -> None:
    copy = _write(tmp_path / "report.json", _load(shards["1/2"]))
    code, err = _merge(capsys, copy, str(copy), str(shards["2/2"]))
    assert code == 2 and "not a directory" in err
    assert _load(copy)["shard"] == "1/2"


def test_shard_text_is_filtered_like_a_fresh_runs(shards, tmp_path: Path, capsys) -> None:
    one = _load(shards["1/2"])
    for rule in one["rules"]:
        rule["docs"] = "javascript:alert(document.domain)"
    drift = {
        "baseline_generated_at": one["generated_at"],
        "baseline_tool_version": "1",
        "resolved": [],
        "deployment_changes": [
            {
                "account_id": "a",
                "account_name": "a",
                "deployment": "d",
                "change": "added",
                "before": None,
                "after": "x",
            },
            {
                "account_id": "a",
                "account_name": "a",
                "deployment": "d",
                "change": "sku\n# injected heading <img src=x onerror=alert(1)>",
                "before": "a",
                "after": "b",
            },
        ],
    }
    two = _load(shards["2/2"])
    paths = [_write(tmp_path / "1.json", {**one, "drift": drift}), _write(tmp_path / "2.json", {**two, "drift": drift})]
    code, err = _merge(capsys, tmp_path / "out", *map(str, paths), "--format", "sarif,markdown", "--fail-on", "never")
    assert code == 0, err
    sarif = (tmp_path / "out" / "report.sarif").read_text(encoding="utf-8")
    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    assert "javascript:" not in sarif
    assert "# injected" not in summary and "<img" not in summary
