"""HTML and JUnit reports from the Jinja templates under `reports/`."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from typing import Any, BinaryIO, NamedTuple

import jinja2
from markupsafe import Markup, escape

from auditor.model.results import CATEGORIES, Finding, Report, Severity, Status, TargetResult
from auditor.render.charts import quota_chart, retirement_timeline
from auditor.render.html_data import html_context
from auditor.render.stream import text_of, write_chunks
from auditor.render.trend_charts import nightly_pictures, scheduled_months
from auditor.util.resources import data_dir

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
    env.filters["num"] = lambda n: f"{n:,}" if isinstance(n, int) else n
    return env


def _context(report: Report) -> dict[str, Any]:
    present = {f.category for f in report.findings}
    context = html_context(report)
    context["data_json"] = Markup(context["data_json"])  # script_json made it safe inside <script>
    return {
        "report": report,
        "summary": report.summary(),
        "categories": [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES)),
        "quota_chart": quota_chart(report.quota),
        "timeline": retirement_timeline(report.retirements, report.generated_at.date()),
        "trend_pictures": nightly_pictures(report.nightly.trends if report.nightly else None),
        "scheduled_months": scheduled_months(
            report.nightly.scheduled if report.nightly else (), report.generated_at.date()
        ),
        "Status": Status,
        "Severity": Severity,
        **context,
    }


class Case(NamedTuple):
    """One test case's texts, dropped of what XML cannot carry and escaped once here: the template writes them
    with autoescape off (every escape there is a call, and a fleet lists tens of thousands of cases). Texts a
    status does not show are left empty."""

    label: Markup
    """`[SEVERITY][RULE-ID] title :: `, cached per rule; the target's name follows (Cases.suffix)."""
    status: Status
    message: Markup
    note: Markup
    """The `message` attribute of an error or skipped element."""
    severity: str
    remediation: Markup
    docs: Markup | None
    source: Markup | None
    """`file:line` of the call or plan entry the finding is about."""
    new: bool
    """New since the baseline."""


@dataclass(frozen=True)
class Cases:
    """The test cases of one target, with its names escaped once for all of them."""

    classname: Markup
    suffix: Markup
    findings: list[Case]


@dataclass(frozen=True)
class Suite:
    """One JUnit test suite: an account (or the tenant-wide findings) with its counts."""

    name: str
    account_id: str
    target: TargetResult | None
    tests: int
    failures: int
    errors: int
    skipped: int
    cases: list[Cases]
    passed_counted: int = 0
    """Passing checks counted, not listed (`--passes summary`): one summary test case stands for them."""


@lru_cache(maxsize=4096)
def _case_label(severity: Severity, rule_id: str, title: str) -> Markup:
    """`[SEVERITY][RULE-ID] title :: `, the start of a test case's name: the same for every target."""
    return escape(xml_safe(f"[{severity.value.upper()}][{rule_id}] {title} :: "))


def _escaped(value: str | None) -> Markup:
    return escape(xml_safe(value))


_shared = lru_cache(maxsize=4096)(_escaped)
"""Remediation and docs texts recur across a rule's findings: escaped once each."""
_NOTHING = Markup()


def _case(f: Finding) -> Case:
    label, status = _case_label(f.severity, f.rule_id, f.title), f.status
    if status is Status.PASS:
        return Case(label, status, _NOTHING, _NOTHING, "", _NOTHING, None, None, False)
    if status is Status.FAIL:
        location = f.location
        return Case(
            label,
            status,
            _escaped(f.message),
            _NOTHING,
            f.severity.value,
            _shared(f.remediation),
            None if not f.docs else _shared(f.docs),
            None if location is None else Markup(f"{_escaped(location.file)}:{location.line}"),
            f.drift == "new",
        )
    if status is Status.UNKNOWN:
        note = f.reason or f.message
    elif status is Status.WAIVED:
        note = f.reason or "waived"
    else:
        note = "skipped: " + (f.reason or f.message)
    return Case(label, status, _escaped(f.message), _escaped(note), "", _NOTHING, None, None, False)


def _suites(report: Report) -> list[Suite]:
    compact = report.counts_passes
    uncounted: Counter[str] = Counter()
    if compact:
        for p in report.compact_form.counted:
            uncounted[p.account_id or ""] += p.passed
    targets = {t.id: t for t in report.targets}
    by_account: dict[str, list[Finding]] = {}
    for finding in report.compact_form.listed if compact else report.findings:
        by_account.setdefault(finding.account_id or "", []).append(finding)
    for account_id in uncounted:
        by_account.setdefault(account_id, [])
    suites = []
    for account_id, findings in by_account.items():
        target = targets.get(account_id) if account_id else None
        prefix = (target.name if target else "tenant") + "."
        cases: list[Cases] = []
        for (_, name, deployment), group in groupby(findings, key=lambda f: (f.target, f.target_name, f.deployment)):
            cases.append(
                Cases(
                    escape(xml_safe(prefix + (deployment or "account"))),
                    escape(xml_safe(name)),
                    [_case(f) for f in group],
                )
            )
        statuses = Counter(f.status for f in findings)
        suites.append(
            Suite(
                name=target.name if target else "tenant-wide",
                account_id=account_id,
                target=target,
                tests=len(findings) + (1 if uncounted[account_id] else 0),
                failures=statuses[Status.FAIL],
                errors=statuses[Status.UNKNOWN],
                skipped=statuses[Status.SKIPPED] + statuses[Status.WAIVED],
                cases=cases,
                passed_counted=uncounted[account_id],
            )
        )
    return suites


def write_junit(report: Report, out: BinaryIO) -> None:
    template = environment().get_template("junit.xml.j2")
    suites = _suites(report)
    tests = sum(s.tests for s in suites)
    write_chunks(template.generate(report=report, summary=report.summary(), suites=suites, tests=tests), out)


def write_html(report: Report, out: BinaryIO) -> None:
    write_chunks(environment().get_template("report.html.j2").generate(**_context(report)), out)


def render_html(report: Report) -> str:
    return text_of(write_html, report)


def render_junit(report: Report) -> str:
    return text_of(write_junit, report)
