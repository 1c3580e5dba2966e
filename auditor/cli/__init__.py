"""The `audit` command: a thin shell over the public API. The only module that reads the
environment, prints, and picks exit codes."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from auditor._version import __version__
from auditor.cli.nightly import add_nightly_arguments, open_history, with_nightly
from auditor.model.errors import AuditorError, ExitCode, InputError
from auditor.util.deadline import work_left_behind
from auditor.util.redact import RecordingCredential, guard_logging, printable, redact, register_environment

if TYPE_CHECKING:
    from auditor.model.enums import FailOn
    from auditor.model.results import Report
    from auditor.pipeline.run import RunInputs
    from auditor.probes import ProbeOptions

EXAMPLES = """\
examples:
  audit rules                                   list the rules; audit rules explain AOAI-API-001 explains one
  audit kb                                      the knowledge base's date and coverage
  audit --demo                                  audit the embedded simulated tenant (no Azure needed)
  audit --resource myres                        audit one account found by name in your subscriptions
  audit --resource /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.CognitiveServices/accounts/myres
  audit --all --subscription SUB1 --subscription SUB2 --fail-on warning    nightly: every account
  audit --resource myres --contract app-contract.yaml --format junit,json --out build/audit
  audit --all --waivers audit-waivers.yaml --baseline last-night/report.json    accepted risks, drift
  audit --resource myres --probe                one tiny keyless call per deployment and API; what Azure answers
  audit --resource myres --probe --max-probe-calls 20 --probe-token-budget 500    tighter probe limits
  audit --demo --probe                          the demo with live probes of the simulated data plane
  audit contract scan ./app --out app-contract.yaml    derive the app contract from the app's Python source
  audit --all --shard 2/8 --format json --out shard-2 && audit merge shard-*/report.json --out audit-report
  audit --resource myres --contract-from ./app  scan the app's source and audit against it, in one step
  audit --plan deployments.yaml                 preflight planned deployments (YAML, ARM/Bicep JSON, Terraform)
  terraform show -json tf.plan > plan.json && audit --plan plan.json --contract app-contract.yaml
  audit --all --monitor --policy azure-baseline    nightly compliance: the shipped baseline policy, logs, 429s
  audit --offline --contract-from app/ --plan deployments.yaml    no Azure: the app against the planned models
  audit --all --baseline last/report.json --only-new    gate only on findings the baseline does not have
  audit --resource myres --contract-from ./app --what-if chat-prod=o4-mini    which calls break on o4-mini

exit codes:
  0    no failing finding at or above --fail-on
  1    failing findings at or above --fail-on
  2    usage or input error (bad flag, bad rule/contract/plan/config file, unknown resource, no credential)
  3    the audit is incomplete (something could not be read) and nothing else failed
  4    internal error: the traceback is saved in the output directory (audit-crash.txt) and named on stderr
  130  interrupted (Ctrl-C): what was read is written, marked incomplete

