"""The model knowledge base: facts Azure does not report, each with its sources and the date checked."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from auditor.model.documents import ApiParameterFacts, ModelFacts, ModelView
from auditor.model.errors import InputError
from auditor.model.unknown import UNKNOWN
from auditor.util.resources import data_dir
from auditor.util.yamlfile import load_yaml

MODEL_FACTS = tuple(ModelFacts.__annotations__)
"""The facts the knowledge base records per model: the keys of the model view's ModelFacts
(auditor/model/documents.py), in their order."""

MODEL_KINDS = ("chat", "reasoning", "embeddings", "image", "audio", "realtime", "completions", "router", "video")
"""What a model is for; rules say which kinds they apply to (`where: {field: model.kind, in: [...]}`)."""


@dataclass(frozen=True)
class Fact:
    """One claim about a model, with where it comes from and how sure we are."""

    value: Any
    sources: tuple[str, ...]
    checked: date | None
    disputed: str | None = None
    unverified: bool = False
    reason: str | None = None
    """Why the fact is unverified (and, with no value, why it is left unknown)."""
    family: str | None = None
    """The family it is stated for (rules/knowledge/families.yaml), None when stated for the model itself."""
    layer: str = "packaged"
    """Which layer stated it: `packaged` (the file in the wheel), else the overlay file's path."""

    @property
    def settled(self) -> bool:
        """Set with a source, or explicitly left unverified with a reason."""
        return bool(self.sources) if self.value is not UNKNOWN else bool(self.reason)


@dataclass(frozen=True)
class ModelEntry:
    """Everything the knowledge base holds about one model name."""

    name: str
    family: str | None
    publisher: str | None
    versions: tuple[str, ...]
    facts: Mapping[str, Fact] = field(default_factory=dict)
    kind: str | None = None
    """chat, reasoning, embeddings ... (MODEL_KINDS): from its family, else derived from its facts."""
    kb_family: str | None = None
    """The families.yaml family whose facts it inherits."""


@dataclass(frozen=True)
class Layer:
    """One file the knowledge base was read from, and the newest date it was checked."""

    name: str
    path: str
    checked: date | None


@dataclass(frozen=True)
class KnowledgeBase:
    """The loaded knowledge base."""

    checked: date | None
    sources: Mapping[str, Mapping[str, Any]]
    models: Mapping[str, ModelEntry]
    parameter_groups: Mapping[str, Mapping[str, Mapping[str, Any]]]
    responses_regions: Fact | None
    path: str = ""
    families: Mapping[str, Family] = field(default_factory=dict)
    api_parameters: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    parameter_bounds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Value bounds of request parameters that hold for every model ({name: {min, max}}), with its source."""
    layers: tuple[Layer, ...] = ()
    """Where the facts came from, bottom first: the packaged file, then the user's overlay if any."""

    def api_parameter(self, api: str, name: str) -> ApiParameterFacts:
        """Whether a request parameter belongs to only one API, and the other API's counterpart."""
        chat_only = self.api_parameters.get("chat_only", {})
        responses_only = self.api_parameters.get("responses_only", {})
        wrong = (responses_only if api == "chat_completions" else chat_only if api == "responses" else {}).get(name)
        return {
            "chat_only": name in chat_only,
            "responses_only": name in responses_only,
            "wrong_api": wrong is not None,
            "other_api_name": (wrong or {}).get("use_instead"),
        }

    def model(self, name: str | None) -> ModelEntry | None:
        if not name:
            return None
        return self.models.get(name) or self.models.get(name.lower())

    def fine_tuned_base(self, name: str | None) -> tuple[ModelEntry, str] | None:
        """The base model and version of a fine-tuned deployment's model name, `<base>-<version>.ft-<job>`."""
        if not name or ".ft-" not in name:
            return None
        prefix = name.split(".ft-", 1)[0]
        for entry in self.models.values():
            for version in entry.versions:
                if prefix.lower() == f"{entry.name}-{version}".lower():
                    return entry, version
        return None

    def parameters(self, entry: ModelEntry) -> dict[str, dict[str, Any]]:
        """Parameter handling for a model: its group's table with the model's overrides on top."""
        fact = entry.facts.get("parameters")
        if fact is None or not isinstance(fact.value, Mapping):
            return {}
        value = fact.value
        table: dict[str, dict[str, Any]] = {}
        group = value.get("group")
        if group:
            table.update({k: dict(v) for k, v in self.parameter_groups.get(group, {}).items()})
        for key, spec in value.items():
            if key == "group":
                continue
            if key == "overrides" and isinstance(spec, Mapping):
                table.update({k: dict(v) for k, v in spec.items()})
            elif isinstance(spec, Mapping):
                table[key] = dict(spec)
        return table


