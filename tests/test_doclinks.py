"""Rule links: one documentation base declared in pyproject.toml, read from the installed package's metadata,
carrying the version that ran, in every report format; a mirror replaces the base (`--docs-url`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from auditor._version import __version__
from auditor.cli import main
from auditor.util.doclinks import FALLBACK_BASE, check_base, declared_base, rule_page
from tests.conftest import run_demo

ROOT = Path(__file__).resolve().parents[1]
RULE_LINK = re.compile(r"https?://[^\s\"'<>)\]]+/rules/AOAI-[A-Z]+-\d{3}/")


def test_the_base_is_declared_once_and_read_from_the_installed_metadata() -> None:
    urls = (ROOT / "pyproject.toml").read_text().split("[project.urls]\n", 1)[1].split("\n[", 1)[0]
    (declared,) = re.findall(r'^Documentation = "([^"]+)"$', urls, re.MULTILINE)
    assert declared_base() == declared == FALLBACK_BASE
    assert rule_page("AOAI-API-001") == f"{declared}{__version__}/rules/AOAI-API-001/"


def _links(out: Path) -> dict[str, list[str]]:
    sarif = json.loads((out / "report.sarif").read_text())
    return {
        "html": RULE_LINK.findall((out / "report.html").read_text()),
        "summary.md": RULE_LINK.findall((out / "summary.md").read_text()),
        "sarif helpUri": [r["helpUri"] for r in sarif["runs"][0]["tool"]["driver"]["rules"] if "helpUri" in r],
        "report.json": [f["docs"] for f in json.loads((out / "report.json").read_text())["findings"] if f["docs"]],
    }


@pytest.mark.parametrize("mirror", [None, "https://docs.corp.example/aoai"])
def test_every_rule_link_in_every_format_starts_with_the_base_and_carries_the_version(
    tmp_path: Path, mirror: str | None
) -> None:
    args = ["--format", "html,json,sarif,markdown"] + (["--docs-url", mirror] if mirror else [])
    assert run_demo(tmp_path, *args) == 1
    root = f"{(mirror or declared_base()).rstrip('/')}/{__version__}/rules/"
    for where, links in _links(tmp_path).items():
        builtin = [link for link in links if "/rules/AOAI-" in link]
        assert builtin, f"no rule link in {where}"
        wrong = [link for link in builtin if not link.startswith(root)]
        assert wrong == [], f"{where}: {wrong[:3]}"
        if mirror:
            assert not any(declared_base() in link for link in links), where


def test_a_docs_url_that_is_not_a_url_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["--demo", "--out", str(tmp_path), "--docs-url", "docs.example.com"]) == 2
    assert "--docs-url 'docs.example.com': give an http(s) URL" in capsys.readouterr().err
    assert check_base("https://x.example/a") == "https://x.example/a/"
