# SDK models type every field Optional; the assertions below read fields the simulator always sends.
# mypy: disable-error-code="union-attr,index"
"""The simulated tenant speaks Azure's wire protocol well enough for the real, unmodified SDKs.

Every test drives a real client (azure-identity, azure-mgmt-*, openai) against the simulator; nothing in
an SDK is patched. Environment variables are the only thing set, exactly as on an App Service host.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential, get_bearer_token_provider
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions
from azure.mgmt.subscription import SubscriptionClient
from openai.types.chat import ChatCompletionMessageParam

from auditor.demo.sim import (
    FaultRule,
    SimulatedTenant,
    TenantSpec,
    default_tenant_data,
    default_tenant_spec,
    load_tenant_spec,
)

SUB_A = "00000000-0000-4000-8000-000000000001"
SUB_B = "00000000-0000-4000-8000-000000000002"
DATA_SCOPE = "https://cognitiveservices.azure.com/.default"
TENANT_DIR = Path(__file__).resolve().parents[1] / "auditor" / "demo" / "tenant"
_ENV_TO_CLEAR = (
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "REQUESTS_CA_BUNDLE",
    "SSL_CERT_FILE",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)


_OPEN_CLIENTS: list[Any] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every SDK client and credential a test opened, so no socket outlives its test."""
    yield
    while _OPEN_CLIENTS:
        _OPEN_CLIENTS.pop().close()


def opened(client: Any) -> Any:
    _OPEN_CLIENTS.append(client)
    return client


@pytest.fixture
def tenant() -> Iterator[SimulatedTenant]:
    with SimulatedTenant() as simulated:
        yield simulated


def host_identity(monkeypatch: pytest.MonkeyPatch, simulated: SimulatedTenant) -> ManagedIdentityCredential:
    """What an App Service host provides: IDENTITY_ENDPOINT + IDENTITY_HEADER, nothing else."""
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    for name, value in simulated.identity_env().items():
        monkeypatch.setenv(name, value)
    return opened(ManagedIdentityCredential())


@pytest.fixture
def identity_env(tenant: SimulatedTenant, monkeypatch: pytest.MonkeyPatch) -> None:
    host_identity(monkeypatch, tenant)


@pytest.fixture
def credential(tenant: SimulatedTenant, monkeypatch: pytest.MonkeyPatch) -> ManagedIdentityCredential:
    return host_identity(monkeypatch, tenant)


def arm_kwargs(tenant: SimulatedTenant) -> dict[str, Any]:
    return {
        "base_url": tenant.management_url,
        "credential_scopes": [tenant.management_scope],
        "connection_verify": tenant.ca_path,
    }


def mgmt(tenant: SimulatedTenant, credential: Any, subscription: str = SUB_A) -> CognitiveServicesManagementClient:
    return opened(CognitiveServicesManagementClient(credential, subscription, **arm_kwargs(tenant)))


def aoai(tenant: SimulatedTenant, credential: Any, account: str, **kwargs: Any) -> openai.OpenAI:
    """The v1 client the Azure docs recommend: OpenAI(base_url=<endpoint>/openai/v1/, api_key=<token provider>)."""
    context = ssl.create_default_context(cafile=tenant.ca_path)
    return opened(
        openai.OpenAI(
            base_url=tenant.data_endpoint(account) + "openai/v1/",
            api_key=get_bearer_token_provider(credential, DATA_SCOPE),
            http_client=openai.DefaultHttpxClient(verify=context),
            **kwargs,
        )
    )


def raw_client(tenant: SimulatedTenant) -> httpx2.Client:
    return httpx2.Client(verify=ssl.create_default_context(cafile=tenant.ca_path))


HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


# --- lifecycle -----------------------------------------------------------------------------------------


def test_starts_fast_and_stops_without_leaking_threads() -> None:
    before = threading.active_count()
    started = time.perf_counter()
    simulated = SimulatedTenant().start()
    assert time.perf_counter() - started < 1.0
    ca_path = Path(simulated.ca_path)
    assert ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert simulated.management_url.startswith("https://127.0.0.1:")
    assert simulated.identity_endpoint.startswith("http://127.0.0.1:")
    with raw_client(simulated) as client:  # leave a keep-alive connection open on purpose
        assert client.get(simulated.management_url + "/subscriptions").status_code == 401
        simulated.stop()
    assert threading.active_count() == before
    assert not ca_path.exists()


def test_default_spec_matches_the_tenant_directory() -> None:
    assert load_tenant_spec(TENANT_DIR) == default_tenant_spec()