configuration: .aoai-audit.toml or [tool.aoai-auditor] in pyproject.toml, found from the working directory
upwards (or --config FILE); every long flag is a key (fail-on = "warning"); `audit config` shows the effective
settings, `audit init` writes a starter config, contract, waivers file and CI workflow.
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
    what.add_argument(
        "--resource",
        action="append",
        default=[],
        metavar="NAME_OR_ID",
        help="an account name (looked up in the subscriptions) or full ARM resource ID; repeatable. "
        "Example: --resource contoso-aoai",
    )
    what.add_argument(
        "--all",
        action="store_true",
        dest="all_accounts",
        help="audit every Azure OpenAI / AI services account in the chosen subscriptions",
    )
    what.add_argument(
        "--subscription",
        action="append",
        default=[],
        metavar="ID",
        help="search only this subscription; repeatable (default: $AZURE_SUBSCRIPTION_ID, "
        "else every subscription the credential can see). Example: --subscription 0000-...",
    )
    what.add_argument(
        "--resource-group", metavar="NAME", help="search only this resource group. Example: --resource-group rg-ai"
    )
    what.add_argument(
        "--demo", action="store_true", help="start the embedded simulated tenant and audit it with the demo contract"
    )
    azure = parser.add_argument_group("Azure connection")
    azure.add_argument(
        "--cloud",
        default="AzureCloud",
        metavar="NAME",
        help="AzureCloud (default), AzureChinaCloud or AzureUSGovernment, as the az CLI names them",
    )
    azure.add_argument(
        "--management-endpoint",
        metavar="URL",
        help="override the ARM endpoint (Azure Stack, tests); the token scope is URL/.default. "
        "Example: --management-endpoint https://management.local",
    )
    azure.add_argument(
        "--ca-bundle",
        type=Path,
        metavar="PEM",
        help="trust this CA bundle for Azure (ARM and the data plane), e.g. behind a TLS-inspecting "
        "proxy. Example: --ca-bundle /etc/ssl/corp-ca.pem",
    )
    azure.add_argument(
        "--concurrency",
        type=int,
        default=16,
        metavar="N",
        help="how many Azure calls (reads and probes) run at once (default 16)",
    )
    azure.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="the longest the whole run may take (default 900); when it passes, what was read is "
        "reported, the rest is listed as not read, and the run is incomplete (exit 3 unless something "
        "failed). Every request also has its own timeout. Example: --timeout 300",
    )
    azure.add_argument(
        "--discovery",
        default="auto",
        metavar="HOW",
        help="how --all and names find accounts: auto (Resource Graph across several subscriptions, "
        "else per-subscription listing), resource-graph, or list. Example: --discovery list",
    )
    rules = parser.add_argument_group("rules and inputs")
    rules.add_argument(
        "--contract",
        type=Path,
        metavar="FILE",
        help="app contract YAML: per deployment name, the API and parameters the app sends. "
        "Example: --contract app-contract.yaml",
    )
    rules.add_argument(
        "--rules",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="an extra directory of rule YAML files; repeatable. Example: --rules ./our-rules",
    )
    rules.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="ID_OR_CATEGORY",
        help="run only these rules or categories; repeatable. Example: --select api-support",
    )
    rules.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="ID_OR_CATEGORY",
        help="skip these rules or categories; repeatable. Example: --ignore security",
    )
    rules.add_argument(
        "--policy",
        type=Path,
        metavar="FILE",
        help="the organisation's policy (allowed models, regions, deployment types, account settings, content "
        "filtering, tags, names); each statement becomes a rule in the `policy` category. "
        "Example: --policy rules/policies/azure-baseline.yaml",
    )
    rules.add_argument(
        "--ruleset",
        default="latest",
        metavar="VERSION",
        help="pin the rule set of a release so new rules never break a gate unannounced "
        "(default latest). Example: --ruleset 2026.11",
    )
    rules.add_argument(
        "--knowledge",
        type=Path,
        metavar="FILE",
        help="your knowledge-base overlay, layered over the packaged one: only the facts it states, each with its "
        "source and check date (`audit kb refresh --write` writes one). Example: --knowledge kb-overlay.yaml",
    )
    _add_evidence_arguments(parser)
    out = parser.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        default=Path("audit-report"),
        metavar="DIR",
        help="where reports are written (default ./audit-report)",
    )
    out.add_argument(
        "--format",
        default="html,junit,json,sarif,markdown",
        metavar="LIST",
        help="comma-separated: html (report.html), junit (junit.xml), json (report.json), sarif "
        "(report.sarif), markdown (summary.md), ics (retirements.ics, the retirement calendar), or all. Default: the "
        "first five. Example: --format junit,sarif",
    )
    out.add_argument(
        "--waivers",
        type=Path,
        metavar="FILE",
        help="waivers YAML: rule or category, target glob, reason, owner, expires; waived findings stay "
        "in the report as waived, expired waivers fail. Example: --waivers audit-waivers.yaml",
    )
    out.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="the report.json of a previous run: marks findings new or unchanged, lists resolved ones "
        "and deployment changes. Example: --baseline previous/report.json",
    )
    out.add_argument(
        "--fail-on",
        default="error",
        metavar="LEVEL",
        help="exit 1 when a finding fails at or above: error (default), warning, info, or never",
    )
    out.add_argument(
        "--passes",
        default="auto",
        metavar="FORM",
        help="passing results in report.json and JUnit: full (listed), summary (counted per account and rule), "
        "or auto (the default: summary above 1,000 deployments). Example: --passes full",
    )
    out.add_argument(
        "--shard",
        metavar="K/N",
        help="audit only shard K of N: a stable split of the discovered accounts by a hash of their ARM id, for "
        "many CI jobs at once; join the shards' report.json with `audit merge`. Example: --shard 2/8",
    )
    out.add_argument(
        "--only-new",
        action="store_true",
        help="with --baseline: only findings the baseline does not have can fail the gate (the reports still "
        "show every finding), for adopting the gate on an existing tenant. Example: --baseline b/report.json --only-new",
    )
    out.add_argument("--quiet", action="store_true", help="print only errors (and no progress bar)")
    out.add_argument("--verbose", action="store_true", help="also print the Azure SDKs' own log (sign-in detail)")
    out.add_argument(
        "--docs-url",
        metavar="URL",
        help="where rule links in reports point: a mirror of the documentation site (default: the Documentation "
        "URL the package declares); links carry the version that ran. Example: --docs-url https://docs.corp/aoai/",
    )
    add_nightly_arguments(parser)
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="the configuration file (default: .aoai-audit.toml, or [tool.aoai-auditor] in pyproject.toml, "
        "found from the working directory upwards); flags override it. Example: --config ci/audit.toml",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _add_evidence_arguments(parser: argparse.ArgumentParser) -> None:
    """Live probes, the contract from code, and plans (issue 5)."""
    from auditor.probes import DEFAULT_MAX_CALLS, DEFAULT_TOKEN_BUDGET

    group = parser.add_argument_group("evidence: live probes, the app's code, planned deployments")
    group.add_argument(
        "--monitor",
        action="store_true",
        help="also read Azure Monitor (read-only): each account's diagnostic settings and 7 days of per-deployment "
        "requests, 429s and provisioned utilisation, and who calls each deployment how (the observed contract). "
        "Example: audit --all --monitor",
    )
    from auditor.cli.observed import add_observed_arguments, add_rule_param_argument

    add_observed_arguments(group)
    add_rule_param_argument(group)
    group.add_argument(
        "--probe",
        action="store_true",
        help="call each Succeeded deployment's data plane once per API the contract names (both "
        "Chat Completions and Responses without a contract), plus once per contract parameter the "
        "knowledge base doubts: a one-word input, 1-16 output tokens, no streaming, no user data. "
        "Keyless (an Entra token for the cloud's Cognitive Services scope); $AZURE_OPENAI_API_KEY is "
        "used instead when set. Never calls listKeys. Example: --probe",
    )
    group.add_argument(
        "--max-probe-calls",
        type=int,
        default=None,
        metavar="N",
        help=f"the most HTTP calls probes may make, retries included (default {DEFAULT_MAX_CALLS}); "
        "the rest are reported skipped. Example: --max-probe-calls 20",
    )
    group.add_argument(
        "--probe-token-budget",
        type=int,
        default=None,
        metavar="N",
        help=f"the most tokens probes may spend, reserved before each call and counted from usage "
        f"(default {DEFAULT_TOKEN_BUDGET}). Example: --probe-token-budget 500",
    )
    group.add_argument(
        "--allow-endpoint",
        action="append",
        default=[],
        metavar="HOST",
        help="also send tokens/keys to this endpoint host (only hosts under the cloud's data-plane "
        "domains get them otherwise); repeatable. Example: --allow-endpoint aoai.internal.contoso.com",
    )
    group.add_argument(
        "--contract-from",
        type=Path,
        metavar="PATH",
        help="derive the app contract from the app's source (Python, notebooks, Prompty; no code is run) and "
        "audit against it; `audit contract scan PATH` shows it. Example: --contract-from ./src",
    )
    group.add_argument(
        "--scan-allow-unread",
        action="store_true",
        help="files of the app the code scan could not read (listed under unread:) do not make the audit "
        "incomplete; they are still listed",
    )
    group.add_argument(
        "--plan",
        type=Path,
        metavar="FILE",
        help="check planned deployments before they exist: a YAML list (account, name, model, "
        "version, sku, capacity), an ARM template / Bicep build output, or `terraform show -json` "
        "output; the format is detected. Its accounts are audited too. Example: --plan plan.json",
    )
    group.add_argument(
        "--offline",
        action="store_true",
        help="no Azure call: judge the contract (--contract, --contract-from) and the plan (--plan) against the "
        "knowledge base alone, for the plan's deployments and the configuration's `deployments` table; every check "
        "that needs Azure is unknown (cause: offline). Chosen by itself, with a notice, when no credential is found "
        "and there is a plan or declared deployments. Example: --offline --contract-from app/ --plan deployments.yaml",
    )
    group.add_argument(
        "--what-if",
        action="append",
        default=[],
        metavar="DEPLOYMENT=MODEL[:VERSION]",
        help="audit as if the deployment (or planned deployment; ACCOUNT/NAME when names repeat) ran another "
        "model: every rule, the app's contract included, sees that model; findings on it say what-if. "
        "Repeatable; without :VERSION the region's default version. Example: --what-if chat-prod=o4-mini:2025-04-16",
    )


