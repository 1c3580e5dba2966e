"""`audit kb`: what the knowledge base holds per model, each fact with its value, sources and check date."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from auditor.knowledge.base import Fact, KnowledgeBase
from auditor.model.unknown import UNKNOWN


def _plain(value: Any) -> Any:
    """The value as JSON can hold it (dates as ISO strings)."""
    if value is UNKNOWN:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _fact(kb: KnowledgeBase, fact: Fact) -> dict[str, Any]:
    return {
        "value": _plain(fact.value),
        "sources": [
            {
                "key": key,
                "title": (kb.sources.get(key) or {}).get("title"),
                "ref": (kb.sources.get(key) or {}).get("ref"),
            }
            for key in fact.sources
        ],
        "checked": fact.checked.isoformat() if isinstance(fact.checked, date) else None,
        "disputed": fact.disputed,
        "unverified": fact.unverified,
        "unverified_reason": fact.reason,
        "known": fact.value is not UNKNOWN,
        "family": fact.family,
        "layer": fact.layer,
    }


def kb_document(kb: KnowledgeBase, today: date, only: str | None = None) -> dict[str, Any]:
    """The whole knowledge base (or one model) as a JSON-ready document for scripts."""
    models = {
        name: {
            "family": entry.family,
            "publisher": entry.publisher,
            "versions": list(entry.versions),
            "facts": {key: _fact(kb, fact) for key, fact in entry.facts.items()},
        }
        for name, entry in sorted(kb.models.items())
        if only is None or name == only
    }
    checked = kb.checked if isinstance(kb.checked, date) else None
    return {
        "path": kb.path,
        "layers": [{"name": layer.name, "path": layer.path, "checked": _plain(layer.checked)} for layer in kb.layers],
        "checked": checked.isoformat() if checked else None,
        "age_days": (today - checked).days if checked else None,
        "sources": {key: _plain(dict(source)) for key, source in sorted(kb.sources.items())},
        "models": models,
    }


def _short(value: Any) -> str:
    text = json.dumps(_plain(value), ensure_ascii=False)
    return text if len(text) <= 110 else text[:107] + "..."


def kb_text(kb: KnowledgeBase, today: date, only: str | None = None) -> str:
    """Per model, one line per fact: value, sources, date checked, and any dispute."""
    document = kb_document(kb, today, only)
    lines = []
    for name, model in document["models"].items():
        versions = ", ".join(model["versions"]) or "no version string"
        lines.append(f"{name}  ({model['family']}, {model['publisher']}; versions: {versions})")
        for key, fact in model["facts"].items():
            marks = " UNVERIFIED" if fact["unverified"] else ""
            if fact["unverified_reason"]:
                marks += f" ({fact['unverified_reason']})"
            if fact["family"]:
                marks += f" [family {fact['family']}]"
            if fact["layer"] != "packaged":
                marks += f" [layer {fact['layer']}]"
            sources = ", ".join(s["key"] for s in fact["sources"])
            value = _short(fact["value"]) if fact["known"] else "unknown"
            lines.append(f"  {key}: {value}  [{sources or 'no source'}; checked {fact['checked']}]{marks}")
            if fact["disputed"]:
                lines.append(f"    disputed: {fact['disputed']}")
        lines.append("")
    return "\n".join(lines)
