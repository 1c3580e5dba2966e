"""The documents rules read are typed (auditor/model/documents.py) and what a rule may read is derived from
those types (auditor/engine/fields.py): no key list is kept by hand, and each fact is computed in one place."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypedDict

from auditor.engine.fields import ANY, RULE_FIELDS, SUBJECT_FIELDS, declared, spec_of
from auditor.knowledge.base import MODEL_FACTS, responses_only
from auditor.model.documents import GATE_DOCUMENTS, SUBJECT_DOCUMENTS, ModelFacts, Open
from auditor.model.unknown import UNKNOWN

AUDITOR = Path(__file__).resolve().parents[1] / "auditor"


class _Inner(TypedDict):
    depth: int


class _Probe(TypedDict):
    plain: int
    inner: _Inner
    free: Open


def test_declarations_are_derived_from_the_types() -> None:
    assert spec_of(_Probe) == {"plain": None, "inner": {"depth": None}, "free": ANY}
    assert set(SUBJECT_FIELDS) == set(SUBJECT_DOCUMENTS) and set(RULE_FIELDS) == set(SUBJECT_DOCUMENTS) | set(
        GATE_DOCUMENTS
    )
    assert declared("deployment", "model.retirement.days_left") and declared("upgrade", "upgrade.from")
    assert declared("deployment", "catalog.capabilities.anything.below") and not declared("deployment", "model.nope")


def test_no_key_list_is_kept_by_hand() -> None:
    fields = (AUDITOR / "engine" / "fields.py").read_text(encoding="utf-8")
    assert "_leaves(" not in fields and '"model_name"' not in fields
    assert tuple(ModelFacts.__annotations__) == MODEL_FACTS


def test_responses_only_is_computed_in_one_place() -> None:
    assert responses_only(["responses"]) is True and responses_only(["chat_completions", "responses"]) is False
    assert responses_only(UNKNOWN) is UNKNOWN
    computed = [
        f"{path.relative_to(AUDITOR)}:{n}"
        for path in AUDITOR.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r'"responses" in .*"chat_completions" not in', line)
    ]
    assert len(computed) == 1 and computed[0].startswith("knowledge/base.py:"), computed
