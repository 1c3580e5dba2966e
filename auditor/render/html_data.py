"""What the HTML report shows, computed once from the Report: the overview tables (failing rules, accounts,
findings by category and severity) and the findings as one compact JSON document that the page's script
renders a page at a time. At 10,000 deployments a table of every finding as HTML is a million elements;
the same data as JSON is a tenth of the bytes and the browser only ever builds a hundred rows.

Passing checks are counted, not listed: one entry per deployment (and account) naming the rules that passed,
shared by every deployment whose checks passed alike.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from auditor.model.results import CATEGORIES, Finding, Report, Severity, Status

STATUS_ORDER = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.WAIVED: 2, Status.SKIPPED: 3, Status.PASS: 4}
MAX_LISTED = 50
"""At most this many items of an enumeration in the page (accounts called out, undated deployments, changes);
the rest are counted, and report.json has them all."""


_MARKER_PICTURES = str.maketrans({"\x01": "\u2401", "\x02": "\u2402"})
"""The HTML data's name markers, when a text holds them itself: shown as control pictures (never markers)."""


def _has_marker(name: str) -> bool:
    return "\x01" in name or "\x02" in name


def web_link(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:) is dropped."""
    return url if url and url.startswith(("https://", "http://")) else None


def relative(path: str) -> str:
    """A contract or plan path as the reader's working directory sees it, never absolute."""
    if not os.path.isabs(path):
        return path
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return Path(path).name


def script_json(value: Any) -> str:
    """JSON safe inside `<script type="application/json">`: no `<`, `>` or `&` can end the element or
    open a comment, and the line separators JavaScript once treated as newlines are escaped too."""
    text = orjson.dumps(value).decode("utf-8")
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@dataclass(frozen=True)
class RuleRow:
    """A rule that fails or is unknown somewhere, and how widely."""

    rule_id: str
    title: str
    category: str
    severity: str
    failing: int
    unknown: int
    deployments: int
    accounts: int


@dataclass(frozen=True)
class AccountRow:
    """One account's counts by severity (failing findings), unknowns, waivers, and why it is incomplete."""

    id: str
    name: str
    location: str
    status: str
    reasons: tuple[str, ...]
    error: int
    warning: int
    info: int
    unknown: int
    waived: int
    deployments: int


@dataclass(frozen=True)
class CategoryBar:
    """One category's failing findings split by severity, as widths in the chart."""

    category: str
    y: int
    segments: tuple[tuple[str, float, float, int], ...]  # (severity, x, width, count)
    total: int


@dataclass(frozen=True)
class CategoryChart:
    width: int
    height: int
    label_w: int
    plot_w: int
    bars: tuple[CategoryBar, ...]


def _order(report: Report) -> dict[str, int]:
    order = {"": -1}
    for i, t in enumerate(report.targets):
        order[t.id] = i
    return order


def failing_rules(report: Report) -> list[RuleRow]:
    """Every rule with failing or unknown findings: the severest and most widespread first."""
    stats: dict[str, list[Any]] = {}
    for f in report.not_passing:
        if f.status is not Status.FAIL and f.status is not Status.UNKNOWN:
            continue
        row = stats.get(f.rule_id)
        if row is None:
            row = stats[f.rule_id] = [f, 0, 0, set(), set()]
        row[1 if f.status is Status.FAIL else 2] += 1
        if f.deployment:
            row[3].add((f.account_id, f.deployment))
        if f.account_id:
            row[4].add(f.account_id)
    rows = [
        RuleRow(rid, f.title, f.category, f.severity.value, fails, unknown, len(deps), len(accounts))
        for rid, (f, fails, unknown, deps, accounts) in stats.items()
    ]
    rows.sort(key=lambda r: (-Severity(r.severity).rank, r.failing == 0, -r.failing, -r.unknown, r.rule_id))
    return rows


