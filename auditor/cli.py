"""The `audit` command: a thin shell over the public API. The only module that reads the
environment, prints, and picks exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Sequence

from auditor._version import __version__
from auditor.errors import AuditorError, ExitCode, InputError

EXAMPLES = """\
examples:
  audit rules                                   list the rules; audit rules explain AOAI-API-001 explains one
  audit kb                                      the knowledge base's date and coverage
  audit --demo                                  audit the embedded simulated tenant (no Azure needed)
  audit --resource myres                        audit one account found by name in your subscriptions
  audit --resource /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.CognitiveServices/accounts/myres
  audit --all --subscription SUB1 --subscription SUB2 --fail-on warning    nightly: every account
  audit --resource myres --contract app-contract.yaml --format junit,json --out build/audit
  audit --resource myres --cloud AzureUSGovernment

exit codes:
  0  no failing finding at or above --fail-on
  1  failing findings at or above --fail-on
  2  usage or input error (bad flag, bad rule/contract file, unknown resource, no credential)
  3  the audit is incomplete (something could not be read) and nothing else failed
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audit",
        description="Preflight and compatibility audit of Azure OpenAI deployments: enumerates accounts and "
        "deployments through Azure Resource Manager, checks them against declarative YAML rules and a sourced "
        "model knowledge base, and writes HTML, JUnit and JSON reports.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    what = parser.add_argument_group("what to audit")
    what.add_argument("--resource", action="append", default=[], metavar="NAME_OR_ID",
                      help="an account name (looked up in the subscriptions) or full ARM resource ID; repeatable. "
                      "Example: --resource contoso-aoai")
    what.add_argument("--all", action="store_true", dest="all_accounts",
                      help="audit every Azure OpenAI / AI services account in the chosen subscriptions")
    what.add_argument("--subscription", action="append", default=[], metavar="ID",
                      help="search only this subscription; repeatable (default: $AZURE_SUBSCRIPTION_ID, "
                      "else every subscription the credential can see). Example: --subscription 0000-...")
    what.add_argument("--resource-group", metavar="NAME", help="search only this resource group. Example: --resource-group rg-ai")
    what.add_argument("--demo", action="store_true",
                      help="start the embedded simulated tenant and audit it with the demo contract")
    azure = parser.add_argument_group("Azure connection")
    azure.add_argument("--cloud", default="AzureCloud", metavar="NAME",
                       help="AzureCloud (default), AzureChinaCloud or AzureUSGovernment, as the az CLI names them")
    azure.add_argument("--management-endpoint", metavar="URL",
                       help="override the ARM endpoint (Azure Stack, tests); the token scope is URL/.default. "
                       "Example: --management-endpoint https://management.local")
    azure.add_argument("--concurrency", type=int, default=16, metavar="N",
                       help="how many Azure calls (reads and probes) run at once (default 16)")
    azure.add_argument("--discovery", default="auto", metavar="HOW",
                       help="how --all and names find accounts: auto (Resource Graph across several subscriptions, "
                       "else per-subscription listing), resource-graph, or list. Example: --discovery list")
    rules = parser.add_argument_group("rules and inputs")
    rules.add_argument("--contract", type=Path, metavar="FILE",
                       help="app contract YAML: per deployment name, the API and parameters the app sends. "
                       "Example: --contract app-contract.yaml")
    rules.add_argument("--rules", action="append", default=[], type=Path, metavar="DIR",
                       help="an extra directory of rule YAML files; repeatable. Example: --rules ./our-rules")
    rules.add_argument("--select", action="append", default=[], metavar="ID_OR_CATEGORY",
                       help="run only these rules or categories; repeatable. Example: --select api-support")
    rules.add_argument("--ignore", action="append", default=[], metavar="ID_OR_CATEGORY",
                       help="skip these rules or categories; repeatable. Example: --ignore security")
    rules.add_argument("--ruleset", default="latest", metavar="VERSION",
                       help="pin the rule set of a release so new rules never break a gate unannounced "
                       "(default latest). Example: --ruleset 2026.11")
    out = parser.add_argument_group("output")
    out.add_argument("--out", type=Path, default=Path("audit-report"), metavar="DIR",
                     help="where reports are written (default ./audit-report)")
    out.add_argument("--format", default="html,junit,json", metavar="LIST",
                     help="comma-separated: html, junit, json (default all three). Example: --format junit,json")
    out.add_argument("--fail-on", default="error", metavar="LEVEL",
                     help="exit 1 when a finding fails at or above: error (default), warning, info, or never")
    out.add_argument("--quiet", action="store_true", help="print only errors (and no progress bar)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _validate(args: argparse.Namespace) -> None:
    if args.fail_on not in ("error", "warning", "info", "never"):
        raise InputError(f"unknown --fail-on value {args.fail_on!r}: choose error, warning, info or never")
    if args.concurrency < 1 or args.concurrency > 64:
        raise InputError(f"--concurrency must be between 1 and 64, not {args.concurrency}")
    if args.discovery not in ("auto", "resource-graph", "list"):
        raise InputError(f"unknown --discovery value {args.discovery!r}: choose auto, resource-graph or list")
    if not args.demo and not args.resource and not args.all_accounts:
        raise InputError("say what to audit: --resource NAME_OR_ID, --all, or --demo (see audit --help)")
    from auditor.clouds import get_cloud
    from auditor.render import parse_formats

    args.formats = parse_formats(args.format)
    args.cloud_obj = get_cloud(args.cloud, args.management_endpoint)


def _print_summary(report: Any, paths: Sequence[Path], exit_code: int, fail_on: str) -> None:
    from auditor.results import Status

    s = report.summary()
    fails = s["failed_by_severity"]
    print(f"Audited {s['targets']} account(s), {s['deployments']} deployment(s): "
          f"{fails['error']} error(s), {fails['warning']} warning(s), {fails['info']} info, "
          f"{s['by_status']['pass']} passed, {s['by_status']['unknown']} unknown.")
    failing = [f for f in report.findings if f.status is Status.FAIL]
    failing.sort(key=lambda f: (-f.severity.rank, f.rule_id, f.target_name))
    for f in failing[:12]:
        print(f"  {f.severity.value.upper():7} {f.rule_id:16} {f.target_name}: {f.message}"[:220])
    if len(failing) > 12:
        print(f"  … and {len(failing) - 12} more in the reports")
    for target in report.targets:
        if target.status != "complete":
            print(f"  INCOMPLETE {target.name}: {'; '.join(target.reasons)}"[:220])
    for path in paths:
        print(f"Wrote {path}")
    meaning = {0: "passed", 1: f"failed (findings at or above {fail_on})", 3: "incomplete"}[exit_code]
    print(f"Result: {meaning} (exit {exit_code})")


def _demo_environment(stack: ExitStack, args: argparse.Namespace) -> tuple[Any, str]:
    """Start the simulated tenant and sign in to it the way a managed identity signs in to Azure."""
    from azure.identity import DefaultAzureCredential

    from auditor.clouds import get_cloud
    from auditor.demo.simulator import SimulatedTenant

    tenant = stack.enter_context(SimulatedTenant())
    saved = {k: os.environ.get(k) for k in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER")}
    os.environ["IDENTITY_ENDPOINT"] = tenant.identity_endpoint
    os.environ["IDENTITY_HEADER"] = tenant.identity_header

    def restore() -> None:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    stack.callback(restore)
    credential = DefaultAzureCredential(
        exclude_environment_credential=True,
        exclude_workload_identity_credential=True,
        exclude_shared_token_cache_credential=True,
        exclude_developer_cli_credential=True,
        exclude_cli_credential=True,
        exclude_powershell_credential=True,
        exclude_visual_studio_code_credential=True,
        exclude_interactive_browser_credential=True,
        exclude_broker_credential=True,
    )
    args.cloud_obj = get_cloud(args.cloud, tenant.management_url)
    if not args.resource:
        args.all_accounts = True
    if args.contract is None:
        from importlib.resources import files

        args.contract = Path(str(files("auditor.demo").joinpath("contract.yaml")))
    return credential, tenant.ca_path


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(argv)
    _validate(args)
    from auditor.audit import AuditOptions, gate, run_audit
    from auditor.engine.rules import load_rules
    from auditor.render import write_reports

    rules = load_rules(args.rules)
    from auditor.audit import select_rules

    select_rules(rules, ruleset=args.ruleset)
    subscriptions = tuple(args.subscription) or tuple(
        s for s in [os.environ.get("AZURE_SUBSCRIPTION_ID", "").strip()] if s
    )
    with ExitStack() as stack:
        if args.demo:
            credential, verify = _demo_environment(stack, args)
            subscriptions = tuple(args.subscription)
        else:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(authority=args.cloud_obj.authority_host)
            verify = True
        options = AuditOptions(
            resources=tuple(args.resource),
            all_accounts=args.all_accounts,
            subscriptions=subscriptions,
            resource_group=args.resource_group,
            contract=args.contract,
            concurrency=args.concurrency,
            select=tuple(args.select),
            ignore=tuple(args.ignore),
            ruleset=args.ruleset,
            discovery=args.discovery,
        )
        from auditor.progress import BarProgress, wants_bar

        progress = stack.enter_context(BarProgress()) if wants_bar(args.quiet) else None
        report = run_audit(options, credential=credential, cloud=args.cloud_obj, connection_verify=verify, rules=rules,
                           progress=progress)
    paths = write_reports(report, args.out, args.formats)
    exit_code = gate(report, args.fail_on)
    if not args.quiet:
        _print_summary(report, paths, exit_code, args.fail_on)
    return exit_code


def run_info(argv: Sequence[str]) -> int:
    """`audit rules [explain ID]` and `audit kb`: what the auditor knows, without touching Azure."""
    from datetime import date

    from auditor.engine.rules import load_rules
    from auditor.knowledge import load_knowledge
    from auditor.render.docs import explain, kb_summary, rules_markdown

    parser = argparse.ArgumentParser(prog=f"audit {argv[0]}", description="List the rules, explain one, or summarise the knowledge base.")
    if argv[0] == "rules":
        parser.add_argument("action", nargs="?", choices=["list", "explain"], default="list")
        parser.add_argument("rule_id", nargs="?", help="with explain: the rule id, e.g. AOAI-API-001")
        parser.add_argument("--rules", action="append", default=[], type=Path, metavar="DIR", help="include an extra rule pack")
        args = parser.parse_args(argv[1:])
        rules = load_rules(args.rules)
        if args.action == "explain":
            match = [r for r in rules if args.rule_id and r.id.lower() == args.rule_id.lower()]
            if not match:
                raise InputError(f"no rule with id {args.rule_id!r} (see audit rules)")
            sys.stdout.write(explain(match[0]))
        else:
            sys.stdout.write(rules_markdown(rules))
        return 0
    parser.add_argument("--knowledge", type=Path, metavar="FILE", help="a knowledge-base file other than the packaged one")
    args = parser.parse_args(argv[1:])
    sys.stdout.write(kb_summary(load_knowledge(args.knowledge), date.today()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `audit` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in ("rules", "kb"):
            return run_info(argv)
        return run(argv)
    except AuditorError as exc:
        print(f"audit: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("audit: interrupted", file=sys.stderr)
        return int(ExitCode.USAGE)
