# mypy: disable-error-code="arg-type,union-attr"
# The SDK types read-only attributes as Optional; this minimal client dereferences them as written.
"""The least a program can do with the auditor's SDKs to probe a fleet: the floor under any auditor.

Only what a probe needs, and all of it concurrent on one pool of --concurrency threads: the subscriptions, each
subscription's accounts, each account's deployments, then Chat Completions and Responses on every deployment
(the auditor's two probes), through azure-identity, azure-mgmt-cognitiveservices and openai exactly as the
auditor uses them. The openai import starts first, in a thread of its own, overlapping everything it can. No
rules, knowledge base, catalog, quota, content filters or reports. Configured through the environment like the
auditor (the managed-identity variables, REQUESTS_CA_BUNDLE / SSL_CERT_FILE) plus BENCH_MANAGEMENT_URL.

    python tests/benchmarks/sdk_floor.py [--concurrency 16]
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    imported = threading.Event()
    modules: dict[str, Any] = {}

    def import_openai() -> None:
        import openai

        modules["openai"] = openai
        imported.set()

    threading.Thread(target=import_openai, daemon=True).start()

    from azure.identity import DefaultAzureCredential, get_bearer_token_provider
    from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
    from azure.mgmt.subscription import SubscriptionClient

    base = os.environ["BENCH_MANAGEMENT_URL"]
    scopes = [base + "/.default"]
    credential = DefaultAzureCredential()
    pool = ThreadPoolExecutor(max_workers=args.concurrency)

    def deployments(client: Any, account: Any) -> list[tuple[Any, Any]]:
        return [(account, d) for d in client.deployments.list(account.id.split("/")[4], account.name)]

    def accounts(subscription_id: str) -> list[Future[list[tuple[Any, Any]]]]:
        client = CognitiveServicesManagementClient(credential, subscription_id, base_url=base, credential_scopes=scopes)
        return [
            pool.submit(deployments, client, a) for a in client.accounts.list() if a.kind in ("OpenAI", "AIServices")
        ]

    listing = SubscriptionClient(credential, base_url=base, credential_scopes=scopes).subscriptions.list()
    per_subscription = [pool.submit(accounts, s.subscription_id) for s in listing]
    imported.wait()
    openai = modules["openai"]
    token = get_bearer_token_provider(credential, "https://cognitiveservices.azure.com/.default")
    http_client = openai.DefaultHttpxClient(verify=ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]))
    clients: dict[str, Any] = {}

    def probe(account: Any, deployment: Any, api: str) -> None:
        client = clients[account.id]
        if api == "responses":
            client.responses.with_raw_response.create(model=deployment.name, input="Hi", max_output_tokens=16)
        else:
            client.chat.completions.with_raw_response.create(
                model=deployment.name, messages=[{"role": "user", "content": "Hi"}], max_completion_tokens=16
            )

    probes = []
    for subscription in per_subscription:
        for account_job in subscription.result():
            for account, deployment in account_job.result():
                if account.id not in clients:
                    clients[account.id] = openai.OpenAI(
                        base_url=account.properties.endpoint + "openai/v1/",
                        api_key=token,
                        http_client=http_client,
                        max_retries=0,
                    )
                probes += [pool.submit(probe, account, deployment, api) for api in ("chat", "responses")]
    for job in probes:
        job.result()
    print(f"probe calls: {len(probes)}")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # as the auditor does (auditor/cli: _exit): the interpreter's teardown is not the SDKs' cost
