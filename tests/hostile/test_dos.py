"""Class 6: denial of service from pull-request files. A YAML alias bomb, an ARM `variables()` doubling
chain, and, in the code scan, symlinks to /dev/zero or out of the tree, FIFOs, a 50 MB file and deep
nesting: each is refused or skipped within a time and memory bound, never expanded."""

from __future__ import annotations

import json
import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.model.errors import InputError

TIME_BOUND = 5.0
MEMORY_BOUND = 64 * 1024 * 1024


@contextmanager
def bounded() -> Iterator[None]:
    """The block must finish within TIME_BOUND seconds and allocate at most MEMORY_BOUND bytes at peak."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert elapsed < TIME_BOUND, f"took {elapsed:.1f} s"
    assert peak < MEMORY_BOUND, f"peaked at {peak / 1e6:.0f} MB"


def alias_bomb(levels: int = 9) -> str:
    """The billion-laughs document: level n is nine references to level n-1 (9**9 strings in all)."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels + 1):
        lines.append(f"l{n}: &l{n} [" + ",".join([f"*l{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _expect_input_error(load: Callable[[], object], path: Path) -> str:
    with bounded(), pytest.raises(InputError) as raised:
        load()
    message = str(raised.value)
    assert message.startswith(f"{path}:"), message
    assert message.split(":")[1].strip().isdigit(), message
    return message


def test_an_alias_bomb_in_a_contracts_parameters_is_refused(tmp_path: Path, capsys) -> None:
    from auditor.sources.contract import load_contract_document

    path = tmp_path / "contract.yaml"
    path.write_text(alias_bomb() + "deployments:\n  d:\n    api: chat_completions\n    parameters: {p: *l9}\n")
    message = _expect_input_error(lambda: load_contract_document(path, {}), path)
    assert "expands to more than" in message
    started = time.monotonic()
    assert main(["--contract", str(path), "--plan", str(path), "--out", str(tmp_path / "out")]) == 2
    assert time.monotonic() - started < TIME_BOUND
    assert "Traceback" not in capsys.readouterr().err


def test_an_alias_bomb_in_a_plans_names_is_refused(tmp_path: Path) -> None:
    from auditor.sources.plan import load_plan

    path = tmp_path / "plan.yaml"
    path.write_text(
        alias_bomb()
        + "deployments:\n  - {account: a, name: *l9, model: gpt-4o, version: '1', sku: Standard, capacity: 1}\n"
    )
    _expect_input_error(lambda: load_plan(path), path)


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    from auditor.gating.waivers import load_waivers

    path = tmp_path / "waivers.yaml"
    path.write_text("waivers: &w\n  - *w\n")
    _expect_input_error(lambda: load_waivers(path), path)


def test_a_variables_doubling_chain_is_bounded(tmp_path: Path) -> None:
    from auditor.sources.plan import load_plan

    variables = {"v0": "ab"}
    for n in range(1, 60):
        variables[f"v{n}"] = f"[concat(variables('v{n - 1}'), variables('v{n - 1}'))]"
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "variables": variables,
        "resources": [
            {
                "type": "Microsoft.CognitiveServices/accounts/deployments",
                "apiVersion": "2024-10-01",
                "name": "[concat('acct/', variables('v59'))]",
                "sku": {"name": "Standard", "capacity": 1},
                "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}},
            }
        ],
    }
    path = tmp_path / "main.json"
    path.write_text(json.dumps(template, indent=2))
    message = _expect_input_error(lambda: load_plan(path), path)
    assert "more than" in message


def _template(variables: dict[str, str], name: str) -> dict:
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "variables": variables,
        "resources": [
            {
                "type": "Microsoft.CognitiveServices/accounts/deployments",
                "apiVersion": "2024-10-01",
                "name": name,
                "sku": {"name": "Standard", "capacity": 1},
                "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}},
            }
        ],
    }


def test_a_variables_chain_is_evaluated_once_per_variable(tmp_path: Path) -> None:
    """Each level names the level below twice (2**40 references), the value stays one word: memoised,
    it is 40 evaluations."""
    from auditor.sources.plan import load_plan

    variables = {"v0": "chat"}
    for n in range(1, 41):
        variables[f"v{n}"] = f"[format('{{0}}', variables('v{n - 1}'), variables('v{n - 1}'))]"
    path = tmp_path / "main.json"
    path.write_text(json.dumps(_template(variables, "[concat('acct/', variables('v40'))]")))
    with bounded():
        (planned,) = load_plan(path)
    assert planned.name == "chat"


def test_a_chain_of_variables_deeper_than_the_bound_is_refused(tmp_path: Path) -> None:
    from auditor.sources.plan import load_plan

    variables = {"v0": "chat"}
    for n in range(1, 200):
        variables[f"v{n}"] = f"[toLower(variables('v{n - 1}'))]"
    path = tmp_path / "main.json"
    path.write_text(json.dumps(_template(variables, "[concat('acct/', variables('v199'))]")))
    message = _expect_input_error(lambda: load_plan(path), path)
    assert "deep" in message


# --- the code scan: regular files inside the tree only ----------------------------------------------------

APP = "from openai import OpenAI\nclient = OpenAI()\nclient.chat.completions.create(model='chat-prod', messages=[])\n"


def _scan_bounded(root: Path):
    from auditor.sources.scan import scan

    with bounded():
        return scan(root)


def _app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    root.mkdir()
    (root / "main.py").write_text(APP)
    return root


def test_scan_does_not_follow_a_symlink_to_dev_zero(tmp_path: Path) -> None:
    root = _app(tmp_path)
    (root / "zero.py").symlink_to("/dev/zero")
    result = _scan_bounded(root)
    assert [c.deployment for c in result.calls] == ["chat-prod"]


def test_scan_does_not_block_on_a_fifo(tmp_path: Path) -> None:
    root = _app(tmp_path)
    os.mkfifo(root / "pipe.py")
    result = _scan_bounded(root)
    assert [c.deployment for c in result.calls] == ["chat-prod"]


def test_scan_does_not_follow_symlinks_out_of_the_tree(tmp_path: Path) -> None:
    root = _app(tmp_path)
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "leak.py").write_text(APP.replace("chat-prod", "leaked-from-outside"))
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "leak.py").symlink_to(outside / "leak.py")
    result = _scan_bounded(root)
    assert "leaked-from-outside" not in {c.deployment for c in result.calls}


def test_scan_skips_a_50_mb_file_without_reading_it_whole(tmp_path: Path) -> None:
    root = _app(tmp_path)
    with open(root / "huge.py", "w") as handle:
        handle.write("x = 1\n" * (50 * 1024 * 1024 // 6))
    result = _scan_bounded(root)
    assert [c.deployment for c in result.calls] == ["chat-prod"]


def test_scan_survives_deeply_nested_code(tmp_path: Path) -> None:
    root = _app(tmp_path)
    (root / "deep.py").write_text("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n" + "y = " + "-" * 100_000 + "1\n")
    (root / "deep2.py").write_text("x = " + "[" * 3000 + "]" * 3000 + "\n")
    result = _scan_bounded(root)
    assert [c.deployment for c in result.calls] == ["chat-prod"]
