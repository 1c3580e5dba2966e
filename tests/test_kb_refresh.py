"""`audit kb` and `audit kb refresh --from-docs`: the knowledge base shown with its sources, and kept current from the
Learn retirement schedule's markdown (fixtures in the page's real table shape, tests/fixtures/kb/)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from auditor.cli import main
from auditor.knowledge.base import load_knowledge, model_view
from auditor.knowledge.refresh import refresh_from_schedule
from auditor.knowledge.schedule import parse_schedule

ROOT = Path(__file__).resolve().parents[1]
KB = ROOT / "rules" / "knowledge" / "models.yaml"
TODAYS_PAGE = ROOT / "tests" / "fixtures" / "kb" / "retirement-schedule-2026-10-05.md"
CHECKED = "2026-12-07"

HEADER = "| Model | Version | Lifecycle | Retirement date | Replacement |\n| --- | --- | --- | --- | --- |\n"


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "models.yaml"
    shutil.copy(KB, target)
    return target


def test_todays_page_reproduces_the_knowledge_base_with_no_diff(kb_copy: Path, capsys) -> None:
    code = main(["kb", "refresh", "--from-docs", str(TODAYS_PAGE), "--base", str(kb_copy), "--checked", CHECKED])
    out = capsys.readouterr().out
    assert code == 0
    assert "---" not in out and "+++" not in out, "no diff expected"
    assert "dates moved: 0" in out and "models added: 0" in out
    assert "already agrees" in out
    assert kb_copy.read_text() == KB.read_text()


def test_the_knowledge_base_holds_the_schedules_dates() -> None:
    schedule = parse_schedule(TODAYS_PAGE.read_text(), str(TODAYS_PAGE))
    kb = yaml.safe_load(KB.read_text())
    seen = set()
    for row in schedule.rows:
        key = (row.model, row.version or "*")
        if key in seen or row.model not in kb["models"]:
            continue  # the page repeats two gpt-realtime-mini rows; the first is recorded
        seen.add(key)
        entry = kb["models"][row.model]["facts"]["retirement"]["value"][row.version or "*"]
        assert entry == {"retires": row.retires, "replacement": row.replacement, "status": row.stage}, key
    legacy = [
        m
        for m, v in kb["models"].items()
        for e in ((v["facts"].get("retirement") or {}).get("value") or {}).values()
        if e["status"] == "Legacy"
    ]
    assert {"gpt-4o"} <= set(legacy)  # 2024-11-20; the gpt-4.1 family moved on to Deprecated on 2026-10-05


def test_a_moved_date_and_a_new_model_make_a_reviewed_diff(kb_copy: Path, tmp_path: Path, capsys) -> None:
    page = tmp_path / "schedule.md"
    page.write_text(
        "---\nms.date: 12/01/2026\n---\n\n## Foundry Models sold by Azure\n\n### Azure OpenAI\n\n"
        + HEADER
        + "| gpt-5.2 | 2025-12-11 | Legacy | 2027-09-01 | gpt-5.6-terra |\n"
        + "| gpt-7-nova | 2026-11-30 | Preview | 2027-03-01 | — |\n"
    )
    before = kb_copy.read_text()
    code = main(["kb", "refresh", "--from-docs", str(page), "--base", str(kb_copy), "--checked", "2026-12-04"])
    out = capsys.readouterr().out
    assert code == 0
    assert kb_copy.read_text() == before, "nothing is written without --write"
    assert '-          "2025-12-11": {retires: 2027-06-08, replacement: none, status: GenerallyAvailable}' in out
    assert '+          "2025-12-11": {retires: 2027-09-01, replacement: gpt-5.6-terra, status: Legacy}' in out
    assert "date moved: gpt-5.2 2025-12-11: 2027-06-08 -> 2027-09-01" in out
    assert "stage changed: gpt-5.2 2025-12-11: GenerallyAvailable -> Legacy" in out
    assert "replacement changed: gpt-5.2 2025-12-11: none -> gpt-5.6-terra" in out
    assert "model added (fill in family and facts): gpt-7-nova (2026-11-30)" in out
    overlay = tmp_path / "overlay.yaml"
    args = ["kb", "refresh", "--from-docs", str(page), "--base", str(kb_copy), "--knowledge", str(overlay)]
    assert main([*args, "--write"]) == 0
    assert f"Wrote {overlay}" in capsys.readouterr().out
    assert kb_copy.read_text() == before, "the base is never written: the overlay is"
    written = yaml.safe_load(overlay.read_text())
    assert written["models"]["gpt-5.2"]["facts"]["retirement"]["value"]["2025-12-11"]["retires"] == date(2027, 9, 1)
    assert written["models"]["gpt-7-nova"]["versions"] == ["2026-11-30"]
    assert written["checked"] == date.today()
    assert written["sources"]["MS-T5"]["published"] == date(2026, 12, 1)  # the revision read, for the next refresh
    stated = {key for entry in written["models"].values() for key in entry.get("facts", {})}
    assert stated <= {"retirement", "fine_tuned_retirement"}, "only the facts the refresh read are written"
    layered = load_knowledge(kb_copy, overlay=overlay)
    assert layered.models["gpt-5.2"].facts["retirement"].layer == str(overlay)
    assert layered.models["gpt-5.2"].facts["apis"].layer == "packaged"


@pytest.mark.parametrize(
    ("row", "complaint"),
    [
        ("| gpt-5 | 2025-08-07 | GA | 2027-02-09 |", "row has 4 cells, the header has 5"),
        ("| gpt-5 | 2025-08-07 | Sunset | 2027-02-09 | — |", "lifecycle must be one of"),
        ("| gpt-5 | 2025-08-07 | GA | 9 Feb 2027 | — |", "retirement date must be a date"),
        ("| gpt-5 | 2025-08-07 | GA | 2027-02-30 | — |", "is not a calendar date"),
    ],
)
def test_a_malformed_table_is_one_clear_error_naming_file_and_line(
    kb_copy: Path, tmp_path: Path, capsys, row: str, complaint: str
) -> None:
    page = tmp_path / "broken.md"
    page.write_text(
        "### Azure OpenAI\n\n" + HEADER + "| gpt-5-mini | 2025-08-07 | GA | 2027-02-09 | — |\n" + row + "\n"
    )
    code = main(["kb", "refresh", "--from-docs", str(page), "--base", str(kb_copy)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"audit: error: {page}:6: ") and complaint in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_page_without_a_schedule_table_is_refused(kb_copy: Path, tmp_path: Path, capsys) -> None:
    page = tmp_path / "empty.md"
    page.write_text("# Nothing here\n")
    assert main(["kb", "refresh", "--from-docs", str(page), "--base", str(kb_copy)]) == 2
    assert "no retirement table" in capsys.readouterr().err


def test_a_docs_checkout_is_searched_for_the_schedule(kb_copy: Path, tmp_path: Path, capsys) -> None:
    include = tmp_path / "docs" / "articles/foundry/openai/includes/concepts-model-retirement-schedule-content.md"
    include.parent.mkdir(parents=True)
    shutil.copy(TODAYS_PAGE, include)
    args = ["kb", "refresh", "--from-docs", str(tmp_path / "docs"), "--base", str(kb_copy), "--checked", CHECKED]
    assert main(args) == 0
    assert "already agrees" in capsys.readouterr().out
    assert main(["kb", "refresh", "--from-docs", str(tmp_path), "--base", str(kb_copy)]) == 2


def test_duplicate_rows_are_reported_and_the_first_is_kept() -> None:
    schedule = parse_schedule(TODAYS_PAGE.read_text(), "page.md")
    result = refresh_from_schedule(KB.read_text(), schedule, "MS-T5", date(2026, 12, 7))
    assert any("gpt-realtime-mini 2025-10-06 is listed again" in w for w in result.warnings)
    assert not result.changed


def test_audit_kb_shows_each_fact_with_sources_and_dates(capsys) -> None:
    assert main(["kb", "gpt-4.1"]) == 0
    out = capsys.readouterr().out
    assert "checked: 2026-12-07" in out
    assert "gpt-4.1  (gpt-4.1, OpenAI; versions: 2025-04-14)" in out
    assert '"status": "Deprecated"' in out and "[MS-T5; checked 2026-12-07]" in out
    assert main(["kb", "gpt-4.1", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    fact = document["models"]["gpt-4.1"]["facts"]["retirement"]
    assert fact["value"]["2025-04-14"] == {"retires": "2027-04-14", "replacement": "none", "status": "Deprecated"}
    assert fact["checked"] == CHECKED and fact["sources"][0]["key"] == "MS-T5" and fact["sources"][0]["ref"]
    assert main(["kb", "no-such-model"]) == 2


def test_every_kind_is_covered_with_its_retirement() -> None:
    kb = load_knowledge()
    for name in (
        "whisper",
        "tts",
        "tts-hd",
        "dall-e-3",
        "gpt-image-1-mini",
        "gpt-realtime",
        "gpt-audio",
        "model-router",
        "text-embedding-3-large",
        "gpt-5.6-sol",
        "gpt-chat-latest",
        "sora-2",
    ):
        assert "retirement" in kb.models[name].facts, name
    today = date(2026, 12, 3)
    whisper = model_view(kb, "whisper", "001", "Standard", today)["retirement"]
    assert whisper["date"] == "2026-12-15" and whisper["days_left"] == 12
    assert model_view(kb, "text-embedding-ada-002", "2", "Standard", today)["embeddings"]["dimensions"] is False
    assert model_view(kb, "text-embedding-ada-002", "1", "Standard", today)["embeddings"]["max_input_tokens"] == 2046
    assert model_view(kb, "gpt-chat-latest", "2026-08-06", "GlobalStandard", today)["context_window"] == 400000


def test_a_fine_tuned_deployment_retires_on_the_fine_tuned_schedule() -> None:
    kb = load_knowledge()
    view = model_view(kb, "gpt-4o-2024-08-06.ft-0e208cf33a6a466994aff31a08aba678", "1", "Standard", date(2026, 12, 3))
    assert view["fine_tuned"] is True and view["name"] == "gpt-4o"
    assert view["retirement"]["date"] == "2027-10-01"  # the base version retires 2027-04-14
    assert model_view(kb, "gpt-4o", "2024-08-06", "Standard", date(2026, 12, 3))["retirement"]["date"] == "2027-04-14"


def _catalogs() -> list:
    from azure.mgmt.cognitiveservices.models import Model

    from auditor.knowledge.catalog import RegionCatalog, read_catalogs
    from auditor.sources.azure import catalog_model_from_sdk

    bodies = json.loads((ROOT / "tests" / "fixtures" / "kb" / "models-list-two-regions.json").read_text())
    calls: list[tuple[str, str]] = []

    def list_catalog(subscription: str, location: str) -> list:
        calls.append((subscription, location))
        return [m for m in (catalog_model_from_sdk(Model.deserialize(i)) for i in bodies[location]["value"]) if m]

    catalogs = read_catalogs(list_catalog, "sub-1", ["swedencentral", "eastus2", "EastUS2"])
    assert sorted(calls) == [("sub-1", "eastus2"), ("sub-1", "swedencentral")], "once per region"
    assert all(isinstance(c, RegionCatalog) for c in catalogs)
    return catalogs


def test_the_live_catalog_disagreements_are_a_reviewed_diff() -> None:
    from auditor.knowledge.catalog import refresh_from_catalogs

    result = refresh_from_catalogs(KB.read_text(), _catalogs(), "sub-1", date(2026, 12, 3), "models.yaml")
    diff = result.diff()
    assert '+          "2025-12-11": {retires: 2027-09-01, replacement: none, status: GenerallyAvailable}' in diff
    assert "+        sources: [MS-T5, ARM-CATALOG-2026-12-03]" in diff
    assert '+  ARM-CATALOG-2026-12-03: {title: "Live model catalog (models.list) read 2026-12-03"' in diff
    assert result.dates_moved == ["gpt-5.2 2025-12-11: 2027-06-08 -> 2027-09-01"]
    assert result.models_added == ["gpt-7-nova (2026-11-30)"]
    # gpt-4o 2024-11-20 is Legacy in the schedule; the API has no Legacy value, so GenerallyAvailable is no
    # disagreement; gpt-4.1's Deprecating is the schedule's Deprecated (MS-LC's mapping)
    assert not result.stages_changed
    warnings = "\n".join(result.warnings)
    assert "gpt-5.2 2025-12-11: regions disagree (eastus2 2027-09-01, swedencentral 2027-06-08)" in warnings
    assert (
        "gpt-5-pro 2025-10-06: the catalog reports chat_completions; the knowledge base lists responses (eastus2)"
        in warnings
    )
    yaml.safe_load(result.new_text)  # still valid YAML


def test_from_catalog_reads_the_simulated_tenant_and_finds_it_in_agreement(kb_copy: Path, capsys) -> None:
    args = ["kb", "refresh", "--from-catalog", "--demo", "--base", str(kb_copy), "--checked", CHECKED]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "dates moved: 0" in out and "already agrees" in out
    # the demo's one deliberately tentative entry is an estimate: reported, not proposed
    assert "gpt-4o 2024-05-13: a tentative date in eastus2 (an estimate; not proposed)" in out
    assert kb_copy.read_text() == KB.read_text()


def test_from_catalog_needs_a_subscription(kb_copy: Path, capsys) -> None:
    assert main(["kb", "refresh", "--from-catalog", "--base", str(kb_copy)]) == 2
    assert "--from-catalog needs --subscription" in capsys.readouterr().err


def test_contract_api_version_is_dated_v1_or_an_environment_lookup(tmp_path: Path) -> None:
    from auditor.model.errors import InputError
    from auditor.sources.contract import load_contract_document

    contract = tmp_path / "c.yaml"
    contract.write_text(
        "deployments:\n"
        "  a: {api: chat_completions, api_version: 2024-10-21}\n"
        "  b: {api: chat_completions, api_version: env:OPENAI_API_VERSION}\n"
        "  c: {api: embeddings, inputs_per_call: 64}\n"
    )
    calls, _ = load_contract_document(contract, {"OPENAI_API_VERSION": "2024-12-01-preview"})
    by_name = {c.deployment: c for c in calls}
    assert by_name["a"].api_version == "2024-10-21"  # YAML reads the bare date as a date; kept as its text
    assert by_name["b"].api_version == "2024-12-01-preview"  # as openai-python reads OPENAI_API_VERSION
    assert by_name["c"].inputs_per_call == 64
    calls, _ = load_contract_document(contract, {})
    assert {c.deployment: c for c in calls}["b"].api_version is None  # unset: not judged
    contract.write_text("deployments:\n  a: {api: chat_completions, api_version: yesterday}\n")
    with pytest.raises(InputError, match=r"c.yaml:2: deployment 'a': api_version must be a dated api-version"):
        load_contract_document(contract)