# --- management plane ----------------------------------------------------------------------------------


def test_subscriptions_and_accounts_of_every_kind(tenant: SimulatedTenant, credential: Any) -> None:
    subscriptions = list(opened(SubscriptionClient(credential, **arm_kwargs(tenant))).subscriptions.list())
    assert {(s.subscription_id, s.display_name) for s in subscriptions} == {
        (SUB_A, "contoso-prod"),
        (SUB_B, "contoso-dev"),
    }

    accounts_a = {a.name: a for a in mgmt(tenant, credential).accounts.list()}
    accounts_b = {a.name: a for a in mgmt(tenant, credential, SUB_B).accounts.list_by_resource_group("rg-dev")}
    assert {a.kind for a in accounts_a.values()} == {"OpenAI", "AIServices"}
    assert accounts_b["fabrikam-docintel"].kind == "FormRecognizer"

    locked = accounts_a["contoso-aoai-eus2"]
    assert locked.properties.disable_local_auth is True
    assert locked.properties.public_network_access == "Disabled"
    assert locked.properties.network_acls.default_action == "Deny"
    connection = locked.properties.private_endpoint_connections[0].properties
    assert connection.private_link_service_connection_state.status == "Approved"
    assert locked.identity.type == "SystemAssigned"
    assert locked.properties.endpoint == tenant.data_endpoint("contoso-aoai-eus2")
    assert locked.properties.endpoints["OpenAI Language Model Instance API"] == locked.properties.endpoint

    loose = mgmt(tenant, credential).accounts.get("rg-ai", "contoso-ai-swc")
    assert loose.properties.disable_local_auth is None
    assert loose.properties.network_acls is None
    assert loose.identity is None


def test_deployment_list_is_paged(tenant: SimulatedTenant, credential: Any) -> None:
    deployments = list(mgmt(tenant, credential).deployments.list("rg-ai", "contoso-aoai-eus2"))
    assert len(deployments) == 7  # six from the first demo, plus the provisioned ptu-chat
    pages = tenant.requests(plane="arm", path_pattern=r"/accounts/contoso-aoai-eus2/deployments$")
    assert len(pages) >= 2
    assert "$skipToken" in pages[1].query

    by_name = {d.name: d for d in deployments}
    chat = by_name["chat-prod"]
    assert (chat.properties.model.name, chat.properties.model.version, chat.sku.name, chat.sku.capacity) == (
        "gpt-4o",
        "2024-11-20",
        "GlobalStandard",
        50,
    )
    assert chat.properties.capabilities["chatCompletion"] == "true"
    assert {r.key: r.count for r in chat.properties.rate_limits} == {"request": 500.0, "token": 50000.0}

    swc = {d.name: d for d in mgmt(tenant, credential).deployments.list("rg-ai", "contoso-ai-swc")}
    assert swc["gpt-41-failed"].properties.provisioning_state == "Failed"
    assert swc["o3-mini"].properties.rai_policy_name is None
    assert swc["legacy-35"].properties.version_upgrade_option == "NoAutoUpgrade"

    one = mgmt(tenant, credential).deployments.get("rg-ai", "contoso-ai-swc", "embed-large")
    assert one.properties.capabilities["embeddings"] == "true"


def test_model_catalog_spans_pages_and_lists_both_kinds(tenant: SimulatedTenant, credential: Any) -> None:
    models = list(mgmt(tenant, credential).models.list("eastus2"))
    assert len(tenant.requests(plane="arm", path_pattern=r"/locations/eastus2/models$")) >= 2
    gpt4o = [m for m in models if m.model.name == "gpt-4o" and m.model.version == "2024-11-20"]
    assert sorted(str(m.kind) for m in gpt4o) == ["AIServices", "OpenAI"]
    assert all(isinstance(v, str) for m in models for v in (m.model.capabilities or {}).values())
    usage_names = {s.usage_name for m in models for s in m.model.skus}
    assert "OpenAI.GlobalStandard.gpt4.1-mini" in usage_names
    assert {m.kind for m in models if m.model.format == "Meta"} == {"AIServices", "MaaS"}

    swc = list(mgmt(tenant, credential).models.list("swedencentral"))
    legacy = next(m.model for m in swc if m.model.name == "gpt-35-turbo")
    assert legacy.lifecycle_status == "Deprecated"
    assert legacy.deprecation.inference == "2025-11-14T00:00:00Z"
    assert legacy.skus[0].deprecation_date.year == 2025

    westus3 = list(mgmt(tenant, credential, SUB_B).models.list("westus3"))
    assert not [m for m in westus3 if m.model.name == "gpt-4o" and m.model.version == "2024-05-13"]


