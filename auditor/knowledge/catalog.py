"""`audit kb refresh --from-catalog`: the live model catalog of each region, compared with the knowledge base.

Each region's `models.list(location)` is read once (through the enumerator's own `list_catalog`), concurrently;
the retirement dates and stages it reports become schedule rows, so the change is proposed the same way as
from the docs: a unified diff of the knowledge-base file and a summary. What the catalog reports beyond dates
(APIs, token limits) is listed in the summary as disagreements for a person to resolve.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from auditor.knowledge.refresh import RefreshResult, refresh_from_schedule
from auditor.knowledge.schedule import Schedule, ScheduleRow
from auditor.model.facts import CatalogModel, earliest_retirement
from auditor.util.yamlfile import parse_yaml

ARM_STAGES = {
    "preview": "Preview",
    "generallyavailable": "GenerallyAvailable",
    "legacy": "Legacy",
    "deprecating": "Deprecated",  # the docs' "Deprecated": existing customers only (MS-LC's mapping table)
    "deprecated": "Retired",  # the API's "Deprecated" is the docs' "Retired"
}
_CAPABILITY_APIS = {"chatCompletion": "chat_completions", "responses": "responses", "embeddings": "embeddings"}


@dataclass(frozen=True)
class RegionCatalog:
    location: str
    models: tuple[CatalogModel, ...]


def read_catalogs(
    list_catalog: Callable[[str, str], Sequence[CatalogModel]], subscription: str, locations: Sequence[str]
) -> list[RegionCatalog]:
    """Each region's live catalog, read once per region, concurrently (the enumerator's `list_catalog`)."""
    unique = sorted({loc.replace(" ", "").lower() for loc in locations})
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(unique)))) as pool:
        results = list(pool.map(lambda loc: tuple(list_catalog(subscription, loc)), unique))
    return [RegionCatalog(loc, models) for loc, models in zip(unique, results, strict=True)]


def _current(kb: Mapping[str, Any], model: str, version: str) -> Mapping[str, Any]:
    facts = ((kb.get("models") or {}).get(model) or {}).get("facts") or {}
    value = (facts.get("retirement") or {}).get("value") or {}
    entry = value.get(version) or value.get("*") or {}
    return entry if isinstance(entry, Mapping) else {}


def _compatible(known: Any, live: str, retires: date, today: date) -> bool:
    """Whether the catalog's stage says nothing new: the API has no Legacy value (Legacy reads as
    GenerallyAvailable), and its "Deprecated" (retired) only restates a retirement date already past."""
    if known == "Legacy" and live == "GenerallyAvailable":
        return True
    return live == "Retired" and retires < today and known is not None


ACTIVE_STAGES = ("Preview", "GenerallyAvailable", "Legacy")
"""Stages in which a version still serves: a version whose recorded retirement has passed never returns to one."""


def _retires(entry: CatalogModel) -> date | None:
    """The version's retirement as the audit reads it: the earlier of its SKU and model dates, no placeholders."""
    return earliest_retirement(entry.inference_deprecation, [s.deprecation_date for s in entry.skus])


def _by_version(catalogs: Sequence[RegionCatalog]) -> dict[tuple[str, str], list[tuple[str, CatalogModel]]]:
    """Per model version, one entry per region (Models_List repeats a version per account kind)."""
    seen: dict[tuple[str, str], dict[tuple[str, Any, bool], tuple[str, CatalogModel]]] = {}
    for region in catalogs:
        for entry in region.models:
            key = (region.location, _retires(entry), entry.deprecation_tentative)
            seen.setdefault((entry.name, entry.version), {})[key] = (region.location, entry)
    return {k: sorted(v.values(), key=lambda x: x[0]) for k, v in sorted(seen.items())}


def _proposed_date(name: str, version: str, dated: list[tuple[str, CatalogModel]], notes: list[str]) -> date:
    """The date most regions report (the later one on a tie); a disagreement is noted."""
    dates = Counter(_retires(e) for _, e in dated)
    retires = max((d for d in dates if d is not None), key=lambda d: (dates[d], d))
    if len(dates) > 1:
        per_region = ", ".join(f"{loc} {_retires(e)}" for loc, e in dated)
        notes.append(f"{name} {version}: regions disagree ({per_region}); {retires} is proposed")
    return retires


def _dated(
    name: str, version: str, found: list[tuple[str, CatalogModel]], notes: list[str]
) -> list[tuple[str, CatalogModel]]:
    """The entries with a firm date; tentative dates (estimates) and placeholders (no date yet) are noted."""
    tentative = sorted({loc for loc, e in found if _retires(e) and e.deprecation_tentative})
    if tentative:
        notes.append(f"{name} {version}: a tentative date in {', '.join(tentative)} (an estimate; not proposed)")
    dated = [(loc, e) for loc, e in found if _retires(e) and not e.deprecation_tentative]
    placeholder = [loc for loc, e in found if e.inference_deprecation and not _retires(e)]
    if placeholder and not dated:
        notes.append(f"{name} {version}: a placeholder date in {', '.join(placeholder)} (no date announced; ignored)")
    return dated