def _fact(raw: Any, where: str, family: str | None = None) -> Fact:
    """`{value, sources, checked}`, or `{unverified: "why"}` for a fact deliberately left unknown."""
    unverified = raw.get("unverified") if isinstance(raw, Mapping) else None
    if not isinstance(raw, Mapping) or ("value" not in raw and not isinstance(unverified, str)):
        raise InputError(
            f"{where}: a knowledge-base fact needs value, sources and checked (or `unverified: <why>` to leave it unknown)"
        )
    return Fact(
        value=raw.get("value", UNKNOWN),
        sources=tuple(raw.get("sources") or ()),
        checked=raw.get("checked"),
        disputed=raw.get("disputed"),
        unverified=bool(unverified),
        reason=unverified if isinstance(unverified, str) else None,
        family=family,
    )


@dataclass(frozen=True)
class Family:
    """Facts stated once for every member of a family of models (rules/knowledge/families.yaml)."""

    name: str
    kind: str | None
    members: tuple[str, ...]
    facts: Mapping[str, Fact]

    def matches(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name.lower(), pattern.lower()) for pattern in self.members)


def load_families(path: Path, *, trusted: bool = False) -> tuple[dict[str, Family], dict[str, Any], dict[str, Any]]:
    """The families file: families by name, and the sources and parameter groups it adds."""
    document = load_yaml(path, what="knowledge-base families", trusted=trusted)
    if not isinstance(document, Mapping) or not isinstance(document.get("families"), Mapping):
        raise InputError(f"{path}:1: a families file needs a `families` mapping")
    families: dict[str, Family] = {}
    for name, raw in document["families"].items():
        line = getattr(raw, "line", 1)
        if not isinstance(raw, Mapping):
            raise InputError(f"{path}:{line}: family {name!r} needs kind, members and facts")
        kind = raw.get("kind")
        if kind is not None and kind not in MODEL_KINDS:
            raise InputError(
                f"{path}:{line}: family {name!r}: kind must be one of {', '.join(MODEL_KINDS)}, not {kind!r}"
            )
        facts_raw = raw.get("facts") or {}
        unknown = sorted(set(map(str, facts_raw)) - set(MODEL_FACTS))
        if unknown:
            raise InputError(
                f"{path}:{line}: family {name!r}: unknown fact {unknown[0]!r} (known: {', '.join(MODEL_FACTS)})"
            )
        facts = {
            str(key): _fact(value, f"{path}:{getattr(value, 'line', line)}", family=str(name))
            for key, value in facts_raw.items()
        }
        families[str(name)] = Family(str(name), kind, tuple(str(m) for m in raw.get("members") or ()), facts)
    return families, dict(document.get("sources") or {}), dict(document.get("parameter_groups") or {})


def _family_of(entry: ModelEntry, families: Mapping[str, Family], where: str) -> Family | None:
    """A model's family: the one whose `members` patterns match its name, else the one its own `family:` names."""
    matched = [f for f in families.values() if f.matches(entry.name)]
    if len(matched) > 1:
        names = ", ".join(f.name for f in matched)
        raise InputError(f"{where}: model {entry.name!r} matches the members of several families ({names})")
    if matched:
        return matched[0]
    return families.get(entry.family or "")


def _derived_kind(facts: Mapping[str, Fact]) -> str | None:
    """The kind a model's own facts imply when no family states it."""
    reasoning = facts.get("reasoning")
    apis = facts.get("apis")
    served = set(apis.value) if apis and isinstance(apis.value, list) else set()
    if reasoning is not None and reasoning.value is True:
        return "reasoning"
    if served & {"chat_completions", "responses"}:
        return "chat" if reasoning is not None and reasoning.value is False else None
    for api, kind in (("embeddings", "embeddings"), ("images", "image"), ("completions", "completions")):
        if served == {api}:
            return kind
    return None


