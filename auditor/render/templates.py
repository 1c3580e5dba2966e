"""HTML and JUnit reports from the Jinja templates under `reports/`."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2

from auditor.resources import data_dir
from auditor.results import Report, Severity, Status

_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(value: Any) -> str:
    """Drop characters XML 1.0 cannot carry; names and messages are untrusted input."""
    return _XML_FORBIDDEN.sub("", "" if value is None else str(value))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("reports"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["xml_safe"] = xml_safe
    return env


def _context(report: Report) -> dict[str, Any]:
    by_account: dict[str, list[Any]] = {}
    for finding in report.findings:
        by_account.setdefault(finding.account_id or "", []).append(finding)
    return {
        "report": report,
        "summary": report.summary(),
        "findings_by_account": by_account,
        "Status": Status,
        "Severity": Severity,
    }


def render_html(report: Report) -> str:
    return environment().get_template("report.html.j2").render(**_context(report))


def render_junit(report: Report) -> str:
    return environment().get_template("junit.xml.j2").render(**_context(report))
