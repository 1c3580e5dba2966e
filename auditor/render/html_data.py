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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from auditor.gating.waivers import waiver_snippet
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


COLUMNS: dict[str, tuple[str, ...]] = {
    "rules": ("id", "title", "category", "severity", "remediation", "docs", "rationale"),
    "accounts": ("id", "name", "location", "status", "passSet"),
    "findings": (
        "status", "rule", "account", "deployment", "target", "message", "reason", "location", "drift", "evidence",
        "waived", "patch", "byHand", "fix",
    ),
    "deployments": ("account", "name", "model", "version", "sku", "capacity", "state", "upgrade", "passSet"),
    "otherPasses": ("account", "target", "passSet"),
    "countedPasses": ("account", "counts"),
}  # fmt: skip
"""The named fields of each table's rows, in the order the rows hold them: the payload carries this
declaration (`columns`) and the page's script reads every field by its name through it. Rows stay arrays so
that a fleet's findings stay a tenth of the bytes of objects."""
_KEPT = COLUMNS["findings"].index("message") + 1
"""A finding row keeps its fields up to the message; empty fields after it are left out (undefined)."""


def _row(table: str, **values: Any) -> list[Any]:
    """One row of `table`, its fields placed by name."""
    return [values.get(name) for name in COLUMNS[table]]


class _Tables:
    """The payload's lookup tables (rules, accounts, texts, pass sets), each entry stored once."""

    def __init__(self, report: Report) -> None:
        self.rules: dict[str, int] = {}
        self.rule_rows: list[list[Any]] = []
        self.accounts: dict[str, int] = {}
        self.account_rows: list[list[Any]] = []
        self.infos = {r.id: r for r in report.rules}
        for t in report.targets:
            self.accounts[t.id] = len(self.account_rows)
            self.account_rows.append(_row("accounts", id=t.id, name=t.name, location=t.location, status=t.status))
        self.sets: dict[tuple[int, ...], int] = {}
        self.pass_sets: list[list[int]] = []
        self.remedies: dict[str, int] = {}

    def remedy(self, f: Finding, rule: int) -> int | None:
        """The finding's own fix where it is not its rule's (one rule, many fixes: each deployment's replacement
        or parameter), as an index into `remedies`: each distinct text is stored once."""
        if not f.remediation or f.remediation == self.rule_rows[rule][COLUMNS["rules"].index("remediation")]:
            return None
        return self.remedies.setdefault(f.remediation, len(self.remedies))

    def rule(self, rule_id: str, finding: Finding | None = None) -> int:
        index = self.rules.get(rule_id)
        if index is not None:
            return index
        index = self.rules[rule_id] = len(self.rule_rows)
        source: Any = finding or self.infos.get(rule_id)
        if source is None:
            self.rule_rows.append(
                _row("rules", id=rule_id, title=rule_id, category="", severity="info", remediation="")
            )
        else:
            self.rule_rows.append(
                _row(
                    "rules",
                    id=rule_id,
                    title=source.title,
                    category=source.category,
                    severity=source.severity.value,
                    remediation=source.remediation,
                    docs=web_link(source.docs),
                    rationale=self.why(rule_id),
                )
            )
        return index

    def why(self, rule_id: str) -> str | None:
        """The rule's rationale, for its page inline in the drill-down (None when it has only a title)."""
        info = self.infos.get(rule_id)
        return info.description if info and info.description != info.title else None

    def account(self, account_id: str | None) -> int:
        if not account_id:
            return -1
        index = self.accounts.get(account_id)
        if index is None:  # a finding about an account that is not a target (a plan's missing account)
            index = self.accounts[account_id] = len(self.account_rows)
            self.account_rows.append(
                _row("accounts", id=account_id, name=account_id.rsplit("/", 1)[-1], location="", status="unknown")
            )
        return index

    def pass_set(self, passed: dict[tuple[int, str | None], list[int]], key: tuple[int, str | None]) -> int:
        members = tuple(sorted(passed.pop(key, ())))
        if not members:
            return -1
        index = self.sets.get(members)
        if index is None:
            index = self.sets[members] = len(self.pass_sets)
            self.pass_sets.append(list(members))
        return index


def _generic(value: str | None, f: Finding, names: Mapping[str, str]) -> str | None:
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


class _Texts:
    """Finding texts with names as markers; a text that recurs (the same finding on thousands of deployments)
    is stored once, in `strings`, and given by its index."""

    def __init__(self, report: Report) -> None:
        names = {t.id: t.name for t in report.targets}
        self.texts = {id(f): (_generic(f.message, f, names), _generic(f.reason, f, names)) for f in report.not_passing}
        self.repeated = Counter(t for pair in self.texts.values() for t in pair if t and len(t) > 12)
        self.strings: dict[str, int] = {}

    def text(self, value: str | None) -> str | int | None:
        if value is None or self.repeated[value] < 2:
            return value
        index = self.strings.get(value)
        if index is None:
            index = self.strings[value] = len(self.strings)
        return index

    def of(self, f: Finding) -> tuple[str | int | None, str | int | None]:
        message, reason = self.texts[id(f)]
        return self.text(message), self.text(reason) if f.status is not Status.FAIL else None


def _evidence(f: Finding) -> tuple[str | None, str | None, str | None]:
    """What the page shows of a finding's evidence: the observation, the fix's patch, the fix by hand."""
    e = f.evidence or {}
    observed = (
        " · ".join(str(e[k]) for k in ("summary", "error_code", "message") if e.get(k)) if e.get("summary") else None
    )
    return (
        observed,
        str(e["patch"]) if e.get("patch") else None,
        str(e["fix_by_hand"]) if e.get("fix_by_hand") else None,
    )


