"""Renderers: each turns a finished Report into one file. They only render; they compute nothing."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO, cast

from auditor.errors import InputError
from auditor.gcpause import paused_gc
from auditor.redact import RedactingWriter
from auditor.render.json_report import write_json
from auditor.render.markdown import write_markdown
from auditor.render.sarif import write_sarif
from auditor.render.templates import write_html, write_junit
from auditor.results import Report

Writer = Callable[[Report, BinaryIO], None]

FORMATS: Mapping[str, tuple[str, Writer]] = {
    "html": ("report.html", write_html),
    "junit": ("junit.xml", write_junit),
    "json": ("report.json", write_json),
    "sarif": ("report.sarif", lambda report, out: write_sarif(report, None, out)),
    "markdown": ("summary.md", write_markdown),
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


def check_out_dir(out_dir: Path) -> None:
    """Before any Azure call: `--out` must be a directory we can create and write in (a file, a path
    through a file or a read-only directory would otherwise be found only after the whole audit)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: exists and is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out_dir, prefix=".audit-write-check.", suffix=".partial")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"--out {out_dir}: cannot write reports there ({exc.strerror or exc})") from None


def write_reports(report: Report, out_dir: Path, formats: tuple[str, ...], *, root: Path | None = None) -> list[Path]:
    """Write each format as it renders into a hidden partial file, and move them all into place only
    once every one is complete, so a failure never leaves a half-written or mixed set.

    Partial files get unique names, created exclusively (O_EXCL, never through a planted link), so two
    runs into one directory do not collide; every byte passes the redacting writer (no registered secret
    reaches a file). `root` (absolute; the working directory by default) is what SARIF file locations are
    relative to."""
    root = root or Path.cwd()
    out_dir.mkdir(parents=True, exist_ok=True)
    mode = _file_mode()
    partial: list[tuple[Path, Path]] = []
    try:
        with paused_gc():
            for name in formats:
                filename, writer = FORMATS[name]
                fd, created = tempfile.mkstemp(dir=out_dir, prefix=f".{filename}.", suffix=".partial")
                partial.append((Path(created), out_dir / filename))
                os.fchmod(fd, mode)
                with open(fd, "wb", buffering=1 << 20) as raw:
                    out = cast(BinaryIO, RedactingWriter(raw))
                    write_sarif(report, root, out) if name == "sarif" else writer(report, out)
                    out.flush()
        for temporary, path in partial:
            os.replace(temporary, path)
    finally:
        for temporary, _ in partial:
            temporary.unlink(missing_ok=True)
    return [path for _, path in partial]


def _file_mode() -> int:
    """Reports are as readable as any file the user creates (mkstemp alone would make them 0600)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
