"""`--demo`: the embedded simulated tenant, started and signed in to for one command (`audit --demo`,
`audit kb refresh --from-catalog --demo`)."""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential


def demo_environment(stack: ExitStack, args: argparse.Namespace) -> tuple[TokenCredential, str]:
    """Start the simulated tenant and sign in to it the way a managed identity signs in to Azure."""
    from azure.identity import DefaultAzureCredential

    from auditor.demo.sim import SimulatedTenant
    from auditor.model.clouds import get_cloud

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
    from dataclasses import replace

    args.cloud_obj = replace(get_cloud(args.cloud, tenant.management_url), logs_endpoint=tenant.logs_endpoint)
    if not args.resource:
        args.all_accounts = True
    if args.contract is None and args.contract_from is None and not getattr(args, "shard_obj", None):  # a shard: none
        from importlib.resources import files

        args.contract = Path(str(files("auditor.demo").joinpath("contract.yaml")))
    return credential, tenant.ca_path
