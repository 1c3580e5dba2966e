"""`audit kb refresh --from-docs` on the models page and the region matrices (markdown-it-py), on fixtures that are
excerpts of the real files (tests/fixtures/kb/models-azure-direct-openai.md @421dfa9,
tests/fixtures/kb/model-matrix/standard-global.md @298e0e3) and the whole Global Standard matrix @0be1675
(standard-global-0be1675.md, the revision the knowledge base cites): facts refreshed with source and date, disputes
recorded, an older revision refused, a malformed row one error naming file and line."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from auditor.cli import main
from auditor.knowledge.base import load_knowledge
from auditor.knowledge.learn_tables import (
    parse_deployments_matrix,
    parse_models_page,
    parse_region_matrix,
    propose_page_facts,
)
from auditor.model.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "kb"
MODELS = FIXTURES / "models-azure-direct-openai.md"
MATRIX = FIXTURES / "model-matrix" / "standard-global.md"
MATRIX_0BE1675 = FIXTURES / "model-matrix" / "standard-global-0be1675.md"
DEPLOYMENTS = FIXTURES / "model-matrix" / "deployments-standard-0378dd8.md"
KB = yaml.safe_load((ROOT / "rules" / "knowledge" / "models.yaml").read_text())
TODAY = date(2026, 12, 7)


def test_the_models_page_reads_limits_and_apis_per_version() -> None:
    page = parse_models_page(MODELS.read_text(), str(MODELS))
    assert page.published == date(2026, 2, 27)
    rows = {(r.model, r.version): r for r in page.models}
    codex = rows[("gpt-5.2-codex", "2026-01-14")]
    assert (codex.context_window, codex.max_input_tokens, codex.max_output_tokens) == (400000, 272000, 128000)
    assert codex.apis == ("responses",)
    assert rows[("gpt-5.2", "2025-12-11")].apis == ("chat_completions", "responses")
    chat = rows[("gpt-5.2-chat", "2026-02-10")]
    assert (chat.context_window, chat.max_input_tokens, chat.max_output_tokens) == (128000, 111616, 16384)
    assert rows[("gpt-5.1-codex", "2025-11-13")].line == 48  # the line in the file


def test_the_region_matrix_reads_which_regions_offer_each_version() -> None:
    page = parse_region_matrix(MATRIX.read_text(), str(MATRIX), "regions_global_standard")
    assert page.offered[("gpt-5.2", "2025-12-11")] == (
        "australiaeast",
        "brazilsouth",
        "canadacentral",
        "canadaeast",
        "centralus",
    )
    assert "canadacentral" not in page.offered[("gpt-5", "2025-08-07")]
    # the include's ms.date (01/07/2025) predates its own columns: the revision is the newest column's date
    assert page.published == date(2025, 12, 11)


def test_the_packaged_global_standard_regions_are_the_cited_matrices() -> None:
    """Every regions_global_standard fact is what the newest matrix says (deployments-standard.md @0378dd8, MS-DS);
    the models it no longer lists (the retired -chat models) keep what the matrix before it said (@0be1675, MS-G)."""
    (newest,) = parse_deployments_matrix(DEPLOYMENTS.read_text(), str(DEPLOYMENTS))
    assert newest.kind == "regions_global_standard" and newest.published == date(2026, 10, 5)
    assert newest.published == KB["sources"]["MS-DS"]["published"]
    changes, _ = propose_page_facts(KB, [newest], TODAY)
    assert [f"{c.model}: {c.old} -> {c.new['value']}" for c in changes if c.key == "regions_global_standard"] == []
    listed = {model for model, _ in newest.offered}
    older = parse_region_matrix(MATRIX_0BE1675.read_text(), str(MATRIX_0BE1675), "regions_global_standard")
    assert len(older.offered) == 63 and len({r for found in older.offered.values() for r in found}) == 28
    assert older.published == date(2026, 4, 21) == KB["sources"]["MS-G"]["published"]  # gpt-image-2 2026-04-21
    changes, _ = propose_page_facts(KB, [older], TODAY)
    stale = [c.model for c in changes if c.key == "regions_global_standard" and c.model not in listed]
    assert stale == []
    for model in ("gpt-5-chat", "gpt-5.1-chat", "gpt-5.2-chat", "gpt-5.3-chat"):
        assert model not in listed and KB["models"][model]["facts"]["regions_global_standard"]["sources"] == ["MS-G"]
    # what moved since @9489a6e: the gpt-4.1 family left canadacentral and switzerlandwest; gpt-5.4 is everywhere
    for model in ("gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano"):
        assert not {"canadacentral", "switzerlandwest"} & set(newest.offered[(model, "2025-04-14")])
    assert len(newest.offered[("gpt-5.4", "2026-03-05")]) == 29  # with northeurope, not in the @0be1675 matrix
    assert set(newest.offered[("grok-4.7", "1")]) >= {"westus2", "ukwest", "japanwest"}


def test_the_deployments_matrix_reads_sections_tabs_and_rows() -> None:
    text = DEPLOYMENTS.read_text()
    (page,) = parse_deployments_matrix(text, "deployments-standard.md")
    # a version in several tabs gathers their regions; the computer-use-preview 2025-02-11 row is APAC's only
    assert page.offered[("computer-use-preview", "2025-03-11")] == ("eastus2", "southindia", "swedencentral")
    assert page.offered[("computer-use-preview", "2025-02-11")] == ("southindia",)
    zoned = text.replace("## Global Standard", "## Data Zone Standard")
    assert {p.kind for p in parse_deployments_matrix(zoned, "x.md")} == {"regions_datazone_standard"}
    broken = text.replace("| o3-pro | 2025-06-10 | - | - | - | ✅ |", "| o3-pro | 2025-06-10 | - | - | - | yes |", 1)
    with pytest.raises(InputError, match=r"^x\.md:\d+: o3-pro 2025-06-10 / centralus: a cell is ✅ or -, not 'yes'$"):
        parse_deployments_matrix(broken, "x.md")
    with pytest.raises(InputError, match="no region table"):
        parse_deployments_matrix("---\nms.date: 10/05/2026\n---\n\n## Global Standard\n", "empty.md")


def test_the_packaged_facts_agree_with_the_models_page_excerpt() -> None:
    """The knowledge base's limits and APIs for these models are what the page says: nothing to change."""
    page = parse_models_page(MODELS.read_text(), str(MODELS))
    changes, _ = propose_page_facts(KB, [page], TODAY)
    limits = [c for c in changes if c.key in ("context_window", "max_output_tokens", "max_input_tokens", "apis")]
    assert limits == [], [f"{c.model} {c.key}: {c.old} -> {c.new['value']}" for c in limits]


