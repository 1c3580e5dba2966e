"""`audit kb [MODEL] [--format text|json]` and `audit kb refresh --from-docs PATH_OR_URL [--write]` (the CLI prints)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from auditor.errors import InputError
from auditor.resources import data_dir

KB_EXAMPLES = """\
examples:
  audit kb                                   summary, then every model's facts with sources and dates
  audit kb gpt-4.1 --format json             one model, for scripts
  audit kb refresh --from-docs ~/src/azure-ai-docs              review the change (unified diff + summary)
  audit kb refresh --from-docs https://raw.githubusercontent.com/MicrosoftDocs/azure-ai-docs/main/articles/foundry/openai/includes/concepts-model-retirement-schedule-content.md --write
"""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def run_kb(argv: Sequence[str]) -> int:
    """The `audit kb` family: show the knowledge base, or propose a refresh of it."""
    if argv and argv[0] == "refresh":
        return _refresh(argv[1:])
    from auditor.kb.show import kb_document, kb_text
    from auditor.knowledge import load_knowledge
    from auditor.render.docs import kb_summary

    parser = argparse.ArgumentParser(
        prog="audit kb",
        description="Show the model knowledge base: per model, each fact with its sources and the date it was checked.",
        epilog=KB_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", nargs="?", help="show only this model")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument(
        "--knowledge", type=Path, metavar="FILE", help="a knowledge-base file other than the packaged one"
    )
    args = parser.parse_args(list(argv))
    kb = load_knowledge(args.knowledge)
    today = date.today()
    if args.model and args.model not in kb.models:
        raise InputError(f"the knowledge base has no model {args.model!r} (see audit kb)")
    if args.format == "json":
        sys.stdout.write(json.dumps(kb_document(kb, today, args.model), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(kb_summary(kb, today) + "\n" + kb_text(kb, today, args.model))
    return 0


def _refresh(argv: Sequence[str]) -> int:
    from auditor.kb.refresh import refresh_from_docs

    parser = argparse.ArgumentParser(
        prog="audit kb refresh",
        description="Propose a knowledge-base change from the Learn retirement schedule's markdown source: a unified "
        "diff and a summary (dates moved, stages and replacements changed, models added). Nothing is written "
        "without --write.",
        epilog=KB_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--from-docs",
        required=True,
        metavar="PATH_OR_URL",
        help="the schedule's markdown: a file, a checkout of MicrosoftDocs/azure-ai-docs, or an https raw URL",
    )
    parser.add_argument(
        "--knowledge", type=Path, metavar="FILE", help="the knowledge-base file (default: the packaged one)"
    )
    parser.add_argument(
        "--source-key",
        default="MS-T4",
        metavar="KEY",
        help="the `sources:` key to cite for the schedule (default MS-T4)",
    )
    parser.add_argument("--checked", type=_date, metavar="DATE", help="the check date to record (default: today)")
    parser.add_argument("--write", action="store_true", help="write the refreshed file in place")
    args = parser.parse_args(list(argv))
    path = args.knowledge or data_dir("rules") / "knowledge" / "models.yaml"
    result = refresh_from_docs(path, args.from_docs, args.source_key, args.checked or date.today())
    sys.stdout.write(result.diff())
    sys.stdout.write(result.summary())
    if args.write and result.changed:
        path.write_text(result.new_text, encoding="utf-8")
        print(f"Wrote {path}.")
    elif result.changed:
        print("Not written (review the diff, then run again with --write).")
    else:
        print("The knowledge base already agrees with the schedule.")
    return 0