def _probe_options(args: argparse.Namespace, demo: bool = False) -> ProbeOptions | None:
    """ProbeOptions from the flags; in the demo, the simulator's host is allowed and two labelled checks
    with deliberately wrong credentials show the auth failure classes."""
    from auditor.probes import DEFAULT_MAX_CALLS, DEFAULT_TOKEN_BUDGET, AuthCheck, ProbeOptions

    if not args.probe:
        return None
    allowed = tuple(args.allow_endpoint)
    api_key = os.environ.get("AZURE_OPENAI_API_KEY", "").strip() or None
    checks: tuple[AuthCheck, ...] = ()
    if demo:
        from urllib.parse import urlsplit

        allowed += (urlsplit(args.cloud_obj.management_endpoint).hostname or "127.0.0.1",)
        api_key = None  # never send a real key from the environment to the simulator
        checks = (
            AuthCheck("demo: a deliberately wrong API key", api_key="0" * 32),
            AuthCheck("demo: a token for the wrong audience (ARM)", token_scope=args.cloud_obj.management_scope),
        )
    return ProbeOptions(
        max_calls=DEFAULT_MAX_CALLS if args.max_probe_calls is None else args.max_probe_calls,
        token_budget=DEFAULT_TOKEN_BUDGET if args.probe_token_budget is None else args.probe_token_budget,
        allow_endpoints=allowed,
        api_key=api_key,
        concurrency=args.concurrency,
        auth_checks=checks,
    )


