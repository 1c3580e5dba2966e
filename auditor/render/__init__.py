"""Renderers: each turns a finished Report into one file. They only render; they compute nothing."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from auditor.model.errors import InputError
from auditor.model.results import Report
from auditor.util.gcpause import paused_gc
from auditor.util.redact import RedactingWriter

Writer = Callable[[Report, BinaryIO], None]


@dataclass(frozen=True)
class RenderOptions:
    """What a writer may need beyond the report."""

    root: Path
    """Absolute directory that file locations in the output (SARIF) are relative to."""


FormatWriter = Callable[[Report, BinaryIO, RenderOptions], None]


@dataclass(frozen=True)
class OutputFormat:
    """One output format: its --format name, the file it writes in --out, and how to write it."""

    name: str
    filename: str
    write: FormatWriter


def _html(report: Report, out: BinaryIO, options: RenderOptions) -> None:
    from auditor.render.templates import write_html

    write_html(report, out)


def _junit(report: Report, out: BinaryIO, options: RenderOptions) -> None:
    from auditor.render.templates import write_junit

    write_junit(report, out)


def _json(report: Report, out: BinaryIO, options: RenderOptions) -> None:
    from auditor.render.json_report import write_json

    write_json(report, out)


def _sarif(report: Report, out: BinaryIO, options: RenderOptions) -> None:
    from auditor.render.sarif import write_sarif

    write_sarif(report, options.root, out)


def _markdown(report: Report, out: BinaryIO, options: RenderOptions) -> None:
    from auditor.render.markdown import write_markdown

    write_markdown(report, out)


def _ics(report: Report, out: BinaryIO, options: RenderOptions) -> None:
    from auditor.render.ics import write_ics

    write_ics(report, out)


FORMATS: dict[str, OutputFormat] = {
    f.name: f
    for f in (
        OutputFormat("html", "report.html", _html),
        OutputFormat("junit", "junit.xml", _junit),
        OutputFormat("json", "report.json", _json),
        OutputFormat("sarif", "report.sarif", _sarif),
        OutputFormat("markdown", "summary.md", _markdown),
        OutputFormat("ics", "retirements.ics", _ics),
    )
}
"""Every output format, in the order --format all writes them: the one table a new format is added to. Each
writer's module (jinja2 for HTML and JUnit) is imported when a report is written in it, not when `--format` is
checked before the first Azure call."""
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
    through a file or a read-only directory would otherwise be found only after the whole audit). The
    check leaves nothing behind: directories it had to create are removed again."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: exists and is not a directory")
    missing = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out_dir, prefix=".audit-write-check.", suffix=".partial")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"--out {out_dir}: cannot write reports there ({exc.strerror or exc})") from None
    finally:
        for created in missing:
            with contextlib.suppress(OSError):
                created.rmdir()


def write_reports(report: Report, out_dir: Path, formats: tuple[str, ...], *, root: Path | None = None) -> list[Path]:
    """Write each format as it renders into a hidden partial file, and move them all into place only
    once every one is complete, so a failure never leaves a half-written or mixed set.

    Partial files get unique names, created exclusively (O_EXCL, never through a planted link), so two
    runs into one directory do not collide; every byte passes the redacting writer (no registered secret
    reaches a file). `root` (absolute; the working directory by default) is what SARIF file locations are
    relative to."""
    options = RenderOptions(root=root or Path.cwd())
    out_dir.mkdir(parents=True, exist_ok=True)
    mode = _file_mode()
    partial: list[tuple[Path, Path]] = []
    try:
        with paused_gc():
            for name in formats:
                output = FORMATS[name]
                fd, created = tempfile.mkstemp(dir=out_dir, prefix=f".{output.filename}.", suffix=".partial")
                partial.append((Path(created), out_dir / output.filename))
                os.fchmod(fd, mode)
                with open(fd, "wb", buffering=1 << 20) as raw:
                    out = cast(BinaryIO, RedactingWriter(raw))
                    output.write(report, out, options)
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