def test_usages_sum_deployment_capacity_per_quota_line(tenant: SimulatedTenant, credential: Any) -> None:
    usages = {u.name.value: u for u in mgmt(tenant, credential).usages.list("eastus2")}
    line = usages["OpenAI.GlobalStandard.gpt4.1-mini"]
    assert (line.current_value, line.limit) == (190.0, 200.0)
    assert line.name.localized_value == "Tokens Per Minute (thousands) - 4.1-mini - GlobalStandard"
    assert usages["OpenAI.GlobalStandard.gpt-4o"].current_value == 50.0
    assert usages["OpenAI.S0.AccountCount"].current_value == 1.0

    westus3 = {u.name.value: u for u in mgmt(tenant, credential, SUB_B).usages.list("westus3")}
    assert westus3["OpenAI.Standard.gpt-4o"].current_value == 20.0  # deployment not in the local catalog

    filtered = list(
        mgmt(tenant, credential).usages.list("swedencentral", filter="name.value eq 'OpenAI.Standard.gpt-35-turbo'")
    )
    assert [(u.name.value, u.current_value) for u in filtered] == [("OpenAI.Standard.gpt-35-turbo", 30.0)]


def test_missing_resources_answer_like_arm(tenant: SimulatedTenant, credential: Any) -> None:
    client = mgmt(tenant, credential)
    with pytest.raises(ResourceNotFoundError) as missing_account:
        client.accounts.get("rg-ai", "no-such-account")
    assert missing_account.value.error.code == "ResourceNotFound"
    assert missing_account.value.error.message == (
        "The Resource 'Microsoft.CognitiveServices/accounts/no-such-account' under resource group 'rg-ai' was not "
        "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    )
    with pytest.raises(ResourceNotFoundError) as missing_deployment:
        client.deployments.get("rg-ai", "contoso-aoai-eus2", "nope")
    assert missing_deployment.value.error.code == "NotFound"
    assert missing_deployment.value.error.message.startswith(
        f"Specified resource '/subscriptions/{SUB_A}/resourceGroups/rg-ai/providers/"
    )
    with pytest.raises(ResourceNotFoundError) as missing_group:
        client.accounts.list_by_resource_group("rg-missing").next()
    assert missing_group.value.error.code == "ResourceGroupNotFound"


def test_resource_graph_pages_with_skip_token(tenant: SimulatedTenant, credential: Any) -> None:
    graph = opened(ResourceGraphClient(credential, **arm_kwargs(tenant)))
    query = "resources | where type =~ 'microsoft.cognitiveservices/accounts' | project id, name, kind, properties"
    rows: list[dict[str, Any]] = []
    skip_token = None
    while True:
        result = graph.resources(
            QueryRequest(
                subscriptions=[SUB_A, SUB_B], query=query, options=QueryRequestOptions(top=3, skip_token=skip_token)
            )
        )
        assert result.total_records == 4
        rows.extend(result.data)
        skip_token = result.skip_token
        if not skip_token:
            break
    assert len(tenant.requests(plane="graph")) == 2
    assert {r["name"] for r in rows} == {
        "contoso-aoai-eus2",
        "contoso-ai-swc",
        "fabrikam-aoai-wus",
        "fabrikam-docintel",
    }
    row = next(r for r in rows if r["name"] == "contoso-aoai-eus2")
    assert (row["type"], row["subscriptionId"], row["resourceGroup"]) == (
        "microsoft.cognitiveservices/accounts",
        SUB_A,
        "rg-ai",
    )
    assert row["properties"]["disableLocalAuth"] is True

    only_b = graph.resources(QueryRequest(subscriptions=[SUB_B], query=query))
    assert {r["subscriptionId"] for r in only_b.data} == {SUB_B}


def test_arm_rejects_missing_and_wrong_audience_tokens(tenant: SimulatedTenant) -> None:
    url = f"{tenant.management_url}/subscriptions/{SUB_A}/providers/Microsoft.CognitiveServices/accounts"
    with raw_client(tenant) as client:
        missing = client.get(url, params={"api-version": "2025-09-01"})
        data_token = tenant.issue_token(DATA_SCOPE)
        wrong = client.get(url, params={"api-version": "2025-09-01"}, headers={"Authorization": f"Bearer {data_token}"})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "AuthenticationFailed"
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    assert "x-ms-request-id" in missing.headers


def test_expired_token_surfaces_as_client_authentication_error(tenant: SimulatedTenant, credential: Any) -> None:
    client = mgmt(tenant, credential)
    list(client.accounts.list())
    tenant.expire_tokens()  # the credential still holds its cached (now expired on the server) token
    with pytest.raises(ClientAuthenticationError) as expired:
        list(client.accounts.list())
    assert expired.value.error.code == "ExpiredAuthenticationToken"


def test_injected_arm_throttling_is_retried_by_azure_core(tenant: SimulatedTenant, credential: Any) -> None:
    tenant.add_fault(
        FaultRule.arm_throttled(r"/accounts/contoso-ai-swc/deployments$", retry_after=1, subscription_id=SUB_A)
    )
    started = time.perf_counter()
    deployments = list(mgmt(tenant, credential).deployments.list("rg-ai", "contoso-ai-swc"))
    assert len(deployments) == 4
    assert time.perf_counter() - started >= 0.9  # Retry-After: 1 was honoured
    statuses = [r.status for r in tenant.requests(plane="arm", path_pattern=r"contoso-ai-swc/deployments$")]
    assert statuses == [429, 200]


def test_arm_latency_is_injected(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedTenant(arm_latency=0.2) as slow:
        credential = host_identity(monkeypatch, slow)
        started = time.perf_counter()
        mgmt(slow, credential).accounts.get("rg-ai", "contoso-ai-swc")
        assert time.perf_counter() - started >= 0.2


def test_writes_and_list_keys_are_answered_and_recorded(tenant: SimulatedTenant, credential: Any) -> None:
    token = credential.get_token(tenant.management_scope).token
    base = f"{tenant.management_url}/subscriptions/{SUB_A}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices"
    with raw_client(tenant) as client:
        auth = {"Authorization": f"Bearer {token}"}
        put = client.put(
            f"{base}/accounts/contoso-ai-swc/deployments/new",
            params={"api-version": "2025-09-01"},
            headers=auth,
            json={"sku": {"name": "Standard", "capacity": 1}},
        )
        keys = client.post(
            f"{base}/accounts/contoso-ai-swc/listKeys", params={"api-version": "2025-09-01"}, headers=auth
        )
    assert put.status_code == 403
    assert "Microsoft.CognitiveServices/accounts/deployments/write" in put.json()["error"]["message"]
    assert keys.status_code == 403
    assert keys.json()["error"]["code"] == "AuthorizationFailed"
    assert [r.method for r in tenant.served_writes()] == ["PUT", "POST"]
    assert tenant.list_keys_called()


def test_read_only_traffic_is_not_a_write(tenant: SimulatedTenant, credential: Any) -> None:
    list(mgmt(tenant, credential).accounts.list())
    opened(ResourceGraphClient(credential, **arm_kwargs(tenant))).resources(
        QueryRequest(subscriptions=[SUB_A], query="resources | where type =~ 'microsoft.cognitiveservices/accounts'")
    )
    aoai(tenant, credential, "contoso-aoai-eus2").chat.completions.create(model="chat-prod", messages=HELLO)
    assert tenant.served_writes() == []
    assert not tenant.list_keys_called()


# --- identity ------------------------------------------------------------------------------------------


def test_default_azure_credential_uses_the_app_service_endpoint(tenant: SimulatedTenant, identity_env: None) -> None:
    credential = opened(DefaultAzureCredential(exclude_interactive_browser_credential=True))
    token = credential.get_token(tenant.management_scope)
    assert token.expires_on > time.time() + 3600
    assert not token.token.startswith("eyJ")
    token_calls = tenant.requests(plane="token")
    assert token_calls and token_calls[-1].query["resource"] == tenant.management_url
    assert token_calls[-1].query["api-version"] == "2019-08-01"


def test_records_hold_no_secrets(tenant: SimulatedTenant, credential: Any) -> None:
    list(mgmt(tenant, credential).accounts.list())
    aoai(tenant, credential, "contoso-aoai-eus2").chat.completions.create(model="chat-prod", messages=HELLO)
    recorded = repr(tenant.records)
    handed_out = list(tenant.handed_out_secrets())
    assert len(handed_out) >= 3
    assert not [s for s in handed_out if s in recorded]
    assert "authorization" not in recorded.lower()


# --- data plane ----------------------------------------------------------------------------------------


def test_chat_success_body_and_headers(tenant: SimulatedTenant, credential: Any) -> None:
    raw = aoai(tenant, credential, "contoso-aoai-eus2").chat.completions.with_raw_response.create(
        model="chat-prod", messages=HELLO
    )
    completion = raw.parse()
    assert completion.model == "gpt-4o-2024-11-20"  # the model, not the deployment name
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens < 100
    body = json.loads(raw.http_response.text)
    assert body["prompt_filter_results"][0]["content_filter_results"]["jailbreak"] == {
        "filtered": False,
        "detected": False,
    }
    for header in ("apim-request-id", "x-ms-region", "x-ratelimit-remaining-requests", "x-ratelimit-remaining-tokens"):
        assert header in raw.headers
    assert raw.headers["x-ms-region"] == "East US 2"


def test_chat_on_responses_only_model_is_operation_not_supported(tenant: SimulatedTenant, credential: Any) -> None:
    client = aoai(tenant, credential, "contoso-aoai-eus2")
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model="codex", messages=HELLO)
    assert error.value.code == "OperationNotSupported"
    assert "with the specified model, gpt-5.1-codex." in error.value.message  # the model name, not "codex"
    assert client.responses.create(model="codex", input="hello").output_text


def test_missing_and_failed_deployments_are_deployment_not_found(tenant: SimulatedTenant, credential: Any) -> None:
    for account, deployment in (("contoso-aoai-eus2", "no-such-deployment"), ("contoso-ai-swc", "gpt-41-failed")):
        with pytest.raises(openai.NotFoundError) as error:
            aoai(tenant, credential, account).chat.completions.create(model=deployment, messages=HELLO)
        assert error.value.code == "DeploymentNotFound"


def test_reasoning_model_temperature_rules(tenant: SimulatedTenant, credential: Any) -> None:
    client = aoai(tenant, credential, "contoso-aoai-eus2")
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model="reasoner", messages=HELLO, temperature=0.7)
    assert error.value.code == "unsupported_value"
    assert error.value.param == "temperature"
    assert error.value.body["message"] == (
        "Unsupported value: 'temperature' does not support 0.7 with this model. Only the default (1) value is "
        "supported."
    )
    assert error.value.response.text.startswith('{\n  "error": {\n    "message": ')  # pretty-printed
    assert client.chat.completions.create(model="reasoner", messages=HELLO, temperature=1).choices

    with pytest.raises(openai.BadRequestError) as max_tokens:
        client.chat.completions.create(model="reasoner", messages=HELLO, max_tokens=50)
    assert (max_tokens.value.code, max_tokens.value.param) == ("unsupported_parameter", "max_tokens")

    swc = aoai(tenant, credential, "contoso-ai-swc")
    with pytest.raises(openai.BadRequestError) as any_temperature:
        swc.chat.completions.create(model="o3-mini", messages=HELLO, temperature=1)
    assert any_temperature.value.code == "unsupported_parameter"