def _validate_evidence(args: argparse.Namespace) -> None:
    for flag, value in (("--max-probe-calls", args.max_probe_calls), ("--probe-token-budget", args.probe_token_budget)):
        if value is not None and not args.probe:
            raise InputError(f"{flag} limits live probes: add --probe")
        if value is not None and value < 0:
            raise InputError(f"{flag} must be 0 or more, not {value}")
    if args.allow_endpoint and not args.probe:
        raise InputError("--allow-endpoint only matters for live probes: add --probe")
    if args.contract is not None and args.contract_from is not None:
        raise InputError("give either --contract FILE or --contract-from PATH, not both")
    args.what_ifs = ()
    if args.what_if:  # the upgrade module loads the engine: not before the first Azure call unless asked for
        from auditor.engine.upgrade import parse_what_if

        args.what_ifs = tuple(parse_what_if(value) for value in args.what_if)


def _validate_modes(args: argparse.Namespace) -> None:
    """--only-new needs a baseline; --offline excludes everything that calls Azure."""
    if args.only_new and args.baseline is None:
        raise InputError("--only-new gates on findings new since a baseline: add --baseline previous/report.json")
    if args.offline:
        live = [
            flag
            for flag, on in (
                ("--demo", args.demo),
                ("--probe", args.probe),
                ("--monitor", args.monitor),
                ("--resource", args.resource),
                ("--all", args.all_accounts),
                ("--observed", args.observed is not None),
                ("--logs-workspace", args.logs_workspace),
            )
            if on
        ]
        if live:
            raise InputError(f"--offline makes no Azure call: drop {', '.join(live)}")


