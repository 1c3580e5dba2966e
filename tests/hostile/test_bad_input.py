"""Class 7: input that used to end in a traceback. Each is now one line naming the file and line, exit 2,
through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.cli import main

ARM = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "resources": [
        {
            "type": "Microsoft.CognitiveServices/accounts/deployments",
            "apiVersion": "2024-10-01",
            "name": "acct/chat",
            "sku": {"name": "Standard", "capacity": 1},
            "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}},
        }
    ],
}


def _arm(name: str = "acct/chat", capacity: object = 1) -> str:
    template = json.loads(json.dumps(ARM))
    template["resources"][0]["name"] = name
    template["resources"][0]["sku"]["capacity"] = capacity
    return json.dumps(template, indent=2)


CASES = {
    "contract date": ("contract", "deployments:\n  d:\n    api: chat_completions\n    since: 2099-13-45\n"),
    "waiver date": (
        "waivers",
        "waivers:\n  - rule: AOAI-LIFE-004\n    target: '*'\n    reason: r\n    owner: o\n    expires: 2099-13-45\n",
    ),
    "plan yaml date": (
        "plan",
        "deployments:\n  - {account: a, name: n, model: gpt-4o, version: 2099-13-45, sku: Standard, capacity: 1}\n",
    ),
    "plan yaml 5000-digit capacity": (
        "plan",
        "deployments:\n  - {account: a, name: n, model: gpt-4o, version: '1', sku: Standard, capacity: "
        + "9" * 5000
        + "}\n",
    ),
    "arm format() without its argument": ("plan.json", _arm("[format('acct/{0}{5}', 'x')]")),
    "arm int() of a word": ("plan.json", _arm(capacity="[int('lots')]")),
    "arm 3000-deep concat": ("plan.json", _arm("[" + "concat(" * 3000 + "'acct/x'" + ")" * 3000 + "]")),
    "arm 5000-digit number": ("plan.json", _arm().replace('"capacity": 1', '"capacity": ' + "7" * 5000)),
    "arm nested 100k deep": ("plan.json", "[" * 100_000 + "]" * 100_000),
    "baseline nested 100k deep": ("baseline", "[" * 100_000 + "]" * 100_000),
    "baseline 5000-digit number": ("baseline", '{"schema_version": ' + "1" * 5000 + "}"),
    "rules date": ("rules", "rules:\n  - id: X-1\n    since: 2099-13-45\n"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys, case: str) -> None:
    kind, text = CASES[case]
    suffix = ".json" if kind in ("plan.json", "baseline") else ".yaml"
    path = tmp_path / f"input{suffix}"
    if kind == "rules":
        path = tmp_path / "rules" / "bad.yaml"
        path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    flag = {
        "contract": ["--contract", str(path), "--plan", str(path)],
        "waivers": ["--waivers", str(path), "--all"],
        "plan": ["--plan", str(path)],
        "plan.json": ["--plan", str(path)],
        "baseline": ["--baseline", str(path), "--all"],
        "rules": ["--rules", str(path.parent), "--all"],
    }[kind]
    code = main([*flag, "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert f"{path}:" in err, err
    after = err.split(f"{path}:", 1)[1]
    assert after.split(":", 1)[0].isdigit(), err


def test_an_arm_capacity_of_1e999_is_not_a_crash(tmp_path: Path) -> None:
    from auditor.sources.plan import load_plan

    path = tmp_path / "main.json"
    path.write_text(_arm().replace('"capacity": 1', '"capacity": 1e999'))
    (planned,) = load_plan(path)
    assert planned.sku_capacity is None and any("capacity" in u for u in planned.unresolved)
