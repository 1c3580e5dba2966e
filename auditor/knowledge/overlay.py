"""The user's knowledge-base overlay: facts a team states (or `audit kb refresh --write` refreshed) on top of the
packaged knowledge base, so knowledge outlives an upgrade and a read-only install.

An overlay is a partial knowledge-base file: `checked`, `sources` and, per model, only the facts it states, each
with its sources and check date. A fact it states replaces the packaged one (whole); a model it names that the
package does not know is added; versions are added to the model's list. Everything else comes from the package.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.model.errors import InputError
from auditor.util.yamlfile import load_yaml

if TYPE_CHECKING:
    from auditor.knowledge.base import Layer, ModelEntry
    from auditor.knowledge.learn_tables import FactChange

OVERLAY_KEYS = ("schema_version", "checked", "sources", "models")
MODEL_KEYS = ("family", "publisher", "versions", "facts")
FILE_NAME = "knowledge.yaml"


def user_overlay_path() -> Path:
    """Where `audit kb refresh --write` keeps the overlay when no file is configured: the per-user data directory
    (platformdirs: ~/.local/share/aoai-auditor on Linux, %LOCALAPPDATA%\\aoai-auditor on Windows), never the
    installed package. AOAI_AUDITOR_DATA_DIR moves it (CI caches, containers)."""
    configured = os.environ.get("AOAI_AUDITOR_DATA_DIR", "").strip()
    if configured:
        return Path(configured) / FILE_NAME
    import platformdirs

    return platformdirs.user_data_path("aoai-auditor", appauthor=False) / FILE_NAME


def resolve_overlay(configured: Path | None) -> Path | None:
    """The overlay an audit reads: the configured file (which must exist), else the per-user one if there is one."""
    if configured is not None:
        if not configured.is_file():
            raise InputError(f"--knowledge {configured}: file not found")
        return configured
    default = user_overlay_path()
    return default if default.is_file() else None


def _where(path: Path, node: Any, fallback: int = 1) -> str:
    return f"{path}:{getattr(node, 'line', fallback)}"


def known_facts(models: Iterable[ModelEntry] = ()) -> tuple[str, ...]:
    """The fact names an overlay may state: the ones the auditor reads, and any the packaged file states."""
    from auditor.knowledge.base import MODEL_FACTS
    from auditor.knowledge.learn_tables import MATRIX_FACTS

    extra = {key for entry in models for key in entry.facts}
    return tuple(dict.fromkeys((*MODEL_FACTS, "fine_tuned_retirement", *MATRIX_FACTS.values(), *sorted(extra))))


def _check_fact(
    path: Path, model: str, key: str, raw: Any, sources: Mapping[str, Any], line: int, facts: Sequence[str]
) -> None:
    """Validated like the packaged file, and stricter: every stated fact names known sources and a check date."""
    where = f"{path}:{line}"
    known_facts = facts
    if key not in known_facts:
        raise InputError(f"{where}: {model}: unknown fact {key!r} (known: {', '.join(known_facts)})")
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: {model}.{key}: a fact is a mapping of value, sources and checked")
    lines = getattr(raw, "key_lines", {})
    where = f"{path}:{lines.get('sources', line)}"
    if isinstance(raw.get("unverified"), str) and "value" not in raw:
        return
    cited = raw.get("sources")
    if not isinstance(cited, list) or not cited:
        raise InputError(f"{where}: {model}.{key}: an overlay fact needs `sources` (keys under `sources:`)")
    unknown = [str(c) for c in cited if c not in sources]
    if unknown:
        raise InputError(f"{where}: {model}.{key}: unknown source {unknown[0]!r}: define it under `sources:`")
    if not isinstance(raw.get("checked"), date):
        raise InputError(
            f"{path}:{lines.get('checked', line)}: {model}.{key}: an overlay fact needs `checked: YYYY-MM-DD`"
        )


def read_overlay(
    path: Path, packaged_sources: Mapping[str, Any], facts: Sequence[str] | None = None
) -> Mapping[str, Any]:
    """Parse and validate an overlay file; any problem is one InputError naming file and line."""
    document = load_yaml(path, what="knowledge overlay")
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise InputError(f"{path}:1: a knowledge overlay is a mapping (checked, sources, models)")
    for key in document:
        if key not in OVERLAY_KEYS:
            line = getattr(document, "key_lines", {}).get(str(key), 1)
            raise InputError(
                f"{path}:{line}: unknown key {key!r} in a knowledge overlay (known: {', '.join(OVERLAY_KEYS)})"
            )
    checked = document.get("checked")
    if checked is not None and not isinstance(checked, date):
        raise InputError(
            f"{path}:{getattr(document, 'key_lines', {}).get('checked', 1)}: checked is a date (YYYY-MM-DD)"
        )
    sources = document.get("sources") or {}
    if not isinstance(sources, Mapping) or any(
        not isinstance(v, Mapping) or "title" not in v for v in sources.values()
    ):
        raise InputError(f"{_where(path, sources)}: each overlay source is {{title, ref, published}}")
    known = {**packaged_sources, **sources}
    names = facts if facts is not None else known_facts()
    models = document.get("models") or {}
    if not isinstance(models, Mapping):
        raise InputError(f"{_where(path, models)}: models is a mapping of model name to its facts")
    for name, raw in models.items():
        if not isinstance(raw, Mapping):
            raise InputError(f"{_where(path, raw, getattr(models, 'line', 1))}: model {name!r} needs facts")
        extra = [k for k in raw if k not in MODEL_KEYS]
        if extra:
            raise InputError(
                f"{_where(path, raw)}: model {name!r}: unknown key {extra[0]!r} (known: {', '.join(MODEL_KEYS)})"
            )
        stated = raw.get("facts") or {}
        if not isinstance(stated, Mapping):
            raise InputError(f"{_where(path, raw)}: model {name!r}: facts is a mapping")
        for key, fact in stated.items():
            line = getattr(stated, "key_lines", {}).get(str(key), 1)
            _check_fact(path, str(name), str(key), fact, known, line, names)
    return document


def apply_overlay(
    path: Path,
    models: MutableMapping[str, ModelEntry],
    sources: Mapping[str, Any],
    lines: MutableMapping[str, int],
) -> tuple[Layer, dict[str, Any]]:
    """Layer the overlay over `models` (own facts, before families): returns its layer and the merged sources."""
    from auditor.knowledge.base import Layer, _own_entry

    document = read_overlay(path, sources, known_facts(models.values()))
    layer_name = str(path)
    newest: list[date] = [document["checked"]] if isinstance(document.get("checked"), date) else []
    for name, raw in (document.get("models") or {}).items():
        entry = _own_entry(name, raw, str(path), layer=layer_name)
        newest += [f.checked for f in entry.facts.values() if isinstance(f.checked, date)]
        base = models.get(str(name))
        if base is None:
            models[str(name)] = entry
            lines[str(name)] = getattr(raw, "line", 1)
            continue
        models[str(name)] = replace(
            base,
            family=entry.family or base.family,
            publisher=entry.publisher or base.publisher,
            versions=tuple(dict.fromkeys((*base.versions, *entry.versions))),
            facts={**base.facts, **entry.facts},
        )
    merged = {**sources, **(document.get("sources") or {})}
    return Layer(layer_name, str(path), max(newest) if newest else None), merged


def _changed_models(base: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per model, what the refreshed document states differently from the base: facts (whole), versions, and
    models the base lacks (whole)."""
    changed: dict[str, dict[str, Any]] = {}
    base_models = base.get("models") or {}
    for name, entry in (new.get("models") or {}).items():
        before = base_models.get(name)
        if before is None:
            changed[str(name)] = dict(entry)
            continue
        facts = {
            key: fact
            for key, fact in (entry.get("facts") or {}).items()
            if (before.get("facts") or {}).get(key) != fact
        }
        item: dict[str, Any] = {}
        if list(entry.get("versions") or []) != list(before.get("versions") or []):
            item["versions"] = list(entry.get("versions") or [])
        if facts:
            item["facts"] = facts
        if item:
            changed[str(name)] = item
    return changed


