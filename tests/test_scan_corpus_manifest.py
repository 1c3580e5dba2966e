"""The reviewed manifest of the public apps the code scan is measured on (tests/benchmarks/scan_corpus.py
--manifest runs the scan against it where the apps are checked out; the apps are not in this repository).
Here: the manifest itself is sound — at least ten apps, each pinned to a commit, with notebooks, Prompty,
Semantic Kernel, AutoGen and LangChain among them — and the checker counts as the issue defines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from auditor.sources.scan import contract_document  # noqa: F401  (the scan's public API is importable)
from auditor.sources.scan.model import ScannedCall, ScanResult
from tests.benchmarks.scan_corpus import check

MANIFEST = Path(__file__).parent / "benchmarks" / "scan_corpus_manifest.yaml"
APIS = {"chat_completions", "responses", "completions", "embeddings", "images", "audio", "realtime", "video"}
APIS |= {"assistants", "agents"}


def _manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def test_the_manifest_pins_ten_public_apps_of_every_kind() -> None:
    apps = _manifest()["apps"]
    assert len(apps) >= 10
    for app in apps:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", app["repository"]) and re.fullmatch(r"[0-9a-f]{40}", app["commit"])
        assert app["calls"] or app["notes"], app["repository"]
        for call in app["calls"]:
            assert re.fullmatch(r"[^:]+:\d+", call["at"]) and call["api"] in APIS
            assert ("deployment" in call) != ("unresolved" in call), call
    every = [c for app in apps for c in app["calls"]]
    assert any("#cell-" in c["at"] for c in every), "notebooks"
    assert any(c["at"].split(":")[0].endswith(".prompty") for c in every), "Prompty"
    text = MANIFEST.read_text(encoding="utf-8")
    for kind in ("Semantic Kernel", "AutoGen", "LangChain"):
        assert kind in text
    earlier = {  # the apps the scan was built on (issue 15): the corpus must be fresh
        "Azure-Samples/openai-chat-app-quickstart",
        "pamelafox/python-openai-demos",
        "Azure-Samples/python-ai-agent-frameworks-demos",
        "Azure-Samples/chat-with-your-data-solution-accelerator",
        "Azure-Samples/openai",
        "microsoft/sample-app-aoai-chatGPT",
    }
    assert not earlier & {app["repository"] for app in apps}


def test_the_checker_counts_found_noted_missing_and_wrong(tmp_path: Path) -> None:
    manifest = {
        "apps": [
            {
                "repository": "o/a",
                "directory": "a",
                "calls": [
                    {"at": "x.py:1", "api": "chat_completions", "deployment": "chat"},
                    {"at": "x.py:2", "api": "chat_completions", "deployment": "env:D", "default": "d"},
                    {"at": "x.py:3", "api": "responses", "unresolved": "function-argument"},
                    {"at": "x.py:4", "api": "embeddings", "deployment": "embed"},
                ],
                "notes": ["x.py:5: client.batches.create(...): no model"],
            }
        ]
    }
    root = tmp_path / "a"

    def fake_scan(path: Path) -> ScanResult:
        def call(line: int, api: str, deployment: str | None, **extra: Any) -> ScannedCall:
            return ScannedCall(api, f"{root}/x.py", line, deployment, "m", **extra)

        return ScanResult(
            (
                call(1, "chat_completions", "chat"),
                call(2, "chat_completions", "env:D", default="other"),  # a wrong default is a wrong name
                call(3, "responses", None, reason="function-argument"),
                call(9, "chat_completions", "extra"),
            ),
            notes=(f"{root}/x.py:5: client.batches.create(...): no model",),
        )

    total = check(tmp_path, manifest, fake_scan)["total"]
    assert (total["all"], total["found"], total["noted"], total["missing"]) == (5, 3, 1, 1)
    assert (total["resolved_right"], total["answered_right"], total["wrong_deployment"], total["extra"]) == (1, 2, 1, 1)
