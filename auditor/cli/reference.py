"""The CLI reference page (docs/reference/cli.md), generated from the real argparse parsers of every command, so
the documentation cannot drift from the flags (tests/test_docs.py fails when the page is stale)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("audit", ()),
    ("audit rules", ("rules",)),
    ("audit kb", ("kb",)),
    ("audit kb refresh", ("kb", "refresh")),
    ("audit contract scan", ("contract", "scan", ".")),
    ("audit merge", ("merge", "report.json")),
    ("audit history import", ("history", "import", "report.json")),
    ("audit init", ("init",)),
    ("audit config", ("config",)),
)
"""Each command and the arguments that reach its parser (its parser is captured when it parses them)."""


class _Captured(BaseException):
    """Raised from parse_args with the parser that was about to parse (not an error: a way out of `main`)."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__(parser.prog)
        self.parser = parser


@contextmanager
def _capturing() -> Iterator[None]:
    original = argparse.ArgumentParser.parse_args

    def capture(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> argparse.Namespace:
        raise _Captured(self)

    argparse.ArgumentParser.parse_args = capture  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        argparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]


def parser_of(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser `audit ARGV` parses with (the command's own, as `main` builds it)."""
    from auditor.cli import main

    with _capturing():
        try:
            main(list(argv))
        except _Captured as captured:
            return captured.parser
    raise RuntimeError(f"audit {' '.join(argv)} parsed no arguments")  # pragma: no cover - a new command shape


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    metavar = ""
    if action.nargs != 0:
        metavar = " " + (action.metavar if isinstance(action.metavar, str) else action.dest.upper())
    return ", ".join(f"`{flag}{metavar}`" for flag in action.option_strings)


def _help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    text = parser._get_formatter()._expand_help(action) if action.help else ""
    if action.choices and "choose" not in text.casefold():
        text += f" (one of: {', '.join(map(str, action.choices))})"
    return _cell(text)


def command_markdown(title: str, parser: argparse.ArgumentParser) -> list[str]:
    """One command: its description, then per argument group a table of its arguments."""
    lines = [f"## `{title}`", ""]
    if parser.description:
        lines += [" ".join(parser.description.split()), ""]
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.help != argparse.SUPPRESS and a.dest != "help"]
        if not actions:
            continue
        name = group.title or "arguments"
        lines += [f"**{name[:1].upper()}{name[1:]}**", "", "| argument | what it does |", "|---|---|"]
        lines += [f"| {_flags(a)} | {_help(parser, a)} |" for a in actions]
        lines.append("")
    if parser.epilog:
        lines += ["```text", parser.epilog.rstrip(), "```", ""]
    return lines


def cli_reference() -> str:
    """The page: every command's arguments, from the parsers themselves."""
    lines = [
        "# Command-line reference",
        "",
        "<!-- Generated from the argparse parsers by `python -m tests.update_docs`; edit the parser, not this page. -->",
        "",
        "Every command prints the same with `--help`. Exit codes: 0 nothing failing at or above `--fail-on`, "
        "1 failing findings, 2 usage or input error, 3 incomplete audit.",
        "",
    ]
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # help text expansion reads the width; the page must not depend on a terminal
    try:
        for title, argv in COMMANDS:
            lines += command_markdown(title, parser_of(argv))
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(lines).rstrip() + "\n"
