"""`audit kb [MODEL] [--format text|json]` and `audit kb refresh --from-docs PATH_OR_URL [--write]` (the CLI prints)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from azure.core.exceptions import AzureError

from auditor.knowledge.refresh import RefreshResult
from auditor.model.errors import AuditorError, ExitCode, InputError
from auditor.util import inputfile
from auditor.util.redact import RecordingCredential, printable
from auditor.util.resources import data_dir

KB_EXAMPLES = """\
examples:
  audit kb                                   summary, then every model's facts with sources and dates
  audit kb gpt-4.1 --format json             one model, for scripts
  audit kb refresh --from-docs ~/src/azure-ai-docs              review the change (unified diff + summary)
  audit kb refresh --from-catalog --subscription SUB --location eastus2 --location swedencentral
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
    from auditor.knowledge.base import load_knowledge
    from auditor.knowledge.show import kb_document, kb_text
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
    from auditor.knowledge.refresh import refresh_from_docs

    parser = argparse.ArgumentParser(
        prog="audit kb refresh",
        description="Propose a knowledge-base change from the Learn retirement schedule's markdown source: a unified "
        "diff and a summary (dates moved, stages and replacements changed, models added). Nothing is written "
        "without --write.",
        epilog=KB_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from-docs",
        metavar="PATH_OR_URL",
        help="the schedule's markdown: a file, a checkout of MicrosoftDocs/azure-ai-docs, or an https raw URL",
    )
    source.add_argument(
        "--from-catalog",
        action="store_true",
        help="the live model catalog (models.list) of each region: read-only, once per region, concurrently",
    )
    parser.add_argument("--subscription", metavar="SUB", help="with --from-catalog: the subscription to read")
    parser.add_argument(
        "--location",
        action="append",
        default=[],
        metavar="L",
        help="with --from-catalog: a region to read (repeatable; default: every region where the subscription has "
        "an Azure OpenAI or AI services account)",
    )
    parser.add_argument("--demo", action="store_true", help="with --from-catalog: read the embedded simulated tenant")
    parser.add_argument(
        "--management-endpoint", metavar="URL", help="with --from-catalog: an ARM endpoint other than the cloud's"
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
    if args.from_catalog:
        result = _from_catalog(args, path)
    else:
        result = refresh_from_docs(path, args.from_docs, args.source_key, args.checked or date.today())
    if result.changed:
        check_loads(result.new_text, path)  # never propose (or write) a file the auditor would then refuse
    for line in (result.diff() + result.summary()).splitlines():
        print(printable(line))  # docs and catalog text: no terminal escape sequence reaches the terminal
    if args.write and result.changed:
        from auditor.util.safefile import write_text

        write_text(path, result.new_text)
        print(printable(f"Wrote {path}."))
    elif result.changed:
        print("Not written (review the diff, then run again with --write).")
    else:
        print("The knowledge base already agrees with the source.")
    return 0


def _from_catalog(args: argparse.Namespace, path: Path) -> RefreshResult:
    """Read each region's live catalog through the enumerator (read-only) and compare it with the file."""
    from contextlib import ExitStack

    from auditor.knowledge.catalog import read_catalogs, refresh_from_catalogs
    from auditor.model.clouds import get_cloud
    from auditor.sources.azure import AzureEnumerator

    subscription = args.subscription or ("00000000-0000-4000-8000-000000000001" if args.demo else None)
    if not subscription:
        raise InputError("--from-catalog needs --subscription SUB (the subscription whose catalog is read)")
    kb_text = inputfile.read_text(path, what="knowledge base")
    with ExitStack() as stack:
        verify: str | bool = True
        if args.demo:
            from auditor.cli import _demo_environment

            demo_args = argparse.Namespace(cloud="AzureCloud", resource=[], contract=None, contract_from=None)
            credential, verify = _demo_environment(stack, demo_args)
            cloud = demo_args.cloud_obj
        else:
            from azure.identity import DefaultAzureCredential

            cloud = get_cloud("AzureCloud", args.management_endpoint)
            credential = DefaultAzureCredential(authority=cloud.authority_host)
        # every token it hands out is registered for redaction, as in an audit: an error body echoing it is masked
        enumerator = AzureEnumerator(RecordingCredential(credential), cloud, connection_verify=verify)
        try:
            locations = list(args.location) or sorted({a.location for a in enumerator.list_accounts(subscription)})
            if not locations:
                raise InputError(
                    f"subscription {subscription} has no Azure OpenAI account: name regions with --location"
                )
            catalogs = read_catalogs(enumerator.list_catalog, subscription, locations)
        except AzureError as exc:
            raise CatalogUnreadable(f"the model catalog could not be read: {azure_error_line(exc)}") from None
    return refresh_from_catalogs(kb_text, catalogs, subscription, args.checked or date.today(), str(path))


class CatalogUnreadable(AuditorError):
    """Azure refused or failed a catalog read: nothing is proposed (exit 3, as for an incomplete audit)."""

    exit_code = ExitCode.INCOMPLETE


def azure_error_line(exc: Exception) -> str:
    """One line from an Azure SDK error: status, ARM error code and the first line of its message."""
    status = getattr(exc, "status_code", None)
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None) or type(exc).__name__
    message = str(getattr(error, "message", None) or getattr(exc, "message", None) or exc).strip()
    first = message.splitlines()[0] if message else ""
    return f"{'HTTP ' + str(status) + ' ' if status else ''}{code}: {first[:300]}"


def check_loads(text: str, path: Path) -> None:
    """The refreshed knowledge base, loaded as the auditor would load it (beside its families.yaml)."""
    import shutil
    import tempfile

    from auditor.knowledge.base import load_knowledge

    with tempfile.TemporaryDirectory(prefix="kb-refresh-") as folder:
        candidate = Path(folder) / "models.yaml"
        candidate.write_text(text, encoding="utf-8")
        families = path.parent / "families.yaml"
        if families.is_file():
            shutil.copyfile(families, Path(folder) / "families.yaml")
        try:
            load_knowledge(candidate)
        except (InputError, AttributeError, KeyError, TypeError, ValueError) as exc:  # wrong shapes too
            why = str(exc).replace(str(candidate), "models.yaml")
            raise InputError(f"{path}: the refreshed knowledge base would not load ({why}); not proposed") from None