def refreshed_overlay(
    base_text: str,
    new_text: str,
    existing: str | None,
    source_update: Mapping[str, Any],
    checked: date,
    facts: Iterable[FactChange] = (),
) -> str:
    """The overlay after a refresh: the existing overlay with every fact the refresh changed against the base
    (and the sources it cites, and the check date) written over it. Nothing else of the base is copied."""
    import yaml

    base = yaml.safe_load(base_text) or {}
    new = yaml.safe_load(new_text) or {}
    document: dict[str, Any] = dict(yaml.safe_load(existing) or {}) if existing else {}
    document.setdefault("schema_version", 1)
    document["checked"] = max(checked, document.get("checked") or checked)
    sources = dict(document.get("sources") or {})
    base_sources = base.get("sources") or {}
    sources.update({k: v for k, v in (new.get("sources") or {}).items() if base_sources.get(k) != v})
    sources.update(source_update)
    models = dict(document.get("models") or {})
    changed = _changed_models(base, new)
    for change in facts:
        changed.setdefault(change.model, {}).setdefault("facts", {})[change.key] = change.new
    for name, item in changed.items():
        merged = dict(models.get(name) or {})
        facts = {**(merged.get("facts") or {}), **(item.get("facts") or {})}
        merged.update({k: v for k, v in item.items() if k != "facts"})
        if facts:
            merged["facts"] = facts
        models[name] = merged
    document["sources"] = sources
    document["models"] = models
    header = (
        "# Knowledge-base overlay (aoai-auditor): facts stated here replace the packaged ones; each cites its\n"
        "# sources and check date. Written by `audit kb refresh --write`; edit by hand if you like.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
