"""The enumerator: reads accounts, deployments, the location catalog and quota through the
management SDK, and turns SDK objects into the fact model (through sources/arm_shapes.py, which with this
module is all that knows SDK shapes).

Read-only by construction: it calls list/get operations and nothing else (no listKeys, no writes).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from auditor.model.clouds import Cloud
from auditor.model.enums import Discovery
from auditor.model.errors import AuditorError, SignInError, TargetNotFoundError
from auditor.model.facts import (
    Account,
    CatalogModel,
    CollectionGap,
    ContentFilterPolicy,
    Deployment,
    QuotaUsage,
    Region,
)
from auditor.sources.arm_shapes import AccountRef as AccountRef
from auditor.sources.arm_shapes import account_from_sdk as account_from_sdk
from auditor.sources.arm_shapes import account_model_from_sdk as account_model_from_sdk
from auditor.sources.arm_shapes import catalog_model_from_sdk as catalog_model_from_sdk
from auditor.sources.arm_shapes import deployment_from_sdk as deployment_from_sdk
from auditor.sources.arm_shapes import rai_policy_from_sdk as rai_policy_from_sdk
from auditor.sources.arm_shapes import usage_from_sdk as usage_from_sdk

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from auditor.sources.monitor import LogsReader, MonitorReader

OPENAI_KINDS = ("openai", "aiservices")
RESOURCE_GRAPH_QUERY = (
    "resources | where type =~ 'microsoft.cognitiveservices/accounts' | where kind in~ ('OpenAI', 'AIServices') "
    "| project id, name, type, kind, location, resourceGroup, subscriptionId, sku, properties, identity, tags "
    "| order by id asc"
)
DISCOVERY_MODES = ("auto", "resource-graph", "list")
DEPLOYMENTS_API_VERSION = "2026-03-01"
"""The api-version deployments are listed with. The installed SDK (14.1) sends 2025-09-01, whose schema has no
`deploymentState`; 2026-03-01, the newest stable, has it (stable/2026-03-01/examples/GetDeployment.json). Its
deployment body is the 2025-09-01 one plus fields (deploymentState, serviceTier, routing ...), so the SDK's models
still read every field they know and `deploymentState` is read off the raw page. Where ARM refuses the version (a
cloud that does not have it yet), the SDK's own version is used and the state is unknown."""
_API_VERSION_REFUSED = ("InvalidApiVersionParameter", "NoRegisteredProviderFound", "InvalidResourceType")
T = TypeVar("T")


def describe_azure_error(exc: BaseException) -> str:
    """A short, secret-free account of what Azure answered (secrets redacted before it is cut short)."""
    from auditor.util.redact import clean

    if not hasattr(exc, "status_code") and not hasattr(exc, "error") and not isinstance(exc, PageLoopError):
        # not an answer from Azure but a body the SDK or we could not make sense of
        return clean(f"an answer of an unexpected shape ({type(exc).__name__}: {exc})", limit=300)
    status = getattr(exc, "status_code", None)
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None) or getattr(exc, "message", None) or str(exc)
    message = clean(str(message), limit=300)
    parts = [clean(str(p), limit=80) for p in (f"HTTP {status}" if status else None, code) if p]
    waited = _retry_after_note(exc)
    text = f"{' '.join(parts)}: {message}" if parts else message
    return f"{text} ({waited})" if waited else text


def _retry_after_note(exc: BaseException) -> str | None:
    """What a throttled answer asked for, when it was more than the auditor waits."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        raw = headers.get("Retry-After") or headers.get("retry-after")
    except Exception:
        return None
    if not raw:
        return None
    wait = retry_after_seconds(str(raw))
    if wait is None or wait > MAX_RETRY_AFTER:
        from auditor.util.redact import clean

        asked = f"{wait:g} s" if wait is not None and math.isfinite(wait) else repr(clean(str(raw), limit=40))
        return f"Azure asked to retry after {asked}; not waited, the auditor waits at most {MAX_RETRY_AFTER:g} s"
    return None


MAX_RETRY_AFTER = 30.0
"""The longest Retry-After the auditor obeys; a longer one is reported, not waited for."""
MAX_PAGES = 10_000
"""No listing the auditor reads has this many pages; a pager that goes on is broken or hostile."""


class PageLoopError(Exception):
    """A listing whose next page link repeats (or never ends): stopped instead of read forever."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def retry_after_seconds(raw: str) -> float | None:
    """A Retry-After value in seconds (a number or an HTTP date); None when it is neither."""
    from email.utils import parsedate_to_datetime

    try:
        value = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            return None
        value = (when - datetime.now(when.tzinfo)).total_seconds()
    if math.isnan(value):
        return None
    return max(value, 0.0)