def _finding_row(f: Finding, rule: int, account: int, tables: _Tables, texts: _Texts) -> list[Any]:
    message, reason = texts.of(f)
    observed, patch, by_hand = _evidence(f)
    own_name = account >= 0 and f.target_name == f"{tables.account_rows[account][1]}/{f.deployment}"
    row = _row(
        "findings",
        status=f.status.value,
        rule=rule,
        account=account,
        deployment=f.deployment,
        target=None if own_name else f.target_name,
        message=message,
        reason=reason,
        location=f"{relative(f.location.file)}:{f.location.line}" if f.location else None,
        drift=f.drift,
        evidence=observed,
        waived=1 if f.waiver else None,
        patch=patch,
        byHand=by_hand,
        fix=tables.remedy(f, rule),
    )
    while len(row) > _KEPT and row[-1] is None:  # trailing empty fields are left out (the script reads undefined)
        row.pop()
    return row


def payload(report: Report) -> dict[str, Any]:
    """The findings and inventory as compact arrays for the page's script (see the template's header for the
    layout; `columns` names each row's fields). Strings repeated across a fleet (rules, accounts, sets of
    passed rules) are stored once."""
    tables, texts = _Tables(report), _Texts(report)
    findings: list[list[Any]] = []
    passed: dict[tuple[int, str | None], list[int]] = {}
    for f in sorted(report.findings, key=_finding_sort(_order(report))):
        r, a = tables.rule(f.rule_id, f), tables.account(f.account_id)
        if f.status is Status.PASS:
            passed.setdefault((a, f.deployment), []).append(r)
        else:
            findings.append(_finding_row(f, r, a, tables, texts))
    deployments = []
    for d in report.deployments:
        a = tables.account(d.account_id)
        deployments.append(
            _row(
                "deployments",
                account=a,
                name=d.name,
                model=d.model_name,
                version=d.model_version,
                sku=d.sku_name,
                capacity=d.sku_capacity,
                state=d.provisioning_state,
                upgrade=d.version_upgrade_option,
                passSet=tables.pass_set(passed, (a, d.name)),
            )
        )
    own = COLUMNS["accounts"].index("passSet")
    for a, row in enumerate(tables.account_rows):
        row[own] = tables.pass_set(passed, (a, None))
    others = [
        _row("otherPasses", account=a, target=name, passSet=tables.pass_set(passed, (a, name)))
        for (a, name) in sorted(passed, key=lambda k: (k[0], k[1] or ""))
    ]
    counted: dict[int, list[list[int]]] = {}  # a merged compact report: passes counted per account and rule
    for p in report.pass_counts:
        counted.setdefault(tables.account(p.account_id), []).append([tables.rule(p.rule_id), p.passed])
    return {
        "columns": {table: list(names) for table, names in COLUMNS.items()},
        "statuses": [s.value for s in Status],
        "rules": tables.rule_rows,
        "accounts": tables.account_rows,
        "findings": findings,
        "deployments": deployments,
        "passSets": tables.pass_sets,
        "strings": list(texts.strings),
        "remedies": list(tables.remedies),
        "otherPasses": others,
        "countedPasses": [_row("countedPasses", account=a, counts=rows) for a, rows in sorted(counted.items())],
        "total": report.summary().findings,
        "drift": report.drift is not None,
        "waiver": waiver_snippet("{rule}", "{target}"),  # the drill-down's "how to waive", per failing rule
    }


SPARK_WIDTH, SPARK_HEIGHT = 84, 18


def _sparkline(daily: Sequence[float]) -> str:
    """The points of an inline SVG polyline for a series of daily counts (empty for fewer than two days)."""
    if len(daily) < 2:
        return ""
    top = max(daily) or 1.0
    step = SPARK_WIDTH / (len(daily) - 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 1 - (SPARK_HEIGHT - 2) * v / top:.1f}" for i, v in enumerate(daily)
    )


def who_calls(report: Report) -> list[dict[str, Any]]:
    """Per deployment with traffic, its operations: volume, streaming, error shares and a daily sparkline."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in report.traffic:
        groups.setdefault((row.account_name, row.deployment), []).append(
            {
                "operation": row.operation,
                "api": row.api,
                "requests": row.requests,
                "streaming": row.streaming_percent,
                "client_errors": row.client_error_percent,
                "throttled": row.throttled_percent,
                "server_errors": row.server_error_percent,
                "versions": ", ".join(row.model_versions),
                "api_versions": ", ".join(row.api_versions) if row.api_versions is not None else None,
                "spark": _sparkline(row.daily),
                "days": row.days,
            }
        )
    return [
        {"account": account, "deployment": deployment, "operations": rows, "requests": sum(r["requests"] for r in rows)}
        for (account, deployment), rows in sorted(
            groups.items(), key=lambda item: (item[0][0].lower(), item[0][1].lower())
        )
    ]


def html_context(report: Report) -> dict[str, Any]:
    """Everything the template needs besides the report itself."""
    from auditor.engine.observed import observed_breaking
    from auditor.gating.verdict import verdict

    return {
        "who_calls": who_calls(report),
        "observed_breaking": observed_breaking(report),
        "spark": {"width": SPARK_WIDTH, "height": SPARK_HEIGHT},
        "verdict": verdict(report, report.fail_on),
        "failing_rules": failing_rules(report),
        "account_rows": account_rows(report),
        "category_chart": category_chart(report),
        "data_json": script_json(payload(report)),
        "max_listed": MAX_LISTED,
    }
