"""The auditor's exceptions and exit codes; only the CLI turns them into messages and exits."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes a CI gate can tell apart: found problems, bad input, could not look, our bug, stopped."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    INCOMPLETE = 3
    INTERNAL = 4
    """An internal error (a bug): the traceback is saved in the output directory and named on stderr."""
    INTERRUPTED = 130
    """Ctrl-C (SIGINT), as shells report it (128 + 2); what was read is written, marked incomplete."""


class AuditorError(Exception):
    """Base of every error the auditor reports without a traceback."""

    exit_code = ExitCode.USAGE


class InputError(AuditorError):
    """A file or value a person gave is wrong; the message names the file and line, or the value."""


class SignInError(AuditorError):
    """No credential could be had: the message says how to sign in in a few lines; `detail` holds Azure
    Identity's own report, printed with --verbose."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class TargetNotFoundError(AuditorError):
    """A resource named on the command line does not exist where we looked."""
