"""How the `audit` command ends when it cannot finish normally: errors in a few lines, Ctrl-C, and our own bugs.

Exit codes (auditor.model.errors.ExitCode): 2 for a usage or input error (one line, or a few for a sign-in
failure), 130 when interrupted (the first Ctrl-C stops the waits and writes what was read, marked incomplete; a
second one stops at once), 4 for an internal error: the traceback goes to a file in the output directory, named
on stderr, never a wall of text in a CI log.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType

from auditor.model.errors import AuditorError, ExitCode, SignInError
from auditor.util.redact import printable, redact

CRASH_FILE = "audit-crash.txt"
SDK_LOGGERS = ("azure", "msal", "urllib3", "openai", "httpx")


def configure_logging(verbose: bool) -> None:
    """The Azure SDKs (and the HTTP stacks under them) stay quiet unless --verbose: azure-identity otherwise
    prints its whole credential-chain report through Python's last-resort handler before our own message."""
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.CRITICAL + 1)
    if verbose and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("audit: debug: %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
        from auditor.util.redact import guard_logging

        guard_logging([handler])


def print_error(exc: AuditorError, verbose: bool) -> int:
    """`audit: error: …` on stderr, each line made printable (a sign-in failure has a few), then the exit code."""
    lines = str(exc).splitlines() or [""]
    print(printable(f"audit: error: {lines[0]}"), file=sys.stderr)
    for line in lines[1:]:
        print(printable(f"  {line}"), file=sys.stderr)
    if verbose and isinstance(exc, SignInError) and exc.detail:
        for line in exc.detail.splitlines():
            print(printable(f"  | {line}"), file=sys.stderr)
    return int(exc.exit_code)


def out_dir(argv: Sequence[str]) -> Path:
    """The --out directory of the command line (a crash is saved there), else the default."""
    for index, arg in enumerate(argv):
        if arg == "--out" and index + 1 < len(argv):
            return Path(argv[index + 1])
        if arg.startswith("--out="):
            return Path(arg.split("=", 1)[1])
    return Path("audit-report")


def report_crash(exc: BaseException, argv: Sequence[str]) -> int:
    """Save the traceback (secrets redacted) in the output directory and say where, in two lines: exit 4."""
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    from auditor._version import __version__

    header = f"audit {__version__} internal error at {datetime.now(timezone.utc).isoformat()}\nargv: {list(argv)}\n\n"
    where: Path | None = out_dir(argv) / CRASH_FILE
    try:
        assert where is not None
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_text(redact(header + text), encoding="utf-8")
    except OSError:
        where = None
    print(printable(f"audit: internal error: {type(exc).__name__}: {exc}"), file=sys.stderr)
    if where is not None:
        print(printable(f"  the traceback is in {where}: please attach it to a bug report"), file=sys.stderr)
    else:
        print(printable(text.splitlines()[-1] if text else ""), file=sys.stderr)
    return int(ExitCode.INTERNAL)


class Stop:
    """Whether the run was interrupted, read after the audit (the process-wide flag is reset by then)."""

    interrupted = False


@contextlib.contextmanager
def interruptible() -> Iterator[Stop]:
    """The first Ctrl-C ends the audit's waits (what was read is reported, the rest listed as interrupted); the
    second is an ordinary KeyboardInterrupt. Only on the main thread (signals can be set only there)."""
    from auditor.util.deadline import INTERRUPTION

    stop = Stop()
    INTERRUPTION.reset()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if INTERRUPTION.requested:
            raise KeyboardInterrupt
        print("audit: interrupted: writing what was read (Ctrl-C again to stop at once)", file=sys.stderr)
        INTERRUPTION.interrupt()

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # pragma: no cover - not the main thread: Ctrl-C stays Python's KeyboardInterrupt
        previous = None
    try:
        yield stop
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        stop.interrupted = INTERRUPTION.requested
        INTERRUPTION.reset()