def _capped_retry_policy(**kwargs: Any) -> Any:
    """azure-core's RetryPolicy obeys any Retry-After as sent (retry_backoff_max caps only its own
    exponential backoff: policies/_retry.py `_sleep_for_retry`), and `nan`, `inf` or a bad date reach
    `transport.sleep`. This one obeys a hint up to MAX_RETRY_AFTER, does not retry a longer one (the
    reason is reported), and falls back to the backoff for a hint that is not a time."""
    from azure.core.pipeline.policies import RetryPolicy

    class CappedRetryPolicy(RetryPolicy):  # type: ignore[type-arg]
        def get_retry_after(self, response: Any) -> float | None:
            headers = response.http_response.headers
            for name, scale in (("retry-after", 1.0), ("retry-after-ms", 1000.0), ("x-ms-retry-after-ms", 1000.0)):
                raw = headers.get(name)
                if raw:
                    wait = retry_after_seconds(str(raw))
                    if wait is None or not math.isfinite(wait / scale):
                        return None
                    return min(wait / scale, MAX_RETRY_AFTER)
            return None

        def is_retry(self, settings: Any, response: Any) -> bool:
            raw = response.http_response.headers.get("Retry-After")
            if raw:
                wait = retry_after_seconds(str(raw))
                if wait is not None and wait > MAX_RETRY_AFTER:
                    return False
            return bool(super().is_retry(settings, response))

    return CappedRetryPolicy(**kwargs)


def drain(pager: Any, what: str) -> list[Any]:
    """Every item of an SDK pager, page by page, stopping at a next-page link seen before."""
    pages = pager.by_page()
    seen: set[str] = set()
    items: list[Any] = []
    for count, page in enumerate(pages, start=1):
        items.extend(page)
        token = getattr(pages, "continuation_token", None)
        if token:
            key = str(token)
            if key in seen:
                raise PageLoopError(f"the next-page link of {what} repeats a page already read; stopped paging")
            seen.add(key)
        if count >= MAX_PAGES:
            raise PageLoopError(f"{what} did not end after {MAX_PAGES} pages; stopped paging")
    return items


