"""Where the documentation lives: one base URL, declared once in pyproject.toml (`[project.urls] Documentation`)
and read back from the installed package's metadata, so a rule link in a report names the docs of the version
that produced it. A team's internal mirror replaces the base (`--docs-url`, or the configuration's `docs_url`)."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from auditor._version import __version__
from auditor.model.errors import InputError

DISTRIBUTION = "aoai-auditor"
FALLBACK_BASE = "https://aoai-auditor.github.io/aoai-auditor/"
"""Only for a source tree run without installing it (no metadata to read); pyproject.toml holds the same value
(tests/test_doclinks.py checks that they agree)."""


@lru_cache(maxsize=1)
def declared_base() -> str:
    """The `Documentation` project URL of the installed distribution."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata(DISTRIBUTION).get_all("Project-URL") or []
    except PackageNotFoundError:
        return FALLBACK_BASE
    for entry in urls:
        label, _, url = str(entry).partition(",")
        if label.strip().casefold() == "documentation" and url.strip():
            return url.strip()
    return FALLBACK_BASE


def check_base(url: str) -> str:
    """A documentation base given by a person: an http(s) URL, returned ending in `/`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InputError(f"--docs-url {url!r}: give an http(s) URL such as https://docs.example.com/aoai-auditor/")
    return url.strip().rstrip("/") + "/"


def docs_root(base: str | None = None, version: str = __version__) -> str:
    """The documentation of this version: `<base><version>/` (the site is published per version)."""
    root = (base or declared_base()).rstrip("/") + "/"
    return f"{root}{version}/"


def rule_page(rule_id: str, base: str | None = None, version: str = __version__) -> str:
    """A built-in rule's page on the documentation site (docs/rules/<ID>.md, built with directory URLs)."""
    return f"{docs_root(base, version)}rules/{rule_id}/"