def test_responses_parameter_errors(tenant: SimulatedTenant, credential: Any) -> None:
    client = aoai(tenant, credential, "contoso-aoai-eus2")
    with pytest.raises(openai.BadRequestError) as messages:
        client.responses.create(model="gpt-5-pro", input="hello", extra_body={"messages": HELLO})
    assert (messages.value.code, messages.value.param) == ("unknown_parameter", "messages")
    assert messages.value.body["message"] == "Unknown parameter: 'messages'."
    with pytest.raises(openai.BadRequestError) as too_small:
        client.responses.create(model="gpt-5-pro", input="hello", max_output_tokens=10)
    assert too_small.value.code == "integer_below_min_value"
    assert "Expected a value >= 16, but got 10 instead." in too_small.value.message


def test_content_filter_rejects_the_trigger_word(tenant: SimulatedTenant, credential: Any) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        aoai(tenant, credential, "contoso-aoai-eus2").chat.completions.create(
            model="chat-prod", messages=[{"role": "user", "content": "please simulate-content-filter now"}]
        )
    body = error.value.body
    assert error.value.code == "content_filter"
    assert body["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert body["innererror"]["content_filter_result"]["sexual"] == {"filtered": True, "severity": "high"}


def test_rate_limited_deployment_is_retried_after_retry_after(tenant: SimulatedTenant, credential: Any) -> None:
    started = time.perf_counter()
    completion = aoai(tenant, credential, "contoso-aoai-eus2").chat.completions.create(
        model="bulk-41mini", messages=HELLO
    )
    assert completion.model == "gpt-4.1-mini-2025-04-14"
    assert time.perf_counter() - started >= 0.9
    calls = tenant.requests(plane="data", path_pattern=r"/chat/completions$")
    assert [c.status for c in calls] == [429, 200]


def test_rate_limit_response_carries_azure_headers(tenant: SimulatedTenant, credential: Any) -> None:
    client = aoai(tenant, credential, "contoso-aoai-eus2", max_retries=0)
    with pytest.raises(openai.RateLimitError) as error:
        client.chat.completions.create(model="bulk-41mini", messages=HELLO)
    headers = error.value.response.headers
    assert error.value.code == "RateLimitReached"
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("1", "1000")
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert "apim-request-id" in headers


def test_principal_without_data_role_gets_permission_denied(tenant: SimulatedTenant, credential: Any) -> None:
    with pytest.raises(openai.AuthenticationError) as error:
        aoai(tenant, credential, "fabrikam-aoai-wus").chat.completions.create(model="dev-mini", messages=HELLO)
    assert error.value.status_code == 401
    assert error.value.code == "PermissionDenied"
    assert tenant.spec.caller.principal_id in error.value.message


def test_wrong_audience_token_on_data_plane(tenant: SimulatedTenant, credential: Any) -> None:
    management_token = credential.get_token(tenant.management_scope).token
    context = ssl.create_default_context(cafile=tenant.ca_path)
    client = opened(
        openai.OpenAI(
            base_url=tenant.data_endpoint("contoso-ai-swc") + "openai/v1/",
            api_key=management_token,
            http_client=openai.DefaultHttpxClient(verify=context),
            max_retries=0,
        )
    )
    with pytest.raises(openai.AuthenticationError) as error:
        client.chat.completions.create(model="legacy-35", messages=HELLO)
    assert error.value.body == {
        "statusCode": 401,
        "message": (
            "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), "
            "or have expired."
        ),
    }


def test_key_auth(tenant: SimulatedTenant) -> None:
    context = ssl.create_default_context(cafile=tenant.ca_path)

    def legacy_client(account: str, key: str) -> openai.AzureOpenAI:
        return opened(
            openai.AzureOpenAI(
                azure_endpoint=tenant.data_endpoint(account),
                api_key=key,
                api_version="2024-10-21",
                http_client=openai.DefaultHttpxClient(verify=context),
                max_retries=0,
            )
        )

    with pytest.raises(openai.PermissionDeniedError) as disabled:
        legacy_client("contoso-aoai-eus2", "0" * 32).chat.completions.create(model="chat-prod", messages=HELLO)
    assert disabled.value.status_code == 403
    assert disabled.value.code == "AuthenticationTypeDisabled"

    with pytest.raises(openai.AuthenticationError) as wrong_key:
        legacy_client("contoso-ai-swc", "0" * 32).chat.completions.create(model="legacy-35", messages=HELLO)
    assert wrong_key.value.code == "401"
    assert wrong_key.value.response.headers["content-length"] == "224"  # byte-exact with the real capture

    key = tenant.account_keys("contoso-ai-swc")[0]
    assert (
        legacy_client("contoso-ai-swc", key).chat.completions.create(model="legacy-35", messages=HELLO).model
        == "gpt-35-turbo"
    )
    assert tenant.requests(plane="data")[-1].path.endswith("/openai/deployments/legacy-35/chat/completions")


def test_embeddings_model_refuses_chat(tenant: SimulatedTenant, credential: Any) -> None:
    client = aoai(tenant, credential, "contoso-ai-swc")
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model="embed-large", messages=HELLO)
    assert error.value.code == "OperationNotSupported"
    assert "text-embedding-3-large" in error.value.message
    assert len(client.embeddings.create(model="embed-large", input="hello").data[0].embedding) == 3072


