"""A gate that would evaluate nothing, or a what-if that names no model, is an input error (exit 2), never a
pass: `--select NOPE`, `--ruleset 1999.01`, `--ignore X --select X`, `--what-if chat-prod=typo`."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.cli import main
from auditor.engine.rules import load_rules
from auditor.engine.upgrade import WhatIf
from auditor.knowledge.base import load_knowledge
from auditor.model.errors import InputError
from auditor.model.facts import Facts
from auditor.pipeline.audit import audit, check_what_ifs, select_rules


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--select", "NOPE"], "--select NOPE: no rule id or category"),
        (["--select", "securty"], "did you mean security"),
        (["--ruleset", "1999.01"], "--ruleset 1999.01: no rule existed then"),
        (["--ignore", "security", "--select", "security"], "no rule is left to evaluate"),
        (["--ignore", "AOAI-SEC-001", "--select", "AOAI-SEC-001"], "no rule is left to evaluate"),
        (["--what-if", "chat-prod=typo"], "--what-if chat-prod=typo: no model of that name"),
    ],
)
def test_a_gate_that_evaluates_nothing_exits_2(args: list[str], words: str, tmp_path: Path, capsys) -> None:
    assert main(["--demo", "--out", str(tmp_path / "out"), *args]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_valid_selection_still_runs() -> None:
    rules = load_rules(())
    kept = select_rules(rules, ["security"], ["AOAI-SEC-001"])
    assert kept and all(r.category == "security" and r.id != "AOAI-SEC-001" for r in kept)
    assert select_rules(rules, ruleset="2026.11")  # the first rule set has rules


def test_a_what_if_on_a_known_model_is_accepted_and_an_unknown_one_is_not() -> None:
    kb = load_knowledge()
    check_what_ifs([WhatIf("chat-prod", "gpt-4.1-mini", None)], Facts(), kb)
    with pytest.raises(InputError, match=r"gpt-4\.1-mnii"):
        audit(Facts(), load_rules(()), kb, what_ifs=[WhatIf("chat-prod", "gpt-4.1-mnii", None)])