class AzureEnumerator:
    """Reads an Azure tenant through the management SDK's public clients."""

    def __init__(
        self,
        credential: TokenCredential,
        cloud: Cloud,
        *,
        connection_verify: str | bool = True,
        retry_total: int = 3,
        timeout: float = 60.0,
        max_connections: int = 10,
    ) -> None:
        from azure.core.pipeline.transport import RequestsTransport
        from requests import Session
        from requests.adapters import HTTPAdapter

        self._credential = credential
        self._cloud = cloud
        # One connection pool, sized for the run's concurrency, shared by every client of the run.
        session = Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, max_connections))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        self._transport = RequestsTransport(
            session=session,
            session_owner=False,
            connection_verify=connection_verify,
            connection_timeout=min(timeout, 30.0),
            read_timeout=timeout,
        )
        self._retry_settings = {"retry_total": retry_total, "retry_backoff_factor": 0.5, "retry_backoff_max": 10}
        self._client_kwargs: dict[str, Any] = {
            "transport": self._transport,
            "base_url": cloud.management_endpoint,
            "credential_scopes": [cloud.management_scope],
            "connection_verify": connection_verify,
            "retry_policy": _capped_retry_policy(**self._retry_settings),
            "connection_timeout": min(timeout, 30.0),
            "read_timeout": timeout,
        }
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, subscription_id: str, api_version: str | None = None) -> Any:
        from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

        key = f"{subscription_id}@{api_version or 'sdk'}"
        with self._lock:
            if key not in self._clients:
                kwargs = dict(self._client_kwargs)
                if api_version:
                    kwargs["api_version"] = api_version
                self._clients[key] = CognitiveServicesManagementClient(self._credential, subscription_id, **kwargs)
            return self._clients[key]

    def _call(self, what: Callable[[], T]) -> T:
        """Run one SDK read; a credential problem becomes a SignInError."""
        from azure.core.exceptions import ClientAuthenticationError

        try:
            return what()
        except ClientAuthenticationError as exc:
            if getattr(exc, "status_code", None) is None:
                from auditor.sources.signin import sign_in_message

                raise SignInError(sign_in_message(str(exc)), detail=str(exc)) from None
            raise

    def list_subscriptions(self) -> list[str]:
        """Subscription ids the credential can see."""
        from azure.mgmt.subscription import SubscriptionClient

        client = SubscriptionClient(self._credential, **self._client_kwargs)

        def ids() -> list[str]:
            # The SDK types its read-only attributes as None (set by the deserializer), hence the annotation.
            found: list[str | None] = [
                s.subscription_id for s in drain(client.subscriptions.list(), "the subscriptions")
            ]
            return sorted(sid for sid in found if sid)

        return self._call(ids)

    def query_accounts(self, subscription_ids: Sequence[str]) -> list[Account]:
        """Every Azure OpenAI / AI services account in the subscriptions, in one paged Resource Graph query."""
        from azure.mgmt.cognitiveservices.models import Account as SdkAccount
        from azure.mgmt.resourcegraph import ResourceGraphClient
        from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

        client = ResourceGraphClient(self._credential, **self._client_kwargs)
        rows: list[dict[str, Any]] = []
        skip_token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            request = QueryRequest(
                subscriptions=list(subscription_ids),
                query=RESOURCE_GRAPH_QUERY,
                options=QueryRequestOptions(result_format="objectArray", skip_token=skip_token, top=1000),
            )
            response = self._call(partial(client.resources, request))
            data: Any = response.data or []  # objectArray: a list with one dict per row
            if not isinstance(data, list):
                raise PageLoopError(f"Resource Graph answered `data` of type {type(data).__name__}, not a list")
            rows.extend(data)
            skip_token = response.skip_token
            if not skip_token:
                break
            if skip_token in seen_tokens or len(seen_tokens) >= MAX_PAGES:
                raise PageLoopError("the Resource Graph $skipToken repeats a page already read; stopped paging")
            seen_tokens.add(skip_token)
        accounts = []
        for row in rows:
            if str(row.get("kind", "")).lower() not in OPENAI_KINDS:
                continue
            accounts.append(account_from_sdk(SdkAccount.deserialize(row)))
        return accounts

    def list_accounts(self, subscription_id: str, resource_group: str | None = None) -> list[Account]:
        """Every Azure OpenAI / AI services account in a subscription (or one resource group of it)."""
        client = self._client(subscription_id)
        if resource_group:
            pager = lambda: drain(client.accounts.list_by_resource_group(resource_group), "the account list")  # noqa: E731
        else:
            pager = lambda: drain(client.accounts.list(), "the account list")  # noqa: E731
        items = self._call(pager)
        return [account_from_sdk(a) for a in items if (a.kind or "").lower() in OPENAI_KINDS]

    def get_account(self, ref: AccountRef) -> Account:
        """One account by its ARM id parts; a missing one is a TargetNotFoundError."""
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

        client = self._client(ref.subscription_id)
        try:
            item = self._call(lambda: client.accounts.get(ref.resource_group, ref.name))
        except ResourceNotFoundError as exc:
            raise TargetNotFoundError(
                f"account {ref.name!r} not found in resource group {ref.resource_group!r} of subscription "
                f"{ref.subscription_id} ({describe_azure_error(exc)})"
            ) from None
        except HttpResponseError as exc:
            if exc.status_code in (403, 404):
                raise TargetNotFoundError(f"cannot read account {ref.name!r}: {describe_azure_error(exc)}") from None
            raise
        if (item.kind or "").lower() not in OPENAI_KINDS:
            raise TargetNotFoundError(f"{item.id} is a {item.kind} account, not Azure OpenAI (OpenAI or AIServices)")
        return account_from_sdk(item)

    def list_deployments(self, account: Account) -> list[Deployment]:
        """The account's deployments at DEPLOYMENTS_API_VERSION, with `deploymentState` (Running/Paused) read off
        the raw pages (the SDK's 14.x models drop it); at the SDK's own version where ARM refuses that one."""
        from azure.core.exceptions import DeserializationError, HttpResponseError

        states: dict[str, str] = {}

        def remember_states(response: Any) -> None:
            try:
                page = response.http_response.json()
            except Exception:
                return
            for item in page.get("value") or () if isinstance(page, dict) else ():
                state = (item.get("properties") or {}).get("deploymentState") if isinstance(item, dict) else None
                if state and item.get("id"):
                    states[str(item["id"]).lower()] = str(state)

        def read(api_version: str | None) -> list[Any]:
            client = self._client(account.subscription_id, api_version)
            return self._call(
                lambda: drain(
                    client.deployments.list(account.resource_group, account.name, raw_response_hook=remember_states),
                    "the deployment list",
                )
            )

        try:
            items = read(DEPLOYMENTS_API_VERSION)
        except (HttpResponseError, DeserializationError) as exc:
            # Refused version, or a body the SDK's models cannot read: the SDK's own version, whose shape they know.
            refused = getattr(getattr(exc, "error", None), "code", None) in _API_VERSION_REFUSED
            if isinstance(exc, HttpResponseError) and not (exc.status_code == 400 and refused):
                raise
            states.clear()
            items = read(None)
        return [replace(deployment_from_sdk(d, account.id), state=states.get(str(d.id).lower())) for d in items]

    def list_content_filter_policies(self, account: Account) -> list[ContentFilterPolicy]:
        client = self._client(account.subscription_id)
        items = self._call(
            lambda: drain(client.rai_policies.list(account.resource_group, account.name), "the content filter policies")
        )
        return [rai_policy_from_sdk(p) for p in items]

    def list_catalog(self, subscription_id: str, location: str) -> list[CatalogModel]:
        client = self._client(subscription_id)
        items = self._call(lambda: drain(client.models.list(location), "the model catalog"))
        return [m for m in (catalog_model_from_sdk(i) for i in items) if m is not None]

    def list_account_models(self, account: Account) -> list[CatalogModel]:
        """The account's own models list (`accounts/{name}/models`, Accounts_ListModels): base models and the
        account's fine-tuned models, which the location catalog does not list."""
        client = self._client(account.subscription_id)
        items = self._call(
            lambda: drain(client.accounts.list_models(account.resource_group, account.name), "the account's models")
        )
        return [m for m in (account_model_from_sdk(i, account.kind) for i in items) if m is not None]

    def monitor(self, days: int = 7) -> MonitorReader:
        """Azure Monitor reads (diagnostic settings, metrics) on this enumerator's connection pool and retries."""
        from auditor.sources.monitor import MonitorReader

        return MonitorReader(self._credential, self._client_kwargs, days=days)

    def logs(self, workspace_id: str, days: int = 7) -> LogsReader:
        """Log Analytics queries (the RequestResponse records) on this enumerator's connection pool and retries."""
        from auditor.sources.monitor import LogsReader

        keep = ("transport", "connection_verify", "connection_timeout", "read_timeout")
        kwargs = {k: v for k, v in self._client_kwargs.items() if k in keep}
        # A policy instance is one link of one pipeline (azure-core sets its `next`): shared with the ARM clients,
        # the retry policy would hand the Log Analytics request to the ARM client's token policy, and the other
        # way round (seen as 401s with the other audience's token). The logs client gets its own.
        kwargs["retry_policy"] = _capped_retry_policy(**self._retry_settings)
        return LogsReader(
            self._credential, workspace_id, endpoint=self._cloud.logs_endpoint, days=days, client_kwargs=kwargs
        )

    def list_usages(self, subscription_id: str, location: str) -> list[QuotaUsage]:
        client = self._client(subscription_id)
        return [usage_from_sdk(u) for u in self._call(lambda: drain(client.usages.list(location), "quota usages"))]


