"""HTML and JUnit reports from the Jinja templates under `reports/`."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import groupby
from typing import Any, BinaryIO

import jinja2
from markupsafe import Markup, escape

from auditor.render.charts import quota_chart, retirement_timeline
from auditor.render.stream import text_of, write_chunks
from auditor.resources import data_dir
from auditor.results import CATEGORIES, Finding, Report, Severity, Status, TargetResult

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
    env.filters["case_label"] = case_label
    return env


class Fragments:
    """Renders a template macro once per distinct argument list and repeats its output: at fleet scale
    the same rule cells, fix notes and collapsed pass rows recur tens of thousands of times. The macro
    sees nothing but its arguments, so the arguments are a complete key."""

    def __init__(self) -> None:
        self._done: dict[tuple[Any, ...], Markup] = {}

    def __call__(self, macro: Any, *arguments: Any) -> Markup:
        key = (macro.name, *arguments)
        done = self._done.get(key)
        if done is None:
            done = self._done[key] = Markup(macro(*arguments))
        return done


@dataclass(frozen=True)
class Group:
    """Findings about one thing: an account itself, or one of its deployments."""

    title: str
    deployment: str | None
    findings: tuple[Finding, ...]
    """What needs a reader's attention or a record: everything but passes."""
    passed: tuple[Finding, ...] = ()
    """Passing checks, shown as one collapsed row per category: a fleet has a hundred thousand of them."""

    @property
    def passed_rows(self) -> tuple[tuple[str, str | None, int, str], ...]:
        """(category, account id, how many passed, their rule ids) for the collapsed rows: hashable, so
        deployments whose checks passed alike share one rendering."""
        by_category: dict[str, list[Finding]] = {}
        for f in self.passed:
            by_category.setdefault(f.category, []).append(f)
        return tuple(
            (c, fs[0].account_id, len(fs), ", ".join(f.rule_id for f in fs)) for c, fs in sorted(by_category.items())
        )


@dataclass(frozen=True)
class Section:
    """One account (or the tenant-wide findings) with its findings grouped by deployment."""

    account_id: str
    target: TargetResult | None
    groups: tuple[Group, ...]
    deployments: tuple[Any, ...] = ()
    """The account's inventory rows."""


def _sections(report: Report) -> list[Section]:
    by_account: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_account.setdefault(finding.account_id or "", []).append(finding)
    targets = {t.id: t for t in report.targets}
    inventory: dict[str, list[Any]] = {}
    for row in report.deployments:
        inventory.setdefault(row.account_id, []).append(row)
    for t in report.targets:  # an account with no findings still gets its section
        by_account.setdefault(t.id, [])
    sections = []
    for account_id, findings in by_account.items():
        target = targets.get(account_id)
        groups: dict[str | None, list[Finding]] = {}
        for f in findings:
            groups.setdefault(f.deployment if target else None, []).append(f)
        ordered = sorted(groups.items(), key=lambda kv: (kv[0] is not None, (kv[0] or "").lower()))
        sections.append(
            Section(
                account_id,
                target,
                deployments=tuple(inventory.get(account_id, ())),
                groups=tuple(
                    Group(
                        ("deployment " + name) if name else ("the account" if target else "tenant-wide"),
                        name,
                        tuple(f for f in fs if f.status is not Status.PASS),
                        tuple(f for f in fs if f.status is Status.PASS),
                    )
                    for name, fs in ordered
                ),
            )
        )
    return sections


def _context(report: Report) -> dict[str, Any]:
    present = {f.category for f in report.findings}
    return {
        "report": report,
        "summary": report.summary(),
        "sections": _sections(report),
        "categories": [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES)),
        "quota_chart": quota_chart(report.quota),
        "timeline": retirement_timeline(report.retirements, report.generated_at.date()),
        "Status": Status,
        "Severity": Severity,
        "once": Fragments(),
    }


@dataclass(frozen=True)
class Cases:
    """The test cases of one target, with its names escaped once for all of them."""

    classname: Markup
    suffix: Markup
    findings: list[Finding]


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


@lru_cache(maxsize=4096)
def _case_label(severity: Severity, rule_id: str, title: str) -> Markup:
    return escape(xml_safe(f"[{severity.value.upper()}][{rule_id}] {title} :: "))


def case_label(f: Finding) -> Markup:
    """`[SEVERITY][RULE-ID] title :: `, the start of a test case's name: the same for every target."""
    return _case_label(f.severity, f.rule_id, f.title)


def _suites(report: Report) -> list[Suite]:
    targets = {t.id: t for t in report.targets}
    by_account: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_account.setdefault(finding.account_id or "", []).append(finding)
    suites = []
    for account_id, findings in by_account.items():
        target = targets.get(account_id) if account_id else None
        prefix = (target.name if target else "tenant") + "."
        cases: list[Cases] = []
        for (_, name, deployment), group in groupby(findings, key=lambda f: (f.target, f.target_name, f.deployment)):
            cases.append(
                Cases(escape(xml_safe(prefix + (deployment or "account"))), escape(xml_safe(name)), list(group))
            )
        statuses = Counter(f.status for f in findings)
        suites.append(
            Suite(
                name=target.name if target else "tenant-wide",
                account_id=account_id,
                target=target,
                tests=len(findings),
                failures=statuses[Status.FAIL],
                errors=statuses[Status.UNKNOWN],
                skipped=statuses[Status.SKIPPED] + statuses[Status.WAIVED],
                cases=cases,
            )
        )
    return suites


def write_junit(report: Report, out: BinaryIO) -> None:
    template = environment().get_template("junit.xml.j2")
    write_chunks(template.generate(report=report, summary=report.summary(), suites=_suites(report)), out)


def write_html(report: Report, out: BinaryIO) -> None:
    write_chunks(environment().get_template("report.html.j2").generate(**_context(report)), out)


def render_html(report: Report) -> str:
    return text_of(write_html, report)


def render_junit(report: Report) -> str:
    return text_of(write_junit, report)
