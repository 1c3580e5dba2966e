"""Renderers: each turns a finished Report into one file. They only render; they compute nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

from auditor.errors import InputError
from auditor.render.json_report import render_json
from auditor.render.templates import render_html, render_junit
from auditor.results import Report

Renderer = Callable[[Report], str]

FORMATS: Mapping[str, tuple[str, Renderer]] = {
    "html": ("report.html", render_html),
    "junit": ("junit.xml", render_junit),
    "json": ("report.json", render_json),
}


def parse_formats(value: str) -> tuple[str, ...]:
    """`html,json` -> ('html', 'json'); an unknown name is an InputError naming it."""
    names = tuple(dict.fromkeys(n.strip().lower() for n in value.split(",") if n.strip()))
    if not names:
        raise InputError("--format needs at least one of: " + ", ".join(FORMATS))
    for name in names:
        if name not in FORMATS:
            raise InputError(f"unknown --format value {name!r}: choose from {', '.join(FORMATS)}")
    return names


def write_reports(report: Report, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    """Render every format first, then write them, so a failure never leaves a half-written set."""
    rendered = [(FORMATS[name][0], FORMATS[name][1](report)) for name in formats]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for filename, text in rendered:
        path = out_dir / filename
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
