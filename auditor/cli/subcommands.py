"""The `audit` subcommands that do not audit: `audit rules [explain ID]` and `audit contract scan`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from auditor.model.errors import InputError
from auditor.util.redact import printable


def run_info(argv: Sequence[str]) -> int:
    """`audit rules [explain ID]`: the rules, or one rule's page, without touching Azure (`audit kb` is
    auditor/cli/kb.py)."""
    from auditor.engine.rules import every_rule, load_rules
    from auditor.render.docs import explain, rules_markdown

    parser = argparse.ArgumentParser(prog="audit rules", description="List the rules, or explain one.")
    parser.add_argument("action", nargs="?", choices=["list", "explain"], default="list")
    parser.add_argument("rule_id", nargs="?", help="with explain: the rule id, e.g. AOAI-API-001")
    parser.add_argument(
        "--rules", action="append", default=[], type=Path, metavar="DIR", help="include an extra rule pack"
    )
    parser.add_argument(
        "--policy", type=Path, metavar="FILE", help="include the rules an organisation's policy file compiles to"
    )
    args = parser.parse_args(argv[1:])
    rules = load_rules(args.rules)
    if args.policy:
        from auditor.engine.policy import load_policy

        rules = [*rules, *load_policy(args.policy).rules()]
    if args.action == "explain":
        # every rule a report can name: the audit's, the policy's and the gate's own (the waiver rules)
        known = [*rules, *(r for r in every_rule() if r.id not in {k.id for k in rules})]
        match = [r for r in known if args.rule_id and r.id.lower() == args.rule_id.lower()]
        if not match:
            raise InputError(f"no rule with id {args.rule_id!r} (see audit rules)")
        sys.stdout.write(explain(match[0]))
    else:
        sys.stdout.write(rules_markdown(rules))
    return 0


CONTRACT_EXAMPLES = """\
examples:
  audit contract scan ./app                     print the contract derived from ./app's Python source
  audit contract scan ./app --out app-contract.yaml --application support-bot
  audit contract scan ./app --format json       the same contract as JSON (for other tools)
  audit contract scan notebook.ipynb            one notebook (or one .py / .prompty file)
  audit --resource myres --contract app-contract.yaml      then audit against it (or: --contract-from ./app)
"""


def run_contract(argv: Sequence[str]) -> int:
    """`audit contract scan PATH`: the app contract from the app's own source (read with `ast`, never run)."""
    from auditor.sources.scan import contract_json, contract_yaml, scan

    parser = argparse.ArgumentParser(
        prog="audit contract",
        epilog=CONTRACT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Derive the app contract from the application's source, read and never run: Python files, "
        "notebooks (.ipynb code cells) and Prompty files (.prompty front matter). Every call through the openai SDK "
        "(OpenAI, AzureOpenAI, async: chat, responses, completions, embeddings, images, audio, realtime, videos, "
        "assistants), LangChain, the OpenAI Agents SDK, AutoGen (classes and component configs), Semantic Kernel, "
        "LlamaIndex, azure-ai-evaluation model configs, Foundry agents, Prompty and the pre-1.0 openai module API, "
        "with its deployment name, API, keyword parameters (and the condition a parameter is sent under) and the "
        "file:line it is made at. Deployment names the code cannot tell (a function argument) are listed as "
        "unresolved, not guessed; files it could not read are listed as unread.",
    )
    parser.add_argument("action", choices=["scan"], help="scan: read the source and write the contract")
    parser.add_argument("path", type=Path, help="a directory (scanned recursively) or one .py, .ipynb or .prompty file")
    parser.add_argument(
        "--format",
        choices=["yaml", "json"],
        default="yaml",
        help="the contract's format (default: yaml, with a header)",
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the contract here (default: standard output)")
    parser.add_argument(
        "--application", metavar="NAME", help="the application name to record (default: the directory name)"
    )
    parser.add_argument(
        "--include-tests",
        action="store_true",
        help="also scan tests/ directories, test_*.py and conftest.py (left out by default: mocks are not calls)",
    )
    args = parser.parse_args(argv[1:])
    result = scan(args.path, include_tests=args.include_tests)
    application = args.application or (args.path.resolve().name if args.path.is_dir() else args.path.stem)
    if args.format == "json":
        text = contract_json(result, application)
    else:
        text = contract_yaml(result, str(args.path), application)
    for problem in result.skipped:
        print(printable(f"audit: warning: unread: {problem}"), file=sys.stderr)
    for note in result.notes:
        print(printable(f"audit: note: {note}"), file=sys.stderr)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        found = len(result.calls)
        unresolved = sum(1 for c in result.calls if c.deployment is None)
        unread = f", {len(result.skipped)} file(s) or cell(s) not read" if result.skipped else ""
        print(
            printable(
                f"Wrote {args.out}: {found} call(s), {unresolved} with a deployment name only known at run time{unread}."
            )
        )
    else:
        sys.stdout.write(text)
    return 0
