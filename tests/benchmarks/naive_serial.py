# mypy: disable-error-code="arg-type"
# The SDK types read-only attributes as Optional; this deliberately naive client dereferences them as written.
"""What a person would write to check a fleet with the same SDKs: everything in turn, one call at a time.

For every account, for every deployment: read the region's model catalog and quota (again), then probe
Chat Completions and Responses. Configured through the environment like the auditor (the managed-identity
variables, REQUESTS_CA_BUNDLE / SSL_CERT_FILE) plus BENCH_MANAGEMENT_URL.
"""

from __future__ import annotations

import os
import ssl
import sys

import openai
from azure.identity import DefaultAzureCredential, get_bearer_token_provider
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.subscription import SubscriptionClient


def main() -> int:
    base = os.environ["BENCH_MANAGEMENT_URL"]
    scopes = [base + "/.default"]
    credential = DefaultAzureCredential()
    token = get_bearer_token_provider(credential, "https://cognitiveservices.azure.com/.default")
    http_client = openai.DefaultHttpxClient(verify=ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]))
    calls = 0
    subscriptions = SubscriptionClient(credential, base_url=base, credential_scopes=scopes).subscriptions.list()
    for subscription in subscriptions:
        client = CognitiveServicesManagementClient(
            credential, subscription.subscription_id, base_url=base, credential_scopes=scopes
        )
        for account in client.accounts.list():
            if account.kind not in ("OpenAI", "AIServices"):
                continue
            resource_group = account.id.split("/")[4]
            for deployment in client.deployments.list(resource_group, account.name):
                catalog = list(client.models.list(account.location))
                usages = list(client.usages.list(account.location))
                offered = any(m.model.name == deployment.properties.model.name for m in catalog)
                quota = [u for u in usages if u.limit]
                probe = openai.OpenAI(
                    base_url=account.properties.endpoint + "openai/v1/",
                    api_key=token,
                    http_client=http_client,
                    max_retries=0,
                )
                probe.chat.completions.create(
                    model=deployment.name, messages=[{"role": "user", "content": "Hi"}], max_completion_tokens=16
                )
                probe.responses.create(model=deployment.name, input="Hi", max_output_tokens=16)
                calls += 2
                print(f"{account.name}/{deployment.name}: offered={offered} quota_lines={len(quota)}", file=sys.stderr)
    print(f"probe calls: {calls}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
