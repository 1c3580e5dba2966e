"""Geometry for the nightly report's trend pictures (inline SVG): bars and lines over the recorded runs.

Only layout: the numbers were read from the history store by the pipeline (Report.nightly.trends). Text is
escaped by the template."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from auditor.model.trends import ScheduledChange, Trends

WIDTH = 760
HEIGHT = 180
LEFT = 44
BOTTOM = 22
TOP = 8
PALETTE = 8
"""Series beyond the palette's colours are summed as `other`."""


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    cls: str
    title: str


@dataclass(frozen=True)
class Line:
    cls: str
    label: str
    points: str


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    plot_bottom: float
    rects: tuple[Rect, ...]
    lines: tuple[Line, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    legend: tuple[tuple[str, str], ...]
    """(css class, label) pairs."""


Column = tuple[str, Mapping[str, float]]
"""A run's label (its date) and its values per series."""


def _scale(top: float) -> float:
    """A round axis maximum at or above the largest value."""
    if top <= 0:
        return 4.0
    if top <= 20:  # counts: four whole-number steps
        return float(-(-int(top) // 4) * 4 if top == int(top) else -(-top // 4) * 4)
    step = 10 ** max(len(str(int(top))) - 1, 0)
    return float(((int(top) // step) + 1) * step)


def _y_ticks(y_max: float, plot_h: float) -> tuple[Tick, ...]:
    return tuple(Tick(LEFT - 6, round(TOP + plot_h - plot_h * i / 4, 1), f"{y_max * i / 4:g}") for i in range(0, 5))


def _x_ticks(columns: Sequence[Column], x_of: Sequence[float]) -> tuple[Tick, ...]:
    every = max(1, len(columns) // 8)
    return tuple(
        Tick(x_of[i], HEIGHT - 6, label[5:10] if len(label) >= 10 else label)
        for i, (label, _) in enumerate(columns)
        if i % every == 0 or i == len(columns) - 1
    )


def top_series(columns: Sequence[Column], limit: int = PALETTE - 1) -> list[str]:
    """The series with the largest latest values first; the rest become `other`."""
    totals: dict[str, float] = {}
    for _, values in columns[-1:] or columns:
        for name, value in values.items():
            totals[name] = totals.get(name, 0) + value
    for _, values in columns:
        for name in values:
            totals.setdefault(name, 0)
    ranked = sorted(totals, key=lambda n: (-totals[n], n))
    return ranked if len(ranked) <= limit + 1 else [*ranked[:limit], "other"]


def _folded(values: Mapping[str, float], order: Sequence[str]) -> dict[str, float]:
    if "other" not in order:
        return dict(values)
    kept = {n: v for n, v in values.items() if n in order}
    kept["other"] = sum(v for n, v in values.items() if n not in order)
    return kept


def bars(
    columns: Sequence[Column], order: Sequence[str], classes: Mapping[str, str], *, grouped: bool = False
) -> Chart:
    """One column per run: the series stacked (or side by side when `grouped`)."""
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - TOP - BOTTOM
    n = max(len(columns), 1)
    slot = plot_w / n
    folded = [(label, _folded(values, order)) for label, values in columns]
    tallest = max(
        [
            (max((v.get(s, 0) for s in order), default=0) if grouped else sum(v.get(s, 0) for s in order))
            for _, v in folded
        ]
        or [0]
    )
    y_max = _scale(tallest)
    rects: list[Rect] = []
    x_of: list[float] = []
    for i, (label, values) in enumerate(folded):
        x0 = LEFT + i * slot + slot * 0.15
        width = slot * 0.7
        x_of.append(round(x0 + width / 2, 1))
        base: float = TOP + plot_h
        for j, series in enumerate(order):
            value = values.get(series, 0)
            if value <= 0:
                continue
            h = plot_h * value / y_max
            if grouped:
                w = width / len(order)
                rects.append(
                    Rect(
                        round(x0 + j * w, 1),
                        round(base - h, 1),
                        round(w, 1),
                        round(h, 1),
                        classes.get(series, ""),
                        f"{label}: {value:g} {series}",
                    )
                )
            else:
                base -= h
                rects.append(
                    Rect(
                        round(x0, 1),
                        round(base, 1),
                        round(width, 1),
                        round(h, 1),
                        classes.get(series, ""),
                        f"{label}: {value:g} {series}",
                    )
                )
    return Chart(
        WIDTH,
        HEIGHT,
        LEFT,
        TOP + plot_h,
        tuple(rects),
        (),
        _x_ticks(columns, x_of),
        _y_ticks(y_max, plot_h),
        tuple((classes.get(s, ""), s) for s in order),
    )


def lines(columns: Sequence[Column], order: Sequence[str], classes: Mapping[str, str]) -> Chart:
    """One line per series across the runs."""
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - TOP - BOTTOM
    n = max(len(columns), 1)
    slot = plot_w / n
    folded = [(label, _folded(values, order)) for label, values in columns]
    y_max = _scale(max([v.get(s, 0) for _, v in folded for s in order] or [0]))
    x_of = [round(LEFT + i * slot + slot / 2, 1) for i in range(len(columns))]
    drawn = tuple(
        Line(
            classes.get(series, ""),
            series,
            " ".join(
                f"{x_of[i]},{round(TOP + plot_h - plot_h * values.get(series, 0) / y_max, 1)}"
                for i, (_, values) in enumerate(folded)
            ),
        )
        for series in order
    )
    return Chart(
        WIDTH,
        HEIGHT,
        LEFT,
        TOP + plot_h,
        (),
        drawn,
        _x_ticks(columns, x_of),
        _y_ticks(y_max, plot_h),
        tuple((classes.get(s, ""), s) for s in order),
    )


def palette(order: Sequence[str]) -> dict[str, str]:
    return {name: f"p{i % PALETTE}" for i, name in enumerate(order)}


SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Picture:
    """One trend picture and the same numbers as a table (for screen readers and for copying)."""

    id: str
    title: str
    chart: Chart
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _table(columns: Sequence[Column], order: Sequence[str]) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    rows = tuple(
        (label[:16].replace("T", " "), *(f"{_folded(values, order).get(s, 0):g}" for s in order))
        for label, values in columns
    )
    return ("run", *order), rows


def _picture(id_: str, title: str, columns: Sequence[Column], order: Sequence[str], chart: Chart) -> Picture:
    headers, rows = _table(columns, order)
    return Picture(id_, title, chart, headers, rows)


def nightly_pictures(trends: Trends | None) -> tuple[Picture, ...]:
    """The trend pictures of a history, oldest run first; none without one."""
    if trends is None or not trends.runs:
        return ()
    runs = trends.runs
    severity: list[Column] = [(r.at, {k: float(v) for k, v in r.failing_by_severity.items()}) for r in runs]
    category: list[Column] = [(r.at, {k: float(v) for k, v in r.failing_by_category.items()}) for r in runs]
    churn: list[Column] = [(r.at, {"new": float(r.new or 0), "fixed": float(r.resolved or 0)}) for r in runs]
    models: list[Column] = [(r.at, {k: float(v) for k, v in r.deployments_by_model.items()}) for r in runs]
    kinds: list[Column] = [(r.at, {k: float(v) for k, v in r.deployments_by_family.items()}) for r in runs]
    quota: list[Column] = [(r.at, {"highest use %": r.quota_max_percent or 0.0}) for r in runs]
    categories = top_series(category)
    versions = top_series(models)
    families = top_series(kinds)
    sev_classes = {s: f"sev-{s}" for s in SEVERITIES}
    churn_order = ("new", "fixed")
    return (
        _picture(
            "trend-severity",
            "Failing findings by severity",
            severity,
            SEVERITIES,
            bars(severity, SEVERITIES, sev_classes),
        ),
        _picture(
            "trend-category",
            "Failing findings by category",
            category,
            categories,
            lines(category, categories, palette(categories)),
        ),
        _picture(
            "trend-churn",
            "New and fixed failing findings per run",
            churn,
            churn_order,
            bars(churn, churn_order, {"new": "p1", "fixed": "p2"}, grouped=True),
        ),
        _picture(
            "trend-families",
            "Deployments by model family",
            kinds,
            families,
            bars(kinds, families, palette(families)),
        ),
        _picture(
            "trend-models",
            "Deployments by model version",
            models,
            versions,
            bars(models, versions, palette(versions)),
        ),
        _picture(
            "trend-quota",
            "Quota pressure: the most used quota line",
            quota,
            ("highest use %",),
            lines(quota, ("highest use %",), {"highest use %": "p3"}),
        ),
    )


CHANGE_KINDS = ("retires", "auto-upgrade")


def scheduled_months(changes: Sequence[ScheduledChange], today: date) -> Picture | None:
    """Azure's scheduled changes over the next 12 months: per month, how many deployments retire and how many Azure
    upgrades, so the busy months stand out."""
    if not changes:
        return None
    months = []
    year, month = today.year, today.month
    for _ in range(12):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    counts: dict[str, dict[str, float]] = {m: {} for m in months}
    for change in changes:
        bucket = counts.get(change.date[:7])
        if bucket is not None:
            bucket[change.kind] = bucket.get(change.kind, 0) + 1
    columns: list[Column] = [(m, counts[m]) for m in months]
    classes = {"retires": "sev-error", "auto-upgrade": "p0"}
    return _picture(
        "scheduled-months", "Scheduled changes per month", columns, CHANGE_KINDS, bars(columns, CHANGE_KINDS, classes)
    )
