"""The one bounded reader for every file the auditor reads as input (contracts, plans, rules, policies,
waivers, baselines, shard reports, knowledge files, source files to fix, docs pages on disk).

What it promises, whatever the path names: only a regular file is read (a FIFO, a device such as
/dev/zero, a directory or a socket is refused before any byte is read, and opening never blocks); with
`root`, the path is resolved (symlinks followed) and must stay inside the root, and nothing under a `.git`
directory is read; at most `max_bytes` are read, refused beyond; the text is UTF-8, a byte-order mark
dropped (or kept, for a file we rewrite byte for byte). Every refusal is an InputError (exit 2) naming the
path and line 1, never a hang, a MemoryError or a traceback."""

from __future__ import annotations

import http.client
import os
import stat
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from auditor.model.errors import InputError

MAX_INPUT_BYTES = 16 * 1024 * 1024
"""No contract, plan, waivers file, baseline, rule file or source file a person writes comes near this."""


class Refused(InputError):
    """A file the reader refuses; `reason` says why without the path (for callers that skip, not stop)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def contained(path: Path | str, root: Path | str) -> Path:
    """`path` (relative to `root` unless absolute) with its symlinks resolved; an InputError when it leaves
    `root` or lies under a `.git` directory (the repository's own database is never input or output)."""
    root_resolved = Path(root).resolve()
    given = Path(path)
    full = given if given.is_absolute() else root_resolved / given
    try:
        resolved = full.resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise InputError(f"{path}:1: cannot resolve the path ({exc})") from None
    try:
        relative = resolved.relative_to(root_resolved)
    except ValueError:
        raise InputError(f"{path}:1: resolves outside {root_resolved} (through a symlink or ..); not read") from None
    if ".git" in relative.parts:
        raise InputError(f"{path}:1: lies under .git/; not read")
    return resolved


def read_bytes(
    path: Path | str,
    *,
    what: str,
    max_bytes: int = MAX_INPUT_BYTES,
    root: Path | str | None = None,
    nofollow: bool = False,
) -> bytes:
    """The bytes of a regular file of at most `max_bytes` (inside `root` when given; not through a symlink at
    all with `nofollow`, as the code scan reads); a Refused InputError otherwise."""
    shown = Path(path)
    target = contained(shown, root) if root is not None else shown

    def refused(reason: str) -> Refused:
        return Refused(f"{shown}:1: cannot read the {what} file: {reason}", reason)

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (getattr(os, "O_NOFOLLOW", 0) if nofollow else 0)
    try:
        fd = os.open(target, flags)
    except FileNotFoundError:
        raise Refused(f"{shown}: {what} file not found", "not found") from None
    except OSError as exc:
        raise refused(str(exc.strerror or exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refused("not a regular file (a directory, FIFO or device)")
        if info.st_size > max_bytes:
            raise refused(f"larger than {max_bytes:,} bytes ({info.st_size:,})")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            # read(n) allocates n bytes up front: ask for what the file holds (and one more, were it growing)
            data = handle.read(min(info.st_size, max_bytes) + 1)
    except OSError as exc:
        raise refused(str(exc.strerror or exc)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise refused(f"larger than {max_bytes:,} bytes")
    return data


def decode(data: bytes, path: Path | str, *, what: str, keep_bom: bool = False) -> str:
    """UTF-8 text; the BOM dropped unless `keep_bom` (a file rewritten byte for byte keeps it)."""
    try:
        return data.decode("utf-8" if keep_bom else "utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: cannot read {what} file: not UTF-8 ({exc.reason})") from None


def read_text(
    path: Path | str,
    *,
    what: str,
    max_bytes: int = MAX_INPUT_BYTES,
    root: Path | str | None = None,
    keep_bom: bool = False,
) -> str:
    """The UTF-8 text of a regular file through `read_bytes`; newlines are left exactly as written."""
    return decode(read_bytes(path, what=what, max_bytes=max_bytes, root=root), path, what=what, keep_bom=keep_bom)


MAX_URL_BYTES = 8 * 1024 * 1024
URL_DEADLINE = 60.0
"""A docs page is read in full within this many seconds (an answer that drips a byte at a time is cut off)."""


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to another https URL: never down to plain http (or file:, ftp:)."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if urllib.parse.urlsplit(newurl).scheme.lower() != "https":
            raise InputError(f"{req.full_url}: redirected to {newurl[:200]!r}, which is not https; not followed")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def read_url(
    url: str, *, what: str, max_bytes: int = MAX_URL_BYTES, deadline: float = URL_DEADLINE, read_timeout: float = 10.0
) -> str:
    """The UTF-8 text at an https URL: redirects stay on https, at most `max_bytes`, the whole body within
    `deadline` seconds (plus one read's `read_timeout`). Every failure is an InputError naming the URL."""
    if urllib.parse.urlsplit(url).scheme.lower() != "https":
        raise InputError(f"{url}: only https URLs are read")
    opener = urllib.request.build_opener(_HttpsOnlyRedirects())
    end = time.monotonic() + deadline
    chunks: list[bytes] = []
    size = 0
    try:
        with opener.open(url, timeout=read_timeout) as response:
            while True:
                if time.monotonic() > end:
                    raise InputError(f"{url}: the {what} was not read within {deadline:g} s; not used")
                chunk = response.read1(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise InputError(f"{url}: the {what} is larger than {max_bytes:,} bytes; not used")
                chunks.append(chunk)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise InputError(f"{url}: could not read the {what} ({type(exc).__name__}: {exc})") from None
    return decode(b"".join(chunks), url, what=what)
