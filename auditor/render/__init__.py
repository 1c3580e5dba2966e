"""Renderers: each turns a finished Report into one file. They only render; they compute nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

from auditor.errors import InputError
from auditor.render.json_report import render_json
from auditor.render.markdown import render_markdown
from auditor.render.sarif import render_sarif
from auditor.render.templates import render_html, render_junit
from auditor.results import Report

Renderer = Callable[[Report], str]

FORMATS: Mapping[str, tuple[str, Renderer]] = {
    "html": ("report.html", render_html),
    "junit": ("junit.xml", render_junit),
    "json": ("report.json", render_json),
    "sarif": ("report.sarif", render_sarif),
    "markdown": ("summary.md", render_markdown),
}
DEFAULT_FORMATS = "html,junit,json,sarif,markdown"


def parse_formats(value: str) -> tuple[str, ...]:
    """`html,json` -> ('html', 'json'); `all` is every format; an unknown name is an InputError naming it."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in value.split(",") if n.strip()))
    if names == ("all",):
        return tuple(FORMATS)
    if not names:
        raise InputError("--format needs at least one of: " + ", ".join(FORMATS))
    for name in names:
        if name not in FORMATS:
            raise InputError(f"unknown --format value {name!r}: choose from {', '.join(FORMATS)} (or all)")
    return names


def write_reports(report: Report, out_dir: Path, formats: tuple[str, ...], *, root: Path | None = None) -> list[Path]:
    """Render every format first, then write them, so a failure never leaves a half-written set.
    `root` (absolute; the working directory by default) is what SARIF file locations are relative to."""
    root = root or Path.cwd()
    rendered = [
        (FORMATS[name][0], render_sarif(report, root) if name == "sarif" else FORMATS[name][1](report))
        for name in formats
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for filename, text in rendered:
        path = out_dir / filename
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