def account_rows(report: Report) -> list[AccountRow]:
    """Per account: failing findings by severity, unknowns, waived; incomplete and worst first."""
    counts: dict[str, Counter[str]] = {t.id: Counter() for t in report.targets}
    for f in report.not_passing:
        c = counts.get(f.account_id or "")
        if c is None:
            continue
        if f.status is Status.FAIL:
            c[f.severity.value] += 1
        elif f.status is Status.UNKNOWN or f.status is Status.WAIVED:
            c[f.status.value] += 1
    deployments = Counter(d.account_id for d in report.deployments)
    rows = [
        AccountRow(
            t.id,
            t.name,
            t.location,
            t.status,
            t.reasons,
            counts[t.id]["error"],
            counts[t.id]["warning"],
            counts[t.id]["info"],
            counts[t.id]["unknown"],
            counts[t.id]["waived"],
            deployments[t.id],
        )
        for t in report.targets
    ]
    rows.sort(key=lambda r: (r.status == "complete", -r.error, -r.warning, -r.unknown, -r.info, r.name.lower()))
    return rows


def category_chart(report: Report) -> CategoryChart:
    """Failing findings by category, one horizontal bar per category stacked by severity."""
    label_w, plot_w, row = 140, 560, 26
    by: dict[str, Counter[str]] = {}
    for f in report.not_passing:
        if f.status is Status.FAIL:
            by.setdefault(f.category, Counter())[f.severity.value] += 1
    present = [c for c in CATEGORIES if c in by] + sorted(set(by) - set(CATEGORIES))
    top = max((sum(by[c].values()) for c in present), default=1)
    bars = []
    for i, category in enumerate(present):
        x, segments = float(label_w), []
        for severity in ("error", "warning", "info"):
            n = by[category][severity]
            if n:
                width = round(n / top * plot_w, 1)
                segments.append((severity, round(x, 1), max(width, 1.0), n))
                x += width
        bars.append(CategoryBar(category, i * row + 4, tuple(segments), sum(by[category].values())))
    return CategoryChart(label_w + plot_w + 120, max(len(bars), 1) * row + 8, label_w, plot_w, tuple(bars))


def _finding_sort(order: dict[str, int]) -> Any:
    def key(f: Finding) -> tuple[int, int, int, str, str, str]:
        return (
            order.get(f.account_id or "", len(order)),
            -f.severity.rank,
            STATUS_ORDER[f.status],
            f.rule_id,
            f.target_name,
            f.message,
        )

    return key