def _map(pool: Executor | None, function: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
    return list(pool.map(function, items)) if pool is not None else [function(i) for i in items]


def discover_accounts(
    enumerator: AzureEnumerator,
    subscriptions: Sequence[str],
    resource_group: str | None,
    *,
    discovery: Discovery = Discovery.AUTO,
    pool: Executor | None = None,
    gaps: list[CollectionGap] | None = None,
) -> tuple[list[Account], str]:
    """Every Azure OpenAI account in the subscriptions, and how they were found.

    Resource Graph answers for all subscriptions in one paged query; where it is not permitted (or asked
    not to be used) each subscription is listed, concurrently. With `gaps`, a subscription whose listing
    fails becomes a gap there (the others are still listed); without, its fault is raised."""
    how = "list"
    found: list[Account] | None = None
    if discovery is Discovery.RESOURCE_GRAPH or (discovery is Discovery.AUTO and len(subscriptions) > 1):
        try:
            found = enumerator.query_accounts(subscriptions)
            how = "resource-graph"
        except AuditorError:
            raise
        except Exception as exc:
            how = f"list (Resource Graph unavailable: {describe_azure_error(exc)})"

    def listed(sub: str) -> list[Account] | BaseException:
        try:
            return enumerator.list_accounts(sub, resource_group)
        except AuditorError:
            raise
        except Exception as exc:
            return exc

    if found is None:
        found = []
        for sub, accounts in zip(subscriptions, _map(pool, listed, subscriptions), strict=True):
            if isinstance(accounts, BaseException):
                if gaps is None:
                    raise accounts
                gaps.append(gap(f"/subscriptions/{sub}", "the subscription's accounts", accounts))
            else:
                found.extend(accounts)
    if resource_group:
        found = [a for a in found if a.resource_group.lower() == resource_group.lower()]
    return found, how


def resolve_accounts(
    enumerator: AzureEnumerator,
    resources: Sequence[str],
    *,
    all_accounts: bool,
    subscriptions: Sequence[str],
    resource_group: str | None,
    discovery: Discovery = Discovery.AUTO,
    pool: Executor | None = None,
    gaps: list[CollectionGap] | None = None,
) -> tuple[list[Account], tuple[str, ...]]:
    """The accounts to audit, and the subscriptions that were searched for them.

    With `gaps`, a subscription that could not be listed is a gap, and so is a name not found while one
    could not be (it may live there): the audit goes on with the rest, incomplete."""
    accounts: dict[str, Account] = {}
    by_id = [r for r in resources if r.startswith("/")]
    by_name = [r for r in resources if not r.startswith("/")]
    refs = [AccountRef.parse(resource_id) for resource_id in by_id]
    for account in _map(pool, enumerator.get_account, refs):
        accounts[account.id.lower()] = account
    searched: tuple[str, ...] = tuple(subscriptions)
    if by_name or all_accounts:
        if not searched:
            searched = tuple(enumerator.list_subscriptions())
        if not searched:
            raise TargetNotFoundError("the credential can see no subscriptions; pass --subscription ID")
        unread: list[CollectionGap] = []
        found, _ = discover_accounts(
            enumerator,
            searched,
            resource_group,
            discovery=discovery,
            pool=pool,
            gaps=unread if gaps is not None else None,
        )
        if gaps is not None:
            gaps.extend(unread)
        if all_accounts:
            accounts.update({a.id.lower(): a for a in found})
        for name in by_name:
            matches = [a for a in found if a.name.lower() == name.lower()]
            if not matches and unread and gaps is not None:
                where = ", ".join(g.target.rsplit("/", 1)[-1] for g in unread)
                gaps.append(
                    CollectionGap(
                        target=f"name:{name}",
                        reason=f"account {name!r} was not found in the subscriptions that could be read; "
                        f"{where} could not be searched",
                    )
                )
                continue
            if not matches:
                scope = f" resource group {resource_group!r} of" if resource_group else ""
                raise TargetNotFoundError(
                    f"no Azure OpenAI account named {name!r} in{scope} subscription(s) {', '.join(searched)}"
                )
            accounts.update({a.id.lower(): a for a in matches})
    return sorted(accounts.values(), key=lambda a: a.id.lower()), searched


def gap(target: str, what: str, exc: BaseException) -> CollectionGap:
    return CollectionGap(target=target, reason=f"could not read {what}: {describe_azure_error(exc)}")


def collect_region(
    enumerator: AzureEnumerator, subscription_id: str, location: str
) -> tuple[Region, list[CollectionGap]]:
    """The catalog and quota of one (subscription, location), read once and shared by its accounts; a
    fault, or an answer of the wrong shape, is a gap."""
    gaps: list[CollectionGap] = []
    target = f"/subscriptions/{subscription_id}/providers/Microsoft.CognitiveServices/locations/{location}"
    catalog: tuple[CatalogModel, ...] | None
    usages: tuple[QuotaUsage, ...] | None
    try:
        catalog = tuple(enumerator.list_catalog(subscription_id, location))
    except AuditorError:
        raise
    except Exception as exc:
        catalog = None
        gaps.append(gap(target, "the model catalog", exc))
    try:
        usages = tuple(enumerator.list_usages(subscription_id, location))
    except AuditorError:
        raise
    except Exception as exc:
        usages = None
        gaps.append(gap(target, "quota usages", exc))
    return Region(subscription_id, location, catalog, usages), gaps
