"""The model knowledge base (rules/knowledge/models.yaml) is sourced, dated and internally consistent.

Every fact must name where it came from and when it was last checked, so a finding built on it can
say "per <source>, checked <date>". These tests hold the file to that promise.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

KB_PATH = Path(__file__).resolve().parents[1] / "rules" / "knowledge" / "models.yaml"

REVIEW_DATE = date(2026, 12, 7)
OLDEST_CHECK = date(2026, 1, 1)

# MS-P1 (responses.md @734fe34, 2026-01-14): the 25 Responses API regions.
MS_P1_RESPONSES_REGIONS = {
    "australiaeast",
    "brazilsouth",
    "canadacentral",
    "canadaeast",
    "eastus",
    "eastus2",
    "francecentral",
    "germanywestcentral",
    "italynorth",
    "japaneast",
    "koreacentral",
    "northcentralus",
    "norwayeast",
    "polandcentral",
    "southafricanorth",
    "southcentralus",
    "southeastasia",
    "southindia",
    "spaincentral",
    "swedencentral",
    "switzerlandnorth",
    "uaenorth",
    "uksouth",
    "westus",
    "westus3",
}

REQUIRED_MODELS = [
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "gpt-5-chat",
    "gpt-5-pro",
    "gpt-5-codex",
    "gpt-5.1",
    "gpt-5.1-chat",
    "gpt-5.1-codex",
    "gpt-5.1-codex-mini",
    "gpt-5.1-codex-max",
    "gpt-5.2",
    "gpt-5.2-chat",
    "gpt-5.2-codex",
    "gpt-5.3-codex",
    "gpt-5.3-chat",
    "gpt-5.4",
    "gpt-5.4-pro",
    "gpt-5.4-mini",
    "gpt-5.4-nano",
    "gpt-5.5",
    "gpt-chat-latest",
    "o1",
    "o1-mini",
    "o1-preview",
    "o1-pro",
    "o3",
    "o3-mini",
    "o3-pro",
    "o4-mini",
    "o3-deep-research",
    "codex-mini",
    "computer-use-preview",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4",
    "gpt-35-turbo",
    "gpt-image-1",
    "gpt-oss-120b",
    "grok-4-fast-non-reasoning",
    "text-embedding-3-large",
    "text-embedding-3-small",
    "text-embedding-ada-002",
    # kinds and models added with the 2026-09-02 schedule (MS-T4)
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
    "whisper",
    "tts",
    "tts-hd",
    "gpt-4o-transcribe",
    "gpt-4o-mini-tts",
    "gpt-audio",
    "gpt-realtime",
    "gpt-image-1-mini",
    "gpt-image-1.5",
    "gpt-image-2",
    "dall-e-3",
    "sora-2",
    "model-router",
    # the 2026-09-21 models page and the 2026-10-05 schedule and Grok pages
    "gpt-6-astra",
    "gpt-6-sol",
    "gpt-6-luna",
    "gpt-6.1-sol",
    "gpt-image-2.5-flare",
    "gpt-image-2.5-sunburst",
    "gpt-realtime-translate",
    "gpt-realtime-whisper",
    "gpt-live-transcribe",
    "gpt-transcribe",
    "grok-4.7",
    "grok-4.6",
    "grok-4.3",
    "grok-4-20-reasoning",
    "grok-4-20-non-reasoning",
    "grok-4-1-fast-reasoning",
]

KNOWN_APIS = {
    "chat_completions",
    "responses",
    "completions",
    "embeddings",
    "images",
    "assistants",
    "audio",
    "realtime",
    "video",
}
KNOWN_SUPPORT = {"rejected", "default_only", "supported"}
KNOWN_STATUS = {"Preview", "GenerallyAvailable", "Legacy", "Deprecated", "Retired"}
ALL_VERSIONS = "*"  # retirement key used where MS gives no version string


@pytest.fixture(scope="module")
def kb() -> dict:
    with KB_PATH.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict), "models.yaml must be a mapping"
    return data


def _facts(kb: dict):
    """(model, fact name, fact) for every fact of every model."""
    for model, entry in kb["models"].items():
        for name, fact in (entry.get("facts") or {}).items():
            yield model, name, fact


def _all_facts(kb: dict):
    """Model facts plus the responses_api facts, labelled for messages."""
    for model, name, fact in _facts(kb):
        yield f"{model}.{name}", fact
    for name, fact in kb["responses_api"].items():
        yield f"responses_api.{name}", fact
    if "api_parameters" in kb:
        yield "api_parameters", kb["api_parameters"]
    if "parameter_bounds" in kb:
        yield "parameter_bounds", kb["parameter_bounds"]


def _is_fact(fact) -> bool:
    return isinstance(fact, dict) and "value" in fact


def test_top_level_shape(kb):
    assert kb["schema_version"] == 1
    assert isinstance(kb["checked"], date) and kb["checked"] <= REVIEW_DATE
    for key in ("sources", "responses_api", "parameter_groups", "models"):
        assert isinstance(kb.get(key), dict) and kb[key], f"missing or empty top-level {key!r}"


def test_sources_are_well_formed(kb):
    for key, source in kb["sources"].items():
        assert isinstance(source, dict), key
        assert isinstance(source.get("title"), str) and source["title"], f"source {key} has no title"
        assert isinstance(source.get("ref"), str) and source["ref"], f"source {key} has no ref"
        assert "published" in source, f"source {key} lacks `published` (use null when unknown)"
        published = source["published"]
        assert published is None or (isinstance(published, date) and published <= REVIEW_DATE), key


def test_every_fact_is_sourced_and_dated(kb):
    defined = set(kb["sources"])
    problems = []
    for label, fact in _all_facts(kb):
        if not _is_fact(fact):
            problems.append(f"{label}: not a mapping with `value`")
            continue
        sources = fact.get("sources")
        if not isinstance(sources, list) or not sources:
            problems.append(f"{label}: empty or missing sources")
        else:
            undefined = [s for s in sources if s not in defined]
            if undefined:
                problems.append(f"{label}: undefined sources {undefined}")
        checked = fact.get("checked")
        if not isinstance(checked, date):
            problems.append(f"{label}: checked {checked!r} is not a date")
        elif not OLDEST_CHECK <= checked <= REVIEW_DATE:
            problems.append(f"{label}: checked {checked} outside {OLDEST_CHECK}..{REVIEW_DATE}")
        if "disputed" in fact and not (isinstance(fact["disputed"], str) and fact["disputed"].strip()):
            problems.append(f"{label}: disputed must be a non-empty one-line text")
        if "unverified" in fact and fact["unverified"] is not True:
            problems.append(f"{label}: unverified, when present, must be true")
        unknown = set(fact) - {"value", "sources", "checked", "disputed", "unverified"}
        if unknown:
            problems.append(f"{label}: unknown keys {sorted(unknown)}")
    assert not problems, "\n".join(problems)


def test_models_have_identity(kb):
    for model, entry in kb["models"].items():
        assert isinstance(entry.get("family"), str) and entry["family"], model
        assert isinstance(entry.get("publisher"), str) and entry["publisher"], model
        versions = entry.get("versions")
        assert isinstance(versions, list) and all(isinstance(v, str) for v in versions), (
            f"{model}: versions must be a list of strings (quote dates)"
        )
        assert isinstance(entry.get("facts"), dict), f"{model}: facts must be a mapping"


def test_registration_history_entries(kb):
    defined = set(kb["sources"])
    seen = 0
    for model, name, fact in _facts(kb):
        if name != "registration":
            continue
        history = fact["value"]
        assert isinstance(history, list) and history, f"{model}: registration history is empty"
        dates = []
        for entry in history:
            seen += 1
            assert isinstance(entry.get("required"), bool), f"{model}: registration entry without bool `required`"
            assert isinstance(entry.get("as_of"), date), f"{model}: registration entry without `as_of` date"
            assert entry["as_of"] <= REVIEW_DATE, model
            assert entry.get("sources"), f"{model}: registration entry without sources"
            assert set(entry["sources"]) <= defined, f"{model}: registration entry cites undefined sources"
            assert set(entry["sources"]) <= set(fact["sources"]), (
                f"{model}: entry sources must also appear in the fact's sources"
            )
            dates.append(entry["as_of"])
        assert dates == sorted(dates), f"{model}: registration history must be oldest first, newest last"
    assert seen, "no registration history at all"


def test_retirement_versions_are_known(kb):
    for model, name, fact in _facts(kb):
        if name != "retirement":
            continue
        versions = set(kb["models"][model]["versions"])
        assert isinstance(fact["value"], dict) and fact["value"], model
        for version, row in fact["value"].items():
            assert version == ALL_VERSIONS or version in versions, (
                f"{model}: retirement version {version!r} not in versions {sorted(versions)}"
            )
            assert row["retires"] is None or isinstance(row["retires"], date), (
                f"{model} {version}: retires must be a date (null: no date scheduled)"
            )
            assert row["status"] in KNOWN_STATUS, f"{model} {version}: status {row['status']!r}"
            assert "replacement" in row, f"{model} {version}: replacement missing (use none or null)"


def test_every_source_is_used(kb):
    used: set[str] = set()
    for _, fact in _all_facts(kb):
        if _is_fact(fact):
            used.update(fact.get("sources") or [])
    unused = sorted(set(kb["sources"]) - used)
    assert not unused, f"sources defined but never cited: {unused}"


def test_responses_regions_match_ms_p1(kb):
    regions = kb["responses_api"]["regions"]
    assert len(regions["value"]) == 25
    assert set(regions["value"]) == MS_P1_RESPONSES_REGIONS
    assert "MS-P1" in regions["sources"]
    assert kb["responses_api"]["min_max_output_tokens"]["value"] == 16


def test_required_models_present(kb):
    missing = [m for m in REQUIRED_MODELS if m not in kb["models"]]
    assert not missing, f"missing models: {missing}"


def test_disputes_are_recorded(kb):
    disputed = [label for label, fact in _all_facts(kb) if _is_fact(fact) and fact.get("disputed")]
    assert disputed, "no disputed fact at all: models.md lists several CONFLICTs"


def test_parameter_groups_exist_and_are_valid(kb):
    groups = kb["parameter_groups"]
    for group, table in groups.items():
        for param, rule in table.items():
            assert rule.get("support") in KNOWN_SUPPORT, f"group {group}.{param}: support {rule.get('support')!r}"
    for model, name, fact in _facts(kb):
        if name != "parameters":
            continue
        value = fact["value"]
        assert isinstance(value, dict), f"{model}: parameters value must be a mapping"
        assert set(value) <= {"group", "overrides"}, f"{model}: parameters keys {sorted(value)}"
        if "group" in value:
            assert value["group"] in groups, f"{model}: unknown parameter group {value['group']!r}"
        for param, rule in (value.get("overrides") or {}).items():
            assert rule.get("support") in KNOWN_SUPPORT, f"{model}.{param}: support {rule.get('support')!r}"


def test_api_names_are_known(kb):
    for model, name, fact in _facts(kb):
        if name == "apis":
            unknown = set(fact["value"]) - KNOWN_APIS
            assert not unknown, f"{model}: unknown apis {sorted(unknown)}"


def test_contract_critical_nuances(kb):
    """The parameter distinctions a rule compares contract values against (models.md §2, azure-wire §3.4)."""
    models = kb["models"]
    groups = kb["parameter_groups"]

    def temperature(model: str) -> dict:
        value = models[model]["facts"]["parameters"]["value"]
        rule = dict(groups[value["group"]].get("temperature", {})) if "group" in value else {}
        rule.update((value.get("overrides") or {}).get("temperature", {}))
        return rule

    for model in ("o1", "o3-mini", "gpt-5.1-chat"):
        assert temperature(model)["support"] == "rejected", model
    for model in ("o3", "o4-mini", "gpt-5", "gpt-5-pro", "gpt-5.1", "gpt-5.2"):
        assert temperature(model) == {"support": "default_only", "default": 1}, model
    assert models["gpt-5-chat"]["facts"]["reasoning"]["value"] is False
    assert models["gpt-5-chat"]["facts"]["parameters"]["value"] == {}
    assert models["gpt-5.1-chat"]["facts"]["reasoning"]["value"] is True
    assert {"system"} <= set(models["o1-mini"]["facts"]["rejected_roles"]["value"])
    assert {"system"} <= set(models["o1-preview"]["facts"]["rejected_roles"]["value"])
    assert models["gpt-5.1"]["facts"]["reasoning_effort"]["value"]["default"] == "none"
    assert models["gpt-5-pro"]["facts"]["reasoning_effort"]["value"] == {"values": ["high"], "default": "high"}
    assert "minimal" not in models["gpt-5-codex"]["facts"]["reasoning_effort"]["value"]["values"]
    assert models["o1-mini"]["facts"]["reasoning_effort"]["value"] is None
    ctx = models["gpt-4.1"]["facts"]["context_window"]["value"]
    assert ctx["default"] == 1047576
    # "1,047,576 / 300,000 (standard deployments) / 128,000 (provisioned managed and batch deployments)" (MS-MD)
    assert ctx["by_sku"]["Standard"] == 300000 and ctx["by_sku"]["ProvisionedManaged"] == 128000
    assert ctx["by_sku"]["GlobalBatch"] == 128000
    assert models["gpt-5-pro"]["facts"]["apis"]["value"] == ["responses"]