def _row(
    name: str, version: str, found: list[tuple[str, CatalogModel]], kb: Mapping[str, Any], today: date, notes: list[str]
) -> ScheduleRow | None:
    """The schedule row a version's catalog entries propose, or None when they propose nothing."""
    dated = _dated(name, version, found, notes)
    if not dated:
        return None
    retires = _proposed_date(name, version, dated, notes)
    known = _current(kb, name, version)
    status = next((e.lifecycle_status for _, e in dated if e.lifecycle_status), None)
    stage = ARM_STAGES.get((status or "").lower()) or known.get("status") or "GenerallyAvailable"
    if _compatible(known.get("status"), stage, retires, today):
        stage = str(known["status"])
    recorded = known.get("retires")
    if isinstance(recorded, date) and recorded < today and stage in ACTIVE_STAGES:
        notes.append(
            f"{name} {version}: the knowledge base records its retirement on {recorded} (passed); the catalog's "
            f"{stage} with {retires} does not revive it (not proposed)"
        )
        return None
    # replacementConfig names the auto-upgrade target (often a newer version of the same model), not the
    # schedule's recommended replacement: the knowledge base's replacement stands unless it has none.
    replacement = known.get("replacement") or next((e.replacement_name for _, e in dated if e.replacement_name), None)
    first = dated[0][1]
    return ScheduleRow(
        publisher="Azure OpenAI" if first.format.lower() == "openai" else f"catalog ({first.format})",
        model=name,
        version=version,
        stage=stage,
        retires=retires,
        replacement=replacement or "none",
        line=0,
    )


def schedule_from_catalogs(
    catalogs: Sequence[RegionCatalog], kb_text: str, origin: str, today: date
) -> tuple[Schedule, list[str]]:
    """The catalogs' retirement facts as schedule rows (one per model version), and where regions disagree."""
    kb = parse_yaml(kb_text, source="knowledge base", what="knowledge base") or {}
    rows: list[ScheduleRow] = []
    notes: list[str] = []
    for (name, version), found in _by_version(catalogs).items():
        row = _row(name, version, found, kb, today, notes)
        if row is not None:
            rows.append(row)
    return Schedule(tuple(rows), (), origin, None), notes


def capability_disagreements(catalogs: Sequence[RegionCatalog], kb_text: str) -> list[str]:
    """APIs and token limits the live catalog reports differently from the knowledge base."""
    kb = parse_yaml(kb_text, source="knowledge base", what="knowledge base") or {}
    models = kb.get("models") or {}
    found: dict[str, set[str]] = {}
    for region in catalogs:
        for entry in region.models:
            facts = (models.get(entry.name) or {}).get("facts") or {}
            caps = entry.capabilities or {}
            apis = (facts.get("apis") or {}).get("value")
            if isinstance(apis, list):
                reported = sorted(
                    api for cap, api in _CAPABILITY_APIS.items() if str(caps.get(cap, "")).lower() == "true"
                )
                missing = [api for api in reported if api not in apis]
                if missing:
                    found.setdefault(
                        f"{entry.name} {entry.version}: the catalog reports {', '.join(missing)}; the knowledge base "
                        f"lists {', '.join(apis) or 'none'}",
                        set(),
                    ).add(region.location)
            limit = (facts.get("max_output_tokens") or {}).get("value")
            live = caps.get("maxOutputToken")
            if isinstance(limit, int) and live and str(live).isdigit() and int(live) != limit:
                found.setdefault(
                    f"{entry.name} {entry.version}: maxOutputToken {live} in the catalog, {limit} in the knowledge base",
                    set(),
                ).add(region.location)
    return [f"{text} ({', '.join(sorted(regions))})" for text, regions in sorted(found.items())]


def ensure_source(kb_text: str, key: str, title: str, ref: str, published: date) -> str:
    """Add `key` under `sources:` (after the last entry) when it is not there yet."""
    if re.search(rf"(?m)^  {re.escape(key)}:", kb_text):
        return kb_text
    lines = kb_text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.rstrip() == "sources:")
    end = start + 1
    while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    entry = f"  {key}: {{title: {json.dumps(title)}, ref: {json.dumps(ref)}, published: {published.isoformat()}}}\n"
    lines.insert(end, entry)
    return "".join(lines)


def refresh_from_catalogs(
    kb_text: str, catalogs: Sequence[RegionCatalog], subscription: str, checked: date, path: str
) -> RefreshResult:
    """The catalog's dates applied as a reviewed change, with region and capability disagreements in the summary."""
    key = f"ARM-CATALOG-{checked.isoformat()}"
    regions = ", ".join(c.location for c in catalogs)
    origin = f"models.list of subscription {subscription} ({regions})"
    schedule, notes = schedule_from_catalogs(catalogs, kb_text, origin, checked)
    result = refresh_from_schedule(kb_text, schedule, key, checked, path, only_changes=True)
    if result.changed:
        title = f"Live model catalog (models.list) read {checked.isoformat()}"
        result.new_text = ensure_source(result.new_text, key, title, origin, checked)
    result.warnings.extend(notes)
    result.warnings.extend(capability_disagreements(catalogs, kb_text))
    return result
