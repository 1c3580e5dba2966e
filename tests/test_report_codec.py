"""One report.json reader (auditor/gating/reportfile.py) for the baseline and for `audit merge`: the same size
bound, the same schema check, and it reads back what the JSON renderer writes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from auditor.gating import reportfile
from auditor.gating.drift import load_baseline
from auditor.gating.merge import load_shard
from auditor.model.errors import InputError
from auditor.pipeline.audit import audit
from auditor.render.json_report import write_json
from tests.conftest import TODAY, make_deployment, make_facts

READERS = {"baseline": load_baseline, "merge": load_shard}


@pytest.fixture()
def written(rules, kb, tmp_path: Path) -> Path:
    """A report.json as `--format json` writes it."""
    out = io.BytesIO()
    write_json(audit(make_facts(make_deployment("chat")), rules, kb, today=TODAY), out)
    path = tmp_path / "report.json"
    path.write_bytes(out.getvalue())
    return path


def test_what_the_renderer_writes_both_readers_read_back(written: Path) -> None:
    data = reportfile.read_report(written)
    assert data == json.loads(written.read_text())
    assert load_shard(written)["findings"] == data["findings"]
    assert list(load_baseline(written).findings) == data["findings"]


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
def test_both_readers_refuse_a_report_above_the_same_bound(
    reader, written: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reportfile, "MAX_REPORT_BYTES", written.stat().st_size - 1)
    with pytest.raises(InputError, match=r"larger than [0-9,]+ bytes"):
        reader(written)
    monkeypatch.setattr(reportfile, "MAX_REPORT_BYTES", written.stat().st_size)
    reader(written)


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS.keys())
@pytest.mark.parametrize(
    "change,words",
    [
        (lambda d: d.update(schema_version="2.0"), "schema_version: '2.0' does not match"),
        (lambda d: d["findings"][0].update(status="passed"), "findings/0/status: 'passed' is not one of"),
        (lambda d: d["deployments"][0].pop("sku_name"), "'sku_name' is a required property"),
    ],
)
def test_both_readers_check_the_same_schema(reader, written: Path, change, words: str) -> None:
    data = json.loads(written.read_text())
    change(data)
    written.write_text(json.dumps(data, indent=2))
    with pytest.raises(InputError, match=r"not an audit report\.json") as caught:
        reader(written)
    assert str(caught.value).startswith(str(written)) and words in str(caught.value), str(caught.value)


def test_merge_needs_the_rule_set_a_baseline_does_not(written: Path) -> None:
    data = json.loads(written.read_text())
    del data["rules"]
    written.write_text(json.dumps(data))
    assert load_baseline(written).findings
    with pytest.raises(InputError, match="'rules' is a required property"):
        load_shard(written)