def _with_family(entry: ModelEntry, family: Family | None) -> ModelEntry:
    """The model's own facts over its family's."""
    if family is None:
        return replace(entry, kind=_derived_kind(entry.facts))
    facts = {**family.facts, **entry.facts}
    own, shared = entry.facts.get("parameters"), family.facts.get("parameters")
    if own and shared and isinstance(own.value, Mapping) and isinstance(shared.value, Mapping):
        # The model's table refines its family's: the family's group and overrides, then the model's.
        value = {**shared.value, **own.value}
        value["overrides"] = {**(shared.value.get("overrides") or {}), **(own.value.get("overrides") or {})}
        facts["parameters"] = replace(own, value=value, sources=tuple(dict.fromkeys(own.sources + shared.sources)))
    return replace(entry, facts=facts, kind=family.kind or _derived_kind(facts), kb_family=family.name)


def load_knowledge(path: Path | None = None, *, overlay: Path | None = None) -> KnowledgeBase:
    """Load the knowledge base (the packaged one unless a path is given), with the family-level facts of
    `families.yaml` beside it, when there is one, and the user's `overlay` on top (only the facts it states).
    The packaged one skips the YAML size bounds (see engine.rules.load_rule_file: the tests hold it to them)."""
    packaged = path is None
    path = path or data_dir("rules") / "knowledge" / "models.yaml"
    families_path = path.parent / "families.yaml"
    families, family_sources, family_groups = (
        load_families(families_path, trusted=packaged) if families_path.is_file() else ({}, {}, {})
    )
    document = load_yaml(path, what="knowledge-base", trusted=packaged)
    if not isinstance(document, Mapping) or not isinstance(document.get("models"), Mapping):
        raise InputError(f"{path}:1: a knowledge base needs a `models` mapping")
    own = {str(name): _own_entry(name, raw, str(path)) for name, raw in document["models"].items()}
    lines = {str(name): getattr(raw, "line", 1) for name, raw in document["models"].items()}
    sources = {**(document.get("sources") or {}), **family_sources}
    layers = [Layer("packaged" if packaged else "base", str(path), document.get("checked"))]
    if overlay is not None:
        layer, sources = apply_overlay(overlay, own, sources, lines)
        layers.append(layer)
    models = {
        name: _with_family(entry, _family_of(entry, families, f"{path}:{lines.get(name, 1)}"))
        for name, entry in own.items()
    }
    responses = (document.get("responses_api") or {}).get("regions")
    api_parameters = document.get("api_parameters")
    bounds = document.get("parameter_bounds")
    dates = [layer.checked for layer in layers if isinstance(layer.checked, date)]
    return KnowledgeBase(
        checked=max(dates) if dates else None,
        sources=sources,
        models=models,
        parameter_groups={**(document.get("parameter_groups") or {}), **family_groups},
        responses_regions=_fact(responses, f"{path}") if responses else None,
        path=" + ".join(layer.path for layer in layers),
        families=families,
        api_parameters=_fact(api_parameters, f"{path}").value if api_parameters else {},
        parameter_bounds=_fact(bounds, f"{path}").value if bounds else {},
        layers=tuple(layers),
    )


def _own_entry(name: Any, raw: Any, path: str, layer: str = "packaged") -> ModelEntry:
    """A model as its file states it, before its family's facts are added."""
    line = getattr(raw, "line", 1)
    if not isinstance(raw, Mapping):
        raise InputError(f"{path}:{line}: model {name!r} needs versions and facts")
    facts_raw = raw.get("facts") or {}
    facts = {
        str(key): replace(_fact(value, f"{path}:{getattr(value, 'line', line)}"), layer=layer)
        for key, value in facts_raw.items()
    }
    return ModelEntry(
        name=str(name),
        family=raw.get("family"),
        publisher=raw.get("publisher"),
        versions=tuple(str(v) for v in raw.get("versions") or ()),
        facts=facts,
    )


def _current_registration(fact: Fact | None, today: date) -> dict[str, Any] | Any:
    if fact is None or fact.value is UNKNOWN:  # a family fact nobody could confirm
        return UNKNOWN
    history = fact.value if isinstance(fact.value, list) else [fact.value]
    current = None
    for entry in history:
        if entry.get("feature"):
            continue
        as_of = entry.get("as_of")
        if as_of is None or as_of <= today:
            current = entry
    if current is None:
        return UNKNOWN
    return {
        "required": bool(current.get("required")),
        "link": current.get("link"),
        "as_of": str(current.get("as_of")) if current.get("as_of") else None,
    }


