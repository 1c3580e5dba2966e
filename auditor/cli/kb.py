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
  audit kb --knowledge kb-overlay.yaml           the packaged facts with your overlay on top (layer shown per fact)
  audit kb refresh --from-docs ~/src/azure-ai-docs              review the change (unified diff + summary)
  audit kb refresh --from-catalog --subscription SUB --location eastus2 --location swedencentral
  audit kb refresh --from-docs ~/src/azure-ai-docs --knowledge kb-overlay.yaml --write   write the overlay
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
        "--knowledge",
        type=Path,
        metavar="FILE",
        help="your overlay over the packaged knowledge base (default: the per-user one, if any)",
    )
    args = parser.parse_args(list(argv))
    from auditor.knowledge.overlay import resolve_overlay

    kb = load_knowledge(overlay=resolve_overlay(args.knowledge))
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
        "--cloud",
        default="AzureCloud",
        metavar="NAME",
        help="with --from-catalog: the Azure cloud (AzureCloud, AzureUSGovernment, AzureChinaCloud)",
    )
    parser.add_argument(
        "--management-endpoint", metavar="URL", help="with --from-catalog: the ARM endpoint (Azure Stack, a proxy)"
    )
    parser.add_argument(
        "--knowledge",
        type=Path,
        metavar="FILE",
        help="the overlay to refresh and, with --write, to write (default: the per-user data directory's)",
    )
    parser.add_argument(
        "--base",
        type=Path,
        metavar="FILE",
        help="the knowledge-base file under the overlay (default: the packaged one)",
    )
    parser.add_argument(
        "--allow-older",
        action="store_true",
        help="with --from-docs: apply a page older than the revision the knowledge base cites (moves facts back)",
    )
    parser.add_argument(
        "--source-key",
        default="MS-T5",
        metavar="KEY",
        help="the `sources:` key to cite for the schedule (default MS-T5)",
    )
    parser.add_argument("--checked", type=_date, metavar="DATE", help="the check date to record (default: today)")
    parser.add_argument(
        "--write",
        action="store_true",
        help="write the refreshed facts to the overlay (--knowledge FILE, else the per-user data directory); "
        "the installed package is never written",
    )
    args = parser.parse_args(list(argv))
    from auditor.knowledge.base import load_knowledge
    from auditor.knowledge.overlay import refreshed_overlay, user_overlay_path

    base = args.base or data_dir("rules") / "knowledge" / "models.yaml"
    overlay = args.knowledge or user_overlay_path()
    existing = inputfile.read_text(overlay, what="knowledge overlay") if overlay.exists() else None
    layered = load_knowledge(args.base, overlay=overlay if existing is not None else None)
    checked = args.checked or date.today()
    if args.from_catalog:
        result = _from_catalog(args, base)
    else:
        result = refresh_from_docs(
            base, args.from_docs, args.source_key, checked, sources=layered.sources, allow_older=args.allow_older
        )
    if result.changed:
        check_loads(result.new_text, base)  # never propose (or write) a file the auditor would then refuse
    for line in (result.diff() + result.summary()).splitlines():
        print(printable(line))  # docs and catalog text: no terminal escape sequence reaches the terminal
    if not result.changed and not result.source_update:
        print("The knowledge base already agrees with the source.")
        return 0
    text = refreshed_overlay(result.old_text, result.new_text, existing, result.source_update, checked, result.facts)
    if not args.write:
        print(f"Not written (review the diff, then run again with --write to update the overlay {overlay}).")
    elif text == existing:
        print(f"The overlay {overlay} already holds these facts.")
    else:
        overlay.parent.mkdir(parents=True, exist_ok=True)
        staged = overlay.with_name(overlay.name + ".new")
        staged.write_text(text, encoding="utf-8")
        try:
            load_knowledge(args.base, overlay=staged)  # what is written must load, validated like any overlay
        except (InputError, AttributeError, KeyError, TypeError, ValueError) as exc:  # wrong shapes too
            staged.unlink()
            raise InputError(f"{overlay}: the refreshed overlay would not load ({exc}); not written") from None
        staged.replace(overlay)
        print(f"Wrote {overlay} (the overlay over {base}).")
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
            from auditor.cli.demo import demo_environment

            demo_args = argparse.Namespace(cloud=args.cloud, resource=[], contract=None, contract_from=None)
            credential, verify = demo_environment(stack, demo_args)
            cloud = demo_args.cloud_obj
        else:
            from azure.identity import DefaultAzureCredential

            cloud = get_cloud(args.cloud, args.management_endpoint)
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
