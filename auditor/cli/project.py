"""`audit init` and `audit config`: set a repository up for the auditor, and show what a run would use.

`audit init` writes a starter configuration (.aoai-audit.toml), app contract, waivers file and CI pipeline into a
repository, from the files shipped in the package (auditor/cli/starter/, rules/examples/); it never overwrites a
file unless --force. `audit config` prints the effective settings of `audit [flags]` here, each with where it came
from (the command line, the configuration file, or the default), and `audit config --schema` the JSON Schema of the
configuration file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from auditor.model.errors import InputError
from auditor.util.redact import printable

CI_CHOICES = ("github", "azure-devops", "both", "none")


def _starter(name: str) -> Path:
    return Path(str(files("auditor.cli").joinpath("starter").joinpath(name)))


def _plan(ci: str) -> list[tuple[Path, str]]:
    """(source, destination relative to the repository) for each file init writes."""
    from auditor.util.resources import shipped_example

    contract = shipped_example("examples", "app-contract")
    waivers = shipped_example("examples", "audit-waivers")
    assert contract is not None and waivers is not None, "the package ships its examples"
    plan = [
        (_starter("aoai-audit.toml"), ".aoai-audit.toml"),
        (contract, "app-contract.yaml"),
        (waivers, "audit-waivers.yaml"),
    ]
    if ci in ("github", "both"):
        plan.append((_starter("github/release-gate.yml"), ".github/workflows/aoai-audit.yml"))
    if ci in ("azure-devops", "both"):
        plan.append((_starter("azure-devops/azure-pipelines.yml"), ".azure-pipelines/aoai-audit.yml"))
    return plan


def _init_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audit init",
        description="Write a starter configuration (.aoai-audit.toml), app contract, waivers file and CI pipeline "
        "into a repository; existing files are kept unless --force.",
    )
    parser.add_argument("directory", nargs="?", type=Path, default=Path("."), help="the repository (default: here)")
    parser.add_argument(
        "--ci",
        default="github",
        metavar="WHICH",
        help="which pipeline to write: github (default), azure-devops, both or none",
    )
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")
    return parser


def run_init(argv: Sequence[str]) -> int:
    args = _init_parser().parse_args(argv)
    if args.ci not in CI_CHOICES:
        raise InputError(f"unknown --ci value {args.ci!r}: choose {', '.join(CI_CHOICES)}")
    root: Path = args.directory
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: not a directory")
    for source, relative in _plan(args.ci):
        target = root / relative
        if target.exists() and not args.force:
            print(printable(f"kept    {target} (it exists; --force overwrites it)"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        print(printable(f"wrote   {target}"))
    print(
        "next: describe what the app sends in app-contract.yaml (or `audit contract scan SRC --out app-contract.yaml`),\n"
        "      then run `audit --resource NAME` (signed in with `az login`), or `audit --offline --plan FILE`;\n"
        "      `audit config` shows the settings a run will use."
    )
    return 0


def run_config(parser: argparse.ArgumentParser, argv: Sequence[str]) -> int:
    """Print the effective settings (TOML-like, `key = value  # source`), or the schema with --schema."""
    from auditor.cli.config import apply_config, config_schema, effective

    parser.prog = "audit config"
    parser.description = (
        "Print the settings `audit [flags]` would use here, each with where it came from: the command line, the "
        "configuration file (found from the working directory upwards, or --config), or the default."
    )
    parser.epilog = None
    parser.add_argument("--schema", action="store_true", help="print the configuration file's JSON Schema instead")
    settings = apply_config(parser, argv)
    if settings.args.schema:
        print(json.dumps(config_schema(parser), indent=2))
        return 0
    where = settings.file if settings.file is not None else "none (looked for .aoai-audit.toml and pyproject.toml)"
    print(printable(f"# configuration file: {where}"))
    rows = [(key, value, source) for key, value, source in effective(settings, parser) if key != "deployments"]
    width = max(len(key) for key, _, _ in rows)
    for key, value, source in rows:
        shown = "(not set)" if value is None else json.dumps(value, ensure_ascii=False)
        print(printable(f"{key:<{width}} = {shown}  # {source}"))
    if settings.deployments:
        print(printable(f"# deployments (for --offline), from {settings.sources['deployments']}:"))
        for name, spec in settings.deployments.items():
            print(printable(f"[deployments.{name}] " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in spec.items())))
    sys.stdout.flush()
    return 0