def _context_window(fact: Fact | None, sku_name: str | None, version: str | None = None) -> Any:
    if fact is None:
        return UNKNOWN
    value = fact.value
    if isinstance(value, Mapping):
        by_sku = value.get("by_sku") or {}
        if sku_name and sku_name in by_sku:
            return by_sku[sku_name]
        by_version = value.get("by_version") or {}
        if version and version in by_version:
            return by_version[version]
        return value.get("default", UNKNOWN)
    return value


NO_REPLACEMENT = "none"
"""How the retirement schedule's "—" (no replacement named) is written in the knowledge base."""


def has_replacement(name: object) -> bool:
    """Whether a retirement entry names a model to move to (not "none", not missing)."""
    return isinstance(name, str) and name.strip().casefold() not in ("", NO_REPLACEMENT)


def _fine_tuned_retirement(fact: Fact | None, version: str, today: date) -> dict[str, Any] | Any:
    """A fine-tuned deployment retires on its base version's deployment date, not the base model's."""
    if fact is None or not isinstance(fact.value, Mapping) or version not in fact.value:
        return UNKNOWN
    retires = (fact.value[version] or {}).get("deployment_retires")
    return {
        "date": str(retires) if retires else None,
        "days_left": (retires - today).days if isinstance(retires, date) else None,
        "replacement": NO_REPLACEMENT,
        "status": "fine-tuned deployment",
    }


def _retirement(fact: Fact | None, version: str | None, today: date) -> dict[str, Any] | Any:
    if fact is None or not isinstance(fact.value, Mapping):
        return UNKNOWN
    key = version if version in fact.value else "*"
    if key not in fact.value:
        return UNKNOWN
    entry = fact.value[key] or {}
    retires = entry.get("retires")
    return {
        "date": str(retires) if retires else None,
        "days_left": (retires - today).days if isinstance(retires, date) else None,
        "replacement": entry.get("replacement"),
        "status": entry.get("status"),
    }


def _embeddings(value: Any, version: str | None) -> Any:
    """Embeddings limits for one version (max_input_tokens may differ by version)."""
    if not isinstance(value, Mapping):
        return value
    return {key: _by_version(item, version) for key, item in value.items()}


def _effort_values(effort: Any) -> Any:
    """Accepted reasoning_effort values: [] when the model takes none, UNKNOWN when the docs do not say."""
    if effort is None:
        return []
    if isinstance(effort, Mapping):
        values = effort.get("values")
        return list(values) if values is not None else UNKNOWN
    return UNKNOWN


def _by_version(value: Any, version: str | None) -> Any:
    if isinstance(value, Mapping) and "by_version" in value:
        return (value.get("by_version") or {}).get(version, value.get("default", UNKNOWN))
    return value


def _gated_features(fact: Fact | None, today: date) -> list[str]:
    if fact is None or not isinstance(fact.value, list):
        return []
    return sorted(
        {
            e["feature"]
            for e in fact.value
            if e.get("feature") and e.get("required") and (e.get("as_of") or today) <= today
        }
    )


def _describe_parameters(table: Mapping[str, Mapping[str, Any]]) -> str:
    parts = []
    for name, spec in sorted(table.items()):
        support = spec.get("support")
        if support == "rejected":
            hint = f" (use {spec['use_instead']})" if spec.get("use_instead") else ""
            parts.append(f"{name}{hint}")
        elif support == "default_only":
            parts.append(f"{name} other than {spec.get('default')}")
    return ", ".join(parts)


def responses_only(apis: Any) -> Any:
    """The model serves the Responses API and not Chat Completions (AOAI-API-002): derived from its APIs here
    only, wherever the APIs come from (knowledge base, live catalog, probes)."""
    if apis is UNKNOWN:
        return UNKNOWN
    return "responses" in apis and "chat_completions" not in apis


def with_apis(model: dict[str, Any], apis: Any) -> None:
    """Set the model's APIs and the fact derived from them together, so the two cannot disagree."""
    model["apis"] = apis
    model["responses_only"] = responses_only(apis)


def _unknown_model(name: str | None) -> dict[str, Any]:
    view: dict[str, Any] = dict.fromkeys(MODEL_FACTS, UNKNOWN)
    known: ModelView = {
        "known": False,
        "name": name,
        "kind": UNKNOWN,
        "responses_only": UNKNOWN,
        "disputed": {},
        "gaps": {},
        "fine_tuned": UNKNOWN,
    }
    view.update(known)
    return view