def _validate(args: argparse.Namespace) -> None:
    _validate_evidence(args)
    from auditor.gating.verdict import parse_fail_on
    from auditor.model.enums import Discovery, choices

    args.fail_on = parse_fail_on(args.fail_on)
    if args.concurrency < 1 or args.concurrency > 64:
        raise InputError(f"--concurrency must be between 1 and 64, not {args.concurrency}")
    if not 0 < args.timeout < 10**7:
        raise InputError(f"--timeout must be a number of seconds above 0, not {args.timeout:g}")
    if args.ca_bundle is not None and not args.ca_bundle.is_file():
        raise InputError(f"--ca-bundle {args.ca_bundle}: file not found")
    if args.discovery not in set(Discovery):
        raise InputError(f"unknown --discovery value {args.discovery!r}: choose {choices(Discovery)}")
    args.discovery = Discovery(args.discovery)
    if not args.demo and not args.resource and not args.all_accounts and not args.plan and not args.deployments:
        raise InputError("say what to audit: --resource NAME_OR_ID, --all, --plan FILE, or --demo (see audit --help)")
    _validate_modes(args)
    from auditor.model.clouds import get_cloud
    from auditor.render import parse_formats

    args.formats = parse_formats(args.format)
    from auditor.gating.shard import parse_shard
    from auditor.render.json_report import PASSES

    if args.passes not in PASSES:
        raise InputError(f"unknown --passes value {args.passes!r}: choose auto, summary or full")
    args.shard_obj = parse_shard(args.shard) if args.shard else None
    if args.shard_obj and (args.contract or args.contract_from or args.plan):
        raise InputError(
            "--shard splits the accounts, but a contract or plan names deployments anywhere in the tenant: "
            "audit it in one run without --shard"
        )
    args.cloud_obj = get_cloud(args.cloud, args.management_endpoint)
    if args.docs_url is not None:
        from auditor.util.doclinks import check_base

        args.docs_url = check_base(args.docs_url)


def _print_summary(report: Report, paths: Sequence[Path], fail_on: FailOn) -> None:
    from auditor.cli.console import console_lines, terminal_style

    for line in console_lines(report, paths, fail_on, terminal_style(sys.stdout)):
        print(line)


