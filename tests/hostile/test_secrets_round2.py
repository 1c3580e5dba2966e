"""Round 2, secrets: an ARM parameter marked secure (securestring, secureobject) is never resolved, so its
default never reaches a deployment name, a message or a report. (That a fix's evidence keeps only the call's
own changed lines, not the hard-coded key beside it, is in test_fixes_input.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_demo

SECRET = "s3cr3t-default-0123456789"


@pytest.mark.parametrize("kind", ["securestring", "secureObject"])
def test_a_secure_parameters_default_is_never_printed(tmp_path: Path, capsys, kind: str) -> None:
    default: object = SECRET if kind == "securestring" else {"name": SECRET}
    lookup = "parameters('p')" if kind == "securestring" else "parameters('p').name"
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"p": {"type": kind, "defaultValue": default}},
        "resources": [
            {
                "type": "Microsoft.CognitiveServices/accounts/deployments",
                "apiVersion": "2024-10-01",
                "name": f"[concat('contoso-aoai-eus2/', {lookup})]",
                "sku": {"name": "Standard", "capacity": 1},
                "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}},
            }
        ],
    }
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(template), encoding="utf-8")
    out = tmp_path / "out"
    code = run_demo(out, "--plan", str(plan), "--fail-on", "never")
    captured = capsys.readouterr()
    assert code in (0, 3) and "Traceback" not in captured.err
    written = "".join(p.read_text(encoding="utf-8") for p in out.iterdir() if p.is_file())
    assert written and SECRET not in written and SECRET not in captured.out + captured.err
    assert "secure" in written