def test_streaming_chat(tenant: SimulatedTenant, credential: Any) -> None:
    stream = aoai(tenant, credential, "contoso-aoai-eus2").chat.completions.create(
        model="chat-prod", messages=HELLO, stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.startswith("Hello")


def test_data_latency_is_injected(monkeypatch: pytest.MonkeyPatch) -> None:
    with SimulatedTenant(data_latency=0.2) as slow:
        credential = host_identity(monkeypatch, slow)
        started = time.perf_counter()
        aoai(slow, credential, "contoso-aoai-eus2").chat.completions.create(model="chat-prod", messages=HELLO)
        assert time.perf_counter() - started >= 0.2


def test_custom_spec_network_system_role_and_server_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    data = default_tenant_data()
    data["caller"]["network"] = "public"
    swc = data["subscriptions"][0]["resourceGroups"][0]["accounts"][1]
    swc["deployments"].append(
        {
            "name": "tiny-reasoner",
            "model": {"format": "OpenAI", "name": "o1-mini", "version": "2024-09-12"},
            "sku": {"name": "GlobalStandard", "capacity": 1},
        }
    )
    swc["deployments"].append(
        {
            "name": "flaky",
            "model": {"name": "gpt-4o-mini", "version": "2024-07-18"},
            "sku": {"name": "GlobalStandard", "capacity": 1},
            "simulate": {"serverErrorFirstCalls": 1},
        }
    )
    with SimulatedTenant(TenantSpec.from_mapping(data)) as custom:
        credential = host_identity(monkeypatch, custom)
        with pytest.raises(openai.PermissionDeniedError) as blocked:
            aoai(custom, credential, "contoso-aoai-eus2").chat.completions.create(model="chat-prod", messages=HELLO)
        assert blocked.value.body["message"] == "Public access is disabled. Please configure private endpoint."

        with pytest.raises(openai.BadRequestError) as system_role:
            aoai(custom, credential, "contoso-ai-swc").chat.completions.create(
                model="tiny-reasoner", messages=[{"role": "system", "content": "be brief"}, *HELLO]
            )
        assert (system_role.value.code, system_role.value.param) == ("unsupported_value", "messages[0].role")
        assert system_role.value.response.headers["content-length"] == "221"  # as captured from Azure

        flaky = aoai(custom, credential, "contoso-ai-swc").chat.completions.create(model="flaky", messages=HELLO)
        assert flaky.model == "gpt-4o-mini-2024-07-18"
        assert [r.status for r in custom.requests(plane="data", path_pattern="chat/completions$")][-2:] == [500, 200]


def test_invalid_spec_is_reported_with_its_place() -> None:
    data = default_tenant_data()
    data["catalog"][0]["model"]["capabilities"]["maxContextToken"] = 128000
    with pytest.raises(ValueError, match=r"catalog/eastus2\.yaml: models\[0\]\.model\.capabilities\.maxContextToken"):
        TenantSpec.from_mapping(data)


def test_unknown_data_plane_path_is_resource_not_found(tenant: SimulatedTenant) -> None:
    with raw_client(tenant) as client:
        missing_version = client.post(
            tenant.data_endpoint("contoso-ai-swc") + "openai/deployments/legacy-35/chat/completions", json={}
        )
        dated_v1 = client.post(
            tenant.data_endpoint("contoso-ai-swc") + "openai/v1/chat/completions",
            params={"api-version": "2024-10-21"},
            headers={"api-key": tenant.account_keys("contoso-ai-swc")[0]},
            json={},
        )
    assert missing_version.status_code == 404
    assert missing_version.text == '{"error":{"code":"404","message": "Resource not found"}}'
    assert dated_v1.status_code == 400
    assert dated_v1.json() == {"error": {"code": "BadRequest", "message": "API version not supported"}}


def test_server_error_fault_on_arm(tenant: SimulatedTenant, credential: Any) -> None:
    tenant.add_fault(FaultRule.server_error(r"/accounts/contoso-ai-swc$", times=None, plane="arm"))
    with pytest.raises(HttpResponseError) as error:
        mgmt(tenant, credential).accounts.get("rg-ai", "contoso-ai-swc", retry_total=0)
    assert error.value.status_code == 500


# --- hostile shapes (issue 12) ---------------------------------------------------------------------------


def _with_extras() -> TenantSpec:
    """The demo tenant plus a subscription the caller may not read, a bare deployment and a 2021-era one."""
    data = default_tenant_data()
    data["subscriptions"].append(
        {
            "subscriptionId": "00000000-0000-4000-8000-000000000003",
            "displayName": "contoso-locked",
            "simulate": {"deny": "AuthorizationFailed"},
            "resourceGroups": [
                {
                    "name": "rg-locked",
                    "location": "eastus2",
                    "accounts": [{"name": "locked-aoai", "kind": "OpenAI", "location": "eastus2"}],
                }
            ],
        }
    )
    swc = data["subscriptions"][0]["resourceGroups"][0]["accounts"][1]
    swc["deployments"] += [
        {
            "name": "bare",
            "model": {"name": "gpt-4o-mini", "version": "2024-07-18"},
            "sku": {"name": "GlobalStandard", "capacity": 1},
            "simulate": {"bareBody": True},
        },
        {
            "name": "scaled-2021",
            "model": {"name": "gpt-35-turbo", "version": "0125"},
            "properties": {"scaleSettings": {"scaleType": "Standard", "capacity": 2}},
        },
    ]
    return TenantSpec.from_mapping(data)


def test_a_subscription_can_answer_403_authorization_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    locked = "00000000-0000-4000-8000-000000000003"
    with SimulatedTenant(_with_extras()) as simulated:
        credential = host_identity(monkeypatch, simulated)
        with pytest.raises(HttpResponseError) as denied:
            list(mgmt(simulated, credential, locked).accounts.list())
        assert denied.value.status_code == 403 and denied.value.error.code == "AuthorizationFailed"
        assert "'Microsoft.CognitiveServices/accounts/read'" in denied.value.error.message
        assert f"over scope '/subscriptions/{locked}/providers/Microsoft.CognitiveServices/accounts'" in (
            denied.value.error.message
        )
        subs = [
            s.subscription_id
            for s in opened(SubscriptionClient(credential, **arm_kwargs(simulated))).subscriptions.list()
        ]
        assert locked in subs  # the caller sees the subscription, but may not read its accounts
        graph = opened(ResourceGraphClient(credential, **arm_kwargs(simulated)))
        rows = graph.resources(
            QueryRequest(
                subscriptions=[locked], query="resources | where type =~ 'microsoft.cognitiveservices/accounts'"
            )
        ).data
        assert rows == []  # Resource Graph leaves unreadable subscriptions out


def test_deployment_shapes_follow_the_api_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """deploymentState from 2026-03-01 only; bare bodies as GetDeployment.json; scaleSettings without sku."""
    with SimulatedTenant(_with_extras()) as simulated:
        credential = host_identity(monkeypatch, simulated)
        with raw_client(simulated) as client:
            token = simulated.issue_token(simulated.management_scope)
            base = f"{simulated.management_url}/subscriptions/{SUB_A}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/contoso-ai-swc/deployments/"

            def get(name: str, version: str) -> dict[str, Any]:
                answer = client.get(
                    base + name, params={"api-version": version}, headers={"Authorization": f"Bearer {token}"}
                )
                assert answer.status_code == 200
                body: dict[str, Any] = answer.json()
                return body

            assert "deploymentState" not in get("o3-mini", "2025-09-01")["properties"]
            assert get("o3-mini", "2026-03-01")["properties"]["deploymentState"] == "Running"
            bare = get("bare", "2025-09-01")
            assert set(bare["properties"]) == {"model", "provisioningState"}
            old = get("scaled-2021", "2025-09-01")
            assert "sku" not in old and old["properties"]["scaleSettings"] == {"scaleType": "Standard", "capacity": 2}
        sdk_old = mgmt(simulated, credential).deployments.get("rg-ai", "contoso-ai-swc", "scaled-2021")
        assert sdk_old.sku is None and sdk_old.properties.scale_settings.capacity == 2


def test_built_in_policies_are_not_listed_but_answer_a_get(tenant: SimulatedTenant, credential: Any) -> None:
    client = mgmt(tenant, credential, SUB_B)
    listed = [p.name for p in client.rai_policies.list("rg-dev", "fabrikam-aoai-wus")]
    assert listed == ["dev-relaxed"]
    assert client.rai_policies.get("rg-dev", "fabrikam-aoai-wus", "Microsoft.DefaultV2").name == "Microsoft.DefaultV2"


def test_catalog_is_as_irregular_as_azure(tenant: SimulatedTenant, credential: Any) -> None:
    swc = list(mgmt(tenant, credential).models.list("swedencentral"))
    assert {str(m.kind) for m in swc if m.model.name == "o3-mini"} == {"OpenAI"}  # one kind only
    legacy = next(m.model for m in swc if m.model.name == "gpt-35-turbo")
    assert {"completion", "chat", "maxTotalToken"} <= set(legacy.capabilities or {})  # the older keys
    eus2 = list(mgmt(tenant, credential).models.list("eastus2"))
    old4o = next(m.model for m in eus2 if m.model.version == "2024-05-13" and m.kind == "OpenAI")
    assert old4o.deprecation.deprecation_status == "Tentative"
    assert "provisioned" in {s.name for s in old4o.skus}  # a lower-case SKU name
    assert next(m.model for m in eus2 if m.model.version == "2024-08-06").is_default_version is None