def _append_step_summary(report: Report) -> None:
    """In GitHub Actions, add the Markdown summary to the job's summary page ($GITHUB_STEP_SUMMARY)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY", "").strip()
    if not target:
        return
    from auditor.render.markdown import render_markdown

    try:
        with open(target, "a", encoding="utf-8") as summary:
            summary.write(redact(render_markdown(report)) + "\n")
    except OSError as exc:
        print(printable(f"audit: warning: cannot append to $GITHUB_STEP_SUMMARY ({target}): {exc}"), file=sys.stderr)


def run(argv: Sequence[str]) -> int:
    from auditor.cli.config import apply_config

    args = apply_config(build_parser(), argv).args
    _validate(args)
    from auditor.render import check_out_dir

    check_out_dir(args.out)
    from auditor.cli.observed import check_overrides, observed_options, rule_param_overrides
    from auditor.engine.rules import load_rules
    from auditor.gating.verdict import gate
    from auditor.knowledge.overlay import resolve_overlay
    from auditor.pipeline.options import AuditOptions
    from auditor.pipeline.run import load_inputs
    from auditor.render import write_reports

    overrides = rule_param_overrides(args.rule_param)
    rules = load_rules(args.rules, docs_url=args.docs_url, overrides=overrides)
    check_overrides(overrides, {r.id for r in rules})
    observed = observed_options(args, os.environ)  # a policy that needs Azure Monitor turns it on in the pipeline
    observed["monitor"] = observed["monitor"] or args.monitor
    subscriptions = tuple(args.subscription) or tuple(
        s for s in [os.environ.get("AZURE_SUBSCRIPTION_ID", "").strip()] if s
    )
    options = AuditOptions(
        resources=tuple(args.resource),
        all_accounts=args.all_accounts,
        subscriptions=subscriptions,
        resource_group=args.resource_group,
        contract=args.contract,
        concurrency=args.concurrency,
        timeout=args.timeout,
        select=tuple(args.select),
        ignore=tuple(args.ignore),
        ruleset=args.ruleset,
        discovery=args.discovery,
        contract_from=args.contract_from,
        scan_allow_unread=args.scan_allow_unread,
        contract_env=dict(os.environ),
        plan=args.plan,
        shard=args.shard_obj,
        policy=args.policy,
        what_if=args.what_ifs,
        waivers=args.waivers,
        baseline=args.baseline,
        knowledge=resolve_overlay(args.knowledge),
        docs_url=args.docs_url,
        **observed,
    )
    inputs = load_inputs(options, rules=rules)  # every input file, before any Azure call: a bad one is exit 2
    history = open_history(args)  # likewise: a store that cannot be used is exit 2 at once
    from auditor.cli.failures import configure_logging, interruptible

    if args.verbose:  # also when the configuration file says so
        configure_logging(True)
    try:
        with interruptible() as stop:
            report = _audit(args, inputs)
    except BaseException:
        if history is not None:  # with_nightly closes it after the run; this, when the run fails
            history.close()
        raise
    if stop.interrupted:
        report = replace(report, gaps=(*report.gaps, "the run was interrupted (Ctrl-C): what was read is reported"))
    from auditor.render.json_report import passes_form

    report = replace(report, fail_on=args.fail_on, passes=passes_form(args.passes, report), only_new=args.only_new)
    report = with_nightly(report, args, history)
    from auditor.fixes import write_fixes

    report, fixes = write_fixes(report, args.out, Path.cwd(), list(inputs.impact_rules))
    paths = write_reports(report, args.out, args.formats) + ([fixes.patch] if fixes.patch else [])
    for problem in fixes.stale:
        print(printable(f"audit: warning: {problem}"), file=sys.stderr)
    _append_step_summary(report)
    exit_code = gate(report, args.fail_on)
    if not args.quiet:
        _print_summary(report, paths, args.fail_on)
    if stop.interrupted:
        return int(ExitCode.INTERRUPTED)
    return exit_code


def _audit(args: argparse.Namespace, inputs: RunInputs) -> Report:
    """The audit proper: offline (asked for, or no credential for a run offline can judge), or live; either way
    finished by the pipeline (waivers, drift, the shard's label)."""
    if not args.offline and _offline_instead(args):
        print(
            "audit: notice: no Azure credential found: auditing --offline (the plan and contract against the "
            "knowledge base; checks that need Azure are unknown)",
            file=sys.stderr,
        )
        args.offline = True
    if args.offline:
        from auditor.pipeline.offline import run_offline

        return run_offline(inputs.options, args.deployments, inputs=inputs)
    return _audit_live(args, inputs)


def _offline_instead(args: argparse.Namespace) -> bool:
    """Whether to go offline by itself: nothing live was asked for by name, there is something offline can judge
    (a plan, declared deployments), and no credential is set up (az, environment, workload or managed identity)."""
    if args.demo or args.resource or args.all_accounts or args.probe or args.monitor:
        return False
    if not (args.plan or args.deployments):
        return False
    if args.plan:  # a bad plan or contract is exit 2 before anything else is tried or said
        from auditor.sources.plan import load_plan

        load_plan(args.plan)
    if args.contract:
        from auditor.sources.contract import load_contract_document

        load_contract_document(args.contract, os.environ)
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import DefaultAzureCredential

    from auditor.sources.signin import attempts

    credential = DefaultAzureCredential(authority=args.cloud_obj.authority_host, connection_timeout=30, read_timeout=60)
    try:
        credential.get_token(args.cloud_obj.management_scope)
    except ClientAuthenticationError as exc:
        return all(attempt.unavailable for attempt in attempts(str(exc)))  # nothing set up; a failure is reported
    finally:
        credential.close()
    return False


def _audit_live(args: argparse.Namespace, inputs: RunInputs) -> Report:
    from auditor.pipeline.run import run_audit

    verify: str | bool
    subscriptions = inputs.options.subscriptions
    with ExitStack() as stack:
        if args.demo:
            from auditor.cli.demo import demo_environment

            credential, verify = demo_environment(stack, args)
            subscriptions = tuple(args.subscription)
        else:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential(
                authority=args.cloud_obj.authority_host, connection_timeout=30, read_timeout=60
            )
            verify = str(args.ca_bundle) if args.ca_bundle else True
        credential = RecordingCredential(credential)
        options = replace(  # the demo chose its accounts, contract and cloud above
            inputs.options,
            subscriptions=subscriptions,
            all_accounts=args.all_accounts,
            contract=args.contract,
            probe=_probe_options(args, demo=args.demo),
        )
        from auditor.cli.progress import BarProgress, wants_bar

        progress = stack.enter_context(BarProgress()) if wants_bar(args.quiet) else None
        return run_audit(
            options,
            credential=credential,
            cloud=args.cloud_obj,
            connection_verify=verify,
            progress=progress,
            inputs=replace(inputs, options=options),
        )


def entry() -> None:
    """The `audit` console script and `python -m auditor`: `main`, then a quick exit (see `_exit`)."""
    _exit(main())


EXIT_GRACE = 2.0
"""Seconds the process waits at exit, after --timeout passed, for reads still running in worker threads."""


def _exit(code: int) -> NoReturn:
    """End the process without the interpreter's teardown, but only after everything teardown would do
    that anyone can observe: the exit handlers run (atexit: coverage's data file, logging's flush, whatever
    a plugin registered), then stdout and stderr are flushed. With a non-daemon thread still running, the
    normal exit (which waits for it) is taken instead, unless the run's --timeout passed: then the threads
    still running are reads the run stopped waiting for, given EXIT_GRACE seconds and then left behind.

    Why: after a run (~800 modules: the Azure SDKs, openai, jinja2) tearing the modules down one by one takes
    0.6-0.9 s for `audit --demo` and 1.3-1.8 s for `audit --demo --probe` on the 2-core CI machine, against
    25-75 ms this way (measured 2026-12-03 by timing sys.exit against os._exit after `main`). A CI gate or a
    nightly job gains nothing from the teardown. tests/test_exit.py pins that nothing is lost."""
    main_thread = threading.main_thread()
    running = [t for t in threading.enumerate() if t.is_alive() and not t.daemon and t is not main_thread]
    if running and not work_left_behind():
        sys.exit(code)
    # --timeout passed: what still runs is a read the run stopped waiting for (a stalled or dripping
    # answer); give it a moment to end on its own, then end the process without it
    give_up = time.monotonic() + EXIT_GRACE
    for thread in running:
        thread.join(max(0.0, give_up - time.monotonic()))
    try:
        atexit._run_exitfuncs()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Everything the `audit` command does, returning its exit code (tests and library callers use this)."""
    from auditor.cli.failures import configure_logging, print_error, report_crash

    argv = list(sys.argv[1:] if argv is None else argv)
    register_environment(os.environ)
    guard_logging()
    verbose = "--verbose" in argv
    configure_logging(verbose)
    try:
        return _dispatch(argv)
    except AuditorError as exc:
        return print_error(exc, verbose)
    except KeyboardInterrupt:
        print("audit: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # a bug: the traceback goes to a file, the exit code says which kind of failure
        return report_crash(exc, argv)


def _dispatch(argv: list[str]) -> int:
    """The subcommand named first, else the audit itself."""
    if argv and argv[0] == "kb":
        from auditor.cli.kb import run_kb

        return run_kb(argv[1:])
    if argv and argv[0] in ("rules", "contract"):
        from auditor.cli.subcommands import run_contract, run_info

        return run_info(argv) if argv[0] == "rules" else run_contract(argv)
    if argv and argv[0] == "history":
        from auditor.cli.nightly import run_history

        return run_history(argv)
    if argv and argv[0] == "merge":
        from auditor.cli.merge import run_merge

        return run_merge(argv)
    if argv and argv[0] in ("init", "config"):
        from auditor.cli.project import run_config, run_init

        return run_init(argv[1:]) if argv[0] == "init" else run_config(build_parser(), argv[1:])
    return run(argv)
