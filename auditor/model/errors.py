"""The auditor's exceptions and exit codes; only the CLI turns them into messages and exits."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes a CI gate can tell apart: found problems, bad input, could not look."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    INCOMPLETE = 3


class AuditorError(Exception):
    """Base of every error the auditor reports without a traceback."""

    exit_code = ExitCode.USAGE


class InputError(AuditorError):
    """A file or value a person gave is wrong; the message names the file and line, or the value."""


class SignInError(AuditorError):
    """No credential could be had: the message says how to sign in."""


class TargetNotFoundError(AuditorError):
    """A resource named on the command line does not exist where we looked."""
