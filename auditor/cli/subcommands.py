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
  audit --resource myres --contract app-contract.yaml      then audit against it (or: --contract-from ./app)
"""


def run_contract(argv: Sequence[str]) -> int:
    """`audit contract scan PATH`: the app contract from the app's own source (read with `ast`, never run)."""
    from auditor.sources.scan import contract_yaml, scan

    parser = argparse.ArgumentParser(
        prog="audit contract",
        epilog=CONTRACT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Derive the app contract from the application's Python source: every call through the openai "
        "SDK (OpenAI, AzureOpenAI, async variants) with its deployment name, API and keyword parameters, and the "
        "file:line it is made at. Deployment names the code cannot tell (a function argument) are listed as "
        "unresolved, not guessed.",
    )
    parser.add_argument("action", choices=["scan"], help="scan: read the source and write the contract")
    parser.add_argument("path", type=Path, help="a directory (scanned recursively) or one .py file")
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
    text = contract_yaml(result, str(args.path), application)
    for problem in result.skipped:
        print(printable(f"audit: warning: {problem}"), file=sys.stderr)
    for note in result.notes:
        print(printable(f"audit: note: {note}"), file=sys.stderr)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        found = len(result.calls)
        unresolved = sum(1 for c in result.calls if c.deployment is None)
        print(
            printable(f"Wrote {args.out}: {found} call(s), {unresolved} with a deployment name only known at run time.")
        )
    else:
        sys.stdout.write(text)
    return 0
