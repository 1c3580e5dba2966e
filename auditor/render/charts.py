"""Geometry for the HTML report's inline SVG pictures: where bars and markers go.

Only layout: the numbers (utilisation, days to retirement) were computed before rendering and sit in the
report (Report.quota, Report.retirements). Text is escaped by the template, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from auditor.model.results import QuotaLine, RetirementRow
from auditor.util.textcap import join_capped

ROW = 28
LABEL_W = 300
PLOT_W = 400
WIDTH = LABEL_W + PLOT_W + 290
TOP = 24  # room above the timeline for the "today" label


def _level(percent: float) -> str:
    return "high" if percent >= 90 else "mid" if percent >= 70 else "low"


@dataclass(frozen=True)
class Bar:
    y: int
    width: float
    level: str
    label: str
    detail: str
    title: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_w: int
    plot_w: int
    bars: tuple[Bar, ...]


def quota_chart(lines: Sequence[QuotaLine]) -> BarChart:
    """One horizontal bar per quota line: the share of the limit in use, capped at the track's end."""
    bars = []
    for i, q in enumerate(lines):
        models = join_capped(q.models, 3) or q.name
        bars.append(
            Bar(
                y=i * ROW + 6,
                width=round(min(max(q.percent, 0.0), 100.0) / 100 * PLOT_W, 1),
                level=_level(q.percent),
                label=f"{q.location} · {models}",
                detail=f"{q.current:g} / {q.limit:g} ({q.percent:g}%)",
                title=f"{q.label} ({q.name}) in {q.location}: {q.current:g} of {q.limit:g} used by "
                f"{join_capped(q.deployments) or 'no audited deployment'}",
            )
        )
    return BarChart(WIDTH, max(len(bars), 1) * ROW + 8, LABEL_W, PLOT_W, tuple(bars))


@dataclass(frozen=True)
class Marker:
    y: int
    x: float
    level: str
    label: str
    detail: str
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    label_w: int
    plot_w: int
    today_x: float
    top: int
    axis_y: int
    ticks: tuple[Tick, ...]
    markers: tuple[Marker, ...]
    undated: tuple[RetirementRow, ...]


def _retire_level(days: int) -> str:
    return "retired" if days < 0 else "high" if days <= 30 else "mid" if days <= 90 else "low"


MAX_NAMED = 10


def _marker(y: int, x: float, same: Sequence[RetirementRow]) -> Marker:
    """One dated model version: named after its deployment, or counted when it runs in several."""
    r, days = same[0], same[0].days_left or 0
    where = [f"{s.account_name}/{s.deployment}" for s in same]
    named = ", ".join(where[:MAX_NAMED]) + (f" and {len(where) - MAX_NAMED} more" if len(where) > MAX_NAMED else "")
    sources = sorted({s.source or "unknown" for s in same})
    upgrades = sorted({s.version_upgrade_option or "unknown" for s in same})
    return Marker(
        y=y,
        x=x,
        level=_retire_level(days),
        label=where[0]
        if len(same) == 1
        else f"{r.model_name or '?'} {r.model_version or ''} ({len(same)} deployments)",
        detail=f"{r.model_name or '?'} {r.model_version or ''} · {r.retirement_date} "
        f"({'retired' if days < 0 else f'in {r.days_left} d'})",
        title=f"{r.model_name} {r.model_version} on {named} retires {r.retirement_date} "
        f"(source: {', '.join(sources)}; upgrade: {', '.join(upgrades)}; replacement: {r.replacement or 'none given'})",
    )


def retirement_timeline(rows: Sequence[RetirementRow], today: date) -> Timeline:
    """Deployed versions placed by retirement date, with today marked; quarter ticks on the axis.
    Deployments of the same model version share a marker, so 10,000 deployments make a readable picture."""
    dated = [r for r in rows if r.days_left is not None and r.retirement_date]
    undated = tuple(r for r in rows if r.days_left is None or not r.retirement_date)
    lo = min([0] + [r.days_left for r in dated if r.days_left is not None]) - 15
    hi = max([90] + [r.days_left for r in dated if r.days_left is not None]) + 15
    span = hi - lo

    def x(days: float) -> float:
        return round(LABEL_W + (days - lo) / span * PLOT_W, 1)

    groups: dict[tuple[str | None, str | None, str | None], list[RetirementRow]] = {}
    for r in dated:  # a fleet runs one model version in many places: one marker per version and date
        groups.setdefault((r.model_name, r.model_version, r.retirement_date), []).append(r)
    markers = tuple(
        _marker(TOP + i * ROW + 14, x(same[0].days_left or 0), same) for i, same in enumerate(groups.values())
    )
    axis_y = TOP + len(markers) * ROW + 24
    ticks = []
    first = date(today.year, ((today.month - 1) // 3) * 3 + 1, 1)
    month = first
    start, end = today + timedelta(days=lo), today + timedelta(days=hi)
    while month > start:
        month = date(month.year - (month.month <= 3), (month.month - 4) % 12 + 1, 1)
    while month <= end:
        if month >= start:
            ticks.append(Tick(x((month - today).days), month.strftime("%Y-%m")))
        month = date(month.year + (month.month >= 10), (month.month + 2) % 12 + 1, 1)
    if len(ticks) > 10:  # a long span: label every other year quarter
        ticks = [t for t in ticks if t.label.endswith("-01")] or ticks[::4]
    return Timeline(WIDTH, axis_y + 24, LABEL_W, PLOT_W, x(0), TOP, axis_y, tuple(ticks), markers, undated)