def test_a_changed_limit_is_refreshed_with_source_and_date_and_a_dispute_with_another_page(tmp_path: Path) -> None:
    text = MODELS.read_text().replace(
        "| 400,000<br><br>Input: 272,000<br>Output: 128,000  | 128,000 | September 30, 2024  |",
        "| 1,050,000<br><br>Input: 922,000<br>Output: 128,000  | 128,000 | September 30, 2024  |",
    )
    page = parse_models_page(text, "models-azure-direct-openai.md")
    changes, _ = propose_page_facts(KB, [page], TODAY)
    (change,) = [c for c in changes if (c.model, c.key) == ("gpt-5.1", "context_window")]
    assert change.old == {"default": 400000}
    assert change.new == {"value": {"default": 1050000}, "sources": ["MS-M2"], "checked": TODAY}
    # a region list from the old matrix file, where the knowledge base cites the new one (MS-DS): a dispute
    matrix = parse_region_matrix(MATRIX.read_text(), str(MATRIX), "regions_global_standard")
    changes, _ = propose_page_facts(KB, [matrix], TODAY)
    (regions,) = [c for c in changes if (c.model, c.key) == ("gpt-5.2", "regions_global_standard")]
    assert regions.new["value"] == ["australiaeast", "brazilsouth", "canadacentral", "canadaeast", "centralus"]
    assert regions.new["sources"] == ["MS-G"] and regions.new["disputed"].startswith("MS-DS stated")
    # a newer revision of the page the fact already cites replaces it without a dispute
    moved = DEPLOYMENTS.read_text().replace(
        "| o3-pro | 2025-06-10 | - | - | - | ✅ | - | ✅ | - | - | - | - |",
        "| o3-pro | 2025-06-10 | - | - | - | - | - | ✅ | - | - | - | - |",
    )
    changes, _ = propose_page_facts(KB, parse_deployments_matrix(moved, "deployments-standard.md"), TODAY)
    (o3pro,) = [c for c in changes if (c.model, c.key) == ("o3-pro", "regions_global_standard")]
    assert o3pro.new["value"] == ["eastus2", "swedencentral"] and o3pro.new["sources"] == ["MS-DS"]
    assert "disputed" not in o3pro.new
    # a value another page stated (the reasoning page, MS-R1) is a dispute, not silently overwritten
    apis_text = MODELS.read_text().replace(
        "| `gpt-5.1` (2025-11-13) |  - [Reasoning](../how-to/reasoning.md) <br> - Chat Completions API. <br>",
        "| `gpt-5.1` (2025-11-13) |  - [Reasoning](../how-to/reasoning.md) <br>",
    )
    changes, _ = propose_page_facts(KB, [parse_models_page(apis_text, "models-azure-direct-openai.md")], TODAY)
    (apis,) = [c for c in changes if (c.model, c.key) == ("gpt-5.1", "apis")]
    assert apis.new["value"] == ["responses"] and "MS-R1 stated" in apis.new["disputed"]