def _reasoning_and_parameters(kb: KnowledgeBase, entry: ModelEntry) -> tuple[Any, Any]:
    """Whether the model reasons (the family's kind says so when no fact does) and its parameter table."""
    facts = entry.facts
    reasoning = facts["reasoning"].value if "reasoning" in facts else UNKNOWN
    parameters = kb.parameters(entry) if "parameters" in facts else ({} if reasoning is False else UNKNOWN)
    if reasoning is UNKNOWN and entry.kind is not None and "reasoning" not in facts:
        reasoning = entry.kind == "reasoning"  # the family's kind says it (its parameters stay unknown)
    if "parameters" in facts and facts["parameters"].value is UNKNOWN:
        parameters = UNKNOWN
    return reasoning, parameters


def _known_value(facts: Mapping[str, Any], key: str, default: Any) -> Any:
    """A fact's value when the knowledge base records one (not left unknown), else `default`."""
    return facts[key].value if key in facts and facts[key].value is not UNKNOWN else default


def model_view(
    kb: KnowledgeBase, name: str | None, version: str | None, sku_name: str | None, today: date
) -> dict[str, Any]:
    """The `model.*` facts a rule sees for one deployment; UNKNOWN where the knowledge base is silent."""
    entry = kb.model(name)
    fine_tuned = None if entry is not None else kb.fine_tuned_base(name)
    if fine_tuned is not None:
        entry, version = fine_tuned
    if entry is None:
        return _unknown_model(name)
    facts = entry.facts

    def value(key: str) -> Any:
        return facts[key].value if key in facts else UNKNOWN

    apis = value("apis")
    reasoning, parameters = _reasoning_and_parameters(kb, entry)
    effort = value("reasoning_effort")
    view: ModelView = {
        "known": True,
        "name": entry.name,
        "family": entry.kb_family or entry.family,
        "kind": entry.kind or UNKNOWN,
        "tools": value("tools"),
        "structured_outputs": value("structured_outputs"),
        "apis": apis,
        "responses_only": responses_only(apis),
        "reasoning": reasoning,
        "parameters": parameters,
        "rejected_parameters_text": UNKNOWN if parameters is UNKNOWN else _describe_parameters(parameters),
        "token_limit_parameter": value("token_limit_parameter"),
        "rejected_roles": value("rejected_roles"),
        "streaming": _by_version(value("streaming"), version),
        "parallel_tool_calls": _by_version(value("parallel_tool_calls"), version),
        "reasoning_effort": effort,
        "reasoning_effort_values": _effort_values(effort),
        "context_window": _context_window(facts.get("context_window"), sku_name, version),
        "max_input_tokens": _by_version(value("max_input_tokens"), version),
        "max_output_tokens": _by_version(value("max_output_tokens"), version),
        "input_modalities": value("input_modalities"),
        "registration": _current_registration(facts.get("registration"), today),
        "gated_features": _gated_features(facts.get("registration"), today),
        "retirement": _fine_tuned_retirement(facts.get("fine_tuned_retirement"), version or "", today)
        if fine_tuned
        else _retirement(facts.get("retirement"), version, today),
        "fine_tuned": fine_tuned is not None,
        # Non-reasoning models take function tools on Chat Completions; a reasoning model needs the fact.
        "chat_function_tools": facts["chat_function_tools"].value
        if "chat_function_tools" in facts
        else ("supported" if reasoning is False else UNKNOWN),
        # No recorded minimum: the rule has nothing to compare (the model is known, so this is not a guess).
        # Left unverified (no minimum documented) reads the same: the rule has no minimum to compare against.
        "min_api_version": _known_value(facts, "min_api_version", None),
        "embeddings": _embeddings(value("embeddings"), version),
        "version_known": version in entry.versions if version else UNKNOWN,
        "disputed": {key: fact.disputed for key, fact in sorted(facts.items()) if fact.disputed},
        "gaps": {key: fact.reason for key, fact in sorted(facts.items()) if fact.value is UNKNOWN and fact.reason},
    }
    return dict(view)  # a plain dict: the live catalog and the probes update copies of it


def apply_overlay(
    path: Path,
    models: MutableMapping[str, ModelEntry],
    sources: Mapping[str, Any],
    lines: MutableMapping[str, int],
) -> tuple[Layer, dict[str, Any]]:
    """Layer the overlay over `models` (own facts, before families): returns its layer and the merged sources."""
    from auditor.knowledge.overlay import known_facts, read_overlay

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
