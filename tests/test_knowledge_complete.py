"""The knowledge base answers every question the rules ask of it: for every model, every fact some rule
reads for that model's kind is set with a source, or explicitly left unverified with a reason. What the
rules read is derived from the rule files, so a new rule reading a new fact fails this test until the
knowledge base answers it (rules/knowledge/models.yaml or families.yaml)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest

from auditor.engine.causes import model_fact
from auditor.engine.conditions import evaluate
from auditor.engine.fields import condition_paths
from auditor.engine.rules import Rule, load_rules
from auditor.knowledge.base import MODEL_KINDS, KnowledgeBase, load_knowledge
from auditor.model.unknown import UNKNOWN

_META = {"known", "name", "family", "kind", "version_known", "disputed", "gaps"}


class _Unknowns(dict[str, Any]):
    """A document in which every fact but the ones given is unknown."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, UNKNOWN)


def applies_to_kind(rule: Rule, kind: str) -> bool:
    """False only when the rule's `where` rules the kind out whatever else is true."""
    if not rule.where:
        return True
    document = _Unknowns(model=_Unknowns(kind=kind))
    return evaluate(rule.where, document) is not False


def facts_read(rules: Iterable[Rule]) -> dict[str, dict[str, set[str]]]:
    """kind -> knowledge-base fact -> the rules that read it for models of that kind."""
    needed: dict[str, dict[str, set[str]]] = {kind: {} for kind in MODEL_KINDS}
    for rule in rules:
        paths = [*condition_paths(rule.where), *condition_paths(rule.fails_when)]
        read = {model_fact(p) for p in paths} - {None} - _META
        for kind in MODEL_KINDS:
            if applies_to_kind(rule, kind):
                for fact in read:
                    needed[kind].setdefault(str(fact), set()).add(rule.id)
    return needed


def gaps(kb: KnowledgeBase, rules: Iterable[Rule]) -> list[str]:
    needed = facts_read(rules)
    missing = []
    for name, entry in sorted(kb.models.items()):
        if entry.kind is None:
            missing.append(f"{name}: no kind (give it a family in families.yaml)")
            continue
        for fact, readers in sorted(needed[entry.kind].items()):
            if fact == "reasoning" and "reasoning" not in entry.facts:
                continue  # follows from the kind its family states
            known = entry.facts.get(fact)
            if known is None or not known.settled:
                missing.append(f"{name} ({entry.kind}): {fact}, read by {', '.join(sorted(readers))}")
    return missing


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return load_rules()


def test_every_model_has_a_kind_and_every_fact_the_rules_read(rules) -> None:
    missing = gaps(load_knowledge(), rules)
    assert not missing, "the knowledge base does not answer:\n" + "\n".join(missing)


def test_the_facts_rules_read_are_derived_from_the_rules(rules) -> None:
    needed = facts_read(rules)
    assert {"apis", "registration", "parameters", "streaming", "parallel_tool_calls"} <= set(needed["chat"])
    assert "streaming" not in needed["embeddings"], "a stream rule says nothing about embeddings models"
    assert "apis" in needed["embeddings"] and "apis" in needed["image"]


def test_a_new_rule_reading_a_new_fact_forces_the_knowledge_base_to_answer(rules) -> None:
    new = replace(
        rules[0],
        id="AOAI-NEW-001",
        applies_to="deployment",
        where={"field": "model.kind", "in": ["chat"]},
        fails_when={"field": "model.structured_outputs", "equals": False},
    )
    missing = gaps(load_knowledge(), [*rules, new])
    assert any("gpt-4o (chat): structured_outputs, read by AOAI-NEW-001" in m for m in missing)
    assert not any("o3 (" in m and "structured_outputs" in m for m in missing), "only chat models are asked"


def _kb_dir(tmp_path, families: str):
    (tmp_path / "models.yaml").write_text(
        "checked: 2026-12-01\nmodels:\n  my-chat:\n    family: mine\n    versions: ['1']\n"
        "    facts:\n      apis: {value: [chat_completions], sources: [X], checked: 2026-12-01}\n"
        "      streaming: {value: false, sources: [X], checked: 2026-12-01}\n"
    )
    (tmp_path / "families.yaml").write_text(families)
    return tmp_path / "models.yaml"


def test_a_family_states_facts_once_and_the_model_wins(tmp_path) -> None:
    from datetime import date

    from auditor.knowledge.base import model_view

    path = _kb_dir(
        tmp_path,
        "families:\n  mine:\n    kind: chat\n    facts:\n"
        "      streaming: {value: true, sources: [Y], checked: 2026-12-01}\n"
        "      parallel_tool_calls: {unverified: 'no source says'}\n",
    )
    kb = load_knowledge(path)
    view = model_view(kb, "my-chat", "1", None, date(2026, 12, 3))
    assert (view["kind"], view["streaming"], view["parallel_tool_calls"]) == ("chat", False, UNKNOWN)
    assert view["gaps"] == {"parallel_tool_calls": "no source says"}


def test_family_mistakes_are_input_errors(tmp_path) -> None:
    from auditor.model.errors import InputError

    ambiguous = "families:\n  a: {kind: chat, members: [my-*]}\n  b: {kind: chat, members: ['*-chat']}\n"
    with pytest.raises(InputError, match="matches the members of several families"):
        load_knowledge(_kb_dir(tmp_path, ambiguous))
    with pytest.raises(InputError, match="unknown fact 'streams'"):
        load_knowledge(_kb_dir(tmp_path, "families:\n  mine:\n    facts: {streams: {value: true}}\n"))
    with pytest.raises(InputError, match="kind must be one of"):
        load_knowledge(_kb_dir(tmp_path, "families:\n  mine: {kind: chatbot}\n"))