def test_from_docs_on_a_checkout_writes_the_page_facts_to_the_overlay(tmp_path: Path, capsys) -> None:
    checkout = tmp_path / "azure-ai-docs"
    target = checkout / "articles/foundry/openai/includes"
    (target / "model-matrix").mkdir(parents=True)
    shutil.copy(MODELS, target / "models-azure-direct-openai.md")
    shutil.copy(MATRIX, target / "model-matrix" / "standard-global.md")
    overlay = tmp_path / "overlay.yaml"
    command = ["kb", "refresh", "--from-docs", str(checkout), "--knowledge", str(overlay), "--write"]
    # the excerpt (@298e0e3) is older than the matrix the knowledge base cites: refused, both revisions named
    assert main(command) == 2
    assert "revision 2025-12-11, older than MS-G (revision 2026-04-21)" in capsys.readouterr().err
    assert not overlay.exists()
    assert main([*command, "--allow-older"]) == 0
    out = capsys.readouterr().out
    assert "fact changed: gpt-5.2 regions_global_standard:" in out and f"Wrote {overlay}" in out
    layered = load_knowledge(overlay=overlay)
    fact = layered.models["gpt-5.2"].facts["regions_global_standard"]
    assert fact.value == ["australiaeast", "brazilsouth", "canadacentral", "canadaeast", "centralus"]
    assert fact.sources == ("MS-G",) and fact.layer == str(overlay)
    assert layered.sources["MS-G"]["published"] == date(2026, 4, 21)  # an older page never moves the citation back
    # a checkout with the matrices' new file too: the newer revision states the fact, and it changes nothing
    shutil.copy(MATRIX_0BE1675, target / "model-matrix" / "standard-global.md")
    moved = checkout / "articles/foundry/foundry-models/includes/model-matrix"
    moved.mkdir(parents=True)
    shutil.copy(DEPLOYMENTS, moved / "deployments-standard.md")
    fresh = tmp_path / "fresh.yaml"
    assert main(["kb", "refresh", "--from-docs", str(checkout), "--knowledge", str(fresh)]) == 0
    assert "regions_global_standard" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        (
            "| 128,000 | August 2025 |\n| `gpt-5.2-chat` (2025-12-11)",
            "| 128,000 |\n| `gpt-5.2-chat` (2025-12-11)",
            "table row has 4 cells, the header has 5",
        ),
        (
            "| 400,000<br><br>Input: 272,000<br>Output: 128,000  | 128,000 | August 2025 |",
            "| four hundred thousand | 128,000 | August 2025 |",
            "context window must be a number",
        ),
    ],
)
def test_a_malformed_models_row_is_one_error_naming_file_and_line(
    tmp_path: Path, capsys, old: str, new: str, complaint: str
) -> None:
    page = tmp_path / "models-azure-direct-openai.md"
    text = MODELS.read_text()
    assert old in text
    page.write_text(text.replace(old, new, 1))
    assert main(["kb", "refresh", "--from-docs", str(page), "--knowledge", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"audit: error: {page}:3") and complaint in err and err.count("\n") == 1


def test_a_malformed_matrix_cell_is_one_error_naming_file_and_line(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "model-matrix"
    folder.mkdir()
    page = folder / "standard-global.md"
    page.write_text(MATRIX.read_text().replace("| canadaeast         | ✅ ", "| canadaeast         | yes"))
    assert main(["kb", "refresh", "--from-docs", str(page), "--knowledge", str(tmp_path / "o.yaml")]) == 2
    err = capsys.readouterr().err
    line = next(i for i, x in enumerate(page.read_text().splitlines(), 1) if x.startswith("| canadaeast"))
    assert err.startswith(f"audit: error: {page}:{line}: canadaeast / gpt-5.2 2025-12-11: a cell is ✅ or -")