def payload(report: Report) -> dict[str, Any]:
    """The findings and inventory as compact arrays for the page's script (see the template's header for the
    layout). Strings repeated across a fleet (rules, accounts, sets of passed rules) are stored once."""
    rules: dict[str, int] = {}
    rule_rows: list[list[Any]] = []
    accounts: dict[str, int] = {}
    account_rows_: list[list[Any]] = []
    for t in report.targets:
        accounts[t.id] = len(account_rows_)
        account_rows_.append([t.id, t.name, t.location, t.status, -1])

    def rule_index(f: Finding) -> int:
        index = rules.get(f.rule_id)
        if index is None:
            index = rules[f.rule_id] = len(rule_rows)
            rule_rows.append([f.rule_id, f.title, f.category, f.severity.value, f.remediation, web_link(f.docs)])
        return index

    infos = {r.id: r for r in report.rules}

    def rule_by_id(rule_id: str) -> int:
        index = rules.get(rule_id)
        if index is None:
            info = infos.get(rule_id)
            index = rules[rule_id] = len(rule_rows)
            rule_rows.append(
                [rule_id, info.title, info.category, info.severity.value, info.remediation, web_link(info.docs)]
                if info
                else [rule_id, rule_id, "", "info", "", None]
            )
        return index

    def account_index(account_id: str | None) -> int:
        if not account_id:
            return -1
        index = accounts.get(account_id)
        if index is None:  # a finding about an account that is not a target (a plan's missing account)
            index = accounts[account_id] = len(account_rows_)
            account_rows_.append([account_id, account_id.rsplit("/", 1)[-1], "", "unknown", -1])
        return index

    order = _order(report)

    def generic(value: str | None, f: Finding) -> str | None:
        """The text with its deployment's and account's names as markers (\x01, \x02), so the same message
        about ten thousand deployments is one text; the script puts the names back. A marker character the
        text itself holds is escaped first (shown as its control picture), so markers only ever mean names."""
        if not value:
            return value
        value = value.translate(_MARKER_PICTURES)
        deployment, account = f.deployment, names.get(f.account_id or "")
        if deployment and len(deployment) > 2 and not _has_marker(deployment):
            value = value.replace(deployment, "\x01")
        if account and len(account) > 2 and not _has_marker(account):
            value = value.replace(account, "\x02")
        return value

    names = {t.id: t.name for t in report.targets}
    texts = {id(f): (generic(f.message, f), generic(f.reason, f)) for f in report.not_passing}
    repeated = Counter(t for pair in texts.values() for t in pair if t and len(t) > 12)
    strings: dict[str, int] = {}

    def text(value: str | None) -> str | int | None:
        """A text that recurs (the same finding on thousands of deployments) is stored once."""
        if value is None or repeated[value] < 2:
            return value
        index = strings.get(value)
        if index is None:
            index = strings[value] = len(strings)
        return index

    findings: list[list[Any]] = []
    passed: dict[tuple[int, str | None], list[int]] = {}
    for f in sorted(report.findings, key=_finding_sort(order)):
        r, a = rule_index(f), account_index(f.account_id)
        if f.status is Status.PASS:
            passed.setdefault((a, f.deployment), []).append(r)
            continue
        evidence = None
        if f.evidence and f.evidence.get("summary"):
            e = f.evidence
            evidence = " · ".join(str(e[k]) for k in ("summary", "error_code", "message") if e.get(k))
        row = [
            f.status.value,
            r,
            a,
            f.deployment,
            None if a >= 0 and f.target_name == f"{account_rows_[a][1]}/{f.deployment}" else f.target_name,
            text(texts[id(f)][0]),
            text(texts[id(f)][1]) if f.status is not Status.FAIL else None,
            f"{relative(f.location.file)}:{f.location.line}" if f.location else None,
            f.drift,
            evidence,
            1 if f.waiver else None,
            str(f.evidence["patch"]) if f.evidence and f.evidence.get("patch") else None,
            str(f.evidence["fix_by_hand"]) if f.evidence and f.evidence.get("fix_by_hand") else None,
        ]
        while (
            len(row) > 6 and row[-1] is None
        ):  # trailing empty fields are left out (the script reads them as undefined)
            row.pop()
        findings.append(row)
    sets: dict[tuple[int, ...], int] = {}
    pass_sets: list[list[int]] = []

    def pass_set(key: tuple[int, str | None]) -> int:
        members = tuple(sorted(passed.pop(key, ())))
        if not members:
            return -1
        index = sets.get(members)
        if index is None:
            index = sets[members] = len(pass_sets)
            pass_sets.append(list(members))
        return index

    deployments = []
    for d in report.deployments:
        a = account_index(d.account_id)
        deployments.append(
            [
                a,
                d.name,
                d.model_name,
                d.model_version,
                d.sku_name,
                d.sku_capacity,
                d.provisioning_state,
                d.version_upgrade_option,
                pass_set((a, d.name)),
            ]
        )
    for a, row in enumerate(account_rows_):
        row[4] = pass_set((a, None))
    others = [[a, name, pass_set((a, name))] for (a, name) in sorted(passed, key=lambda k: (k[0], k[1] or ""))]
    counted: dict[int, list[list[int]]] = {}  # a merged compact report: passes counted per account and rule
    for p in report.pass_counts:
        counted.setdefault(account_index(p.account_id), []).append([rule_by_id(p.rule_id), p.passed])
    return {
        "statuses": [s.value for s in Status],
        "rules": rule_rows,
        "accounts": account_rows_,
        "findings": findings,
        "deployments": deployments,
        "passSets": pass_sets,
        "strings": list(strings),
        "otherPasses": others,
        "countedPasses": [[a, rows] for a, rows in sorted(counted.items())],
        "total": report.summary().findings,
        "drift": report.drift is not None,
    }


def html_context(report: Report) -> dict[str, Any]:
    """Everything the template needs besides the report itself."""
    from auditor.gating.verdict import verdict

    return {
        "verdict": verdict(report, report.fail_on),
        "failing_rules": failing_rules(report),
        "account_rows": account_rows(report),
        "category_chart": category_chart(report),
        "data_json": script_json(payload(report)),
        "max_listed": MAX_LISTED,
    }
