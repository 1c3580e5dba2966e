"""The enumerator: reads accounts, deployments, the location catalog and quota through the
management SDK, and turns SDK objects into the fact model. The only module that knows SDK shapes.

Read-only by construction: it calls list/get operations and nothing else (no listKeys, no writes).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from auditor.clouds import Cloud
from auditor.errors import AuditorError, InputError, SignInError, TargetNotFoundError
from auditor.facts import (
    Account,
    CatalogModel,
    CatalogSku,
    CollectionGap,
    ContentFilter,
    ContentFilterPolicy,
    Deployment,
    QuotaUsage,
    RateLimit,
    Region,
)

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

OPENAI_KINDS = ("openai", "aiservices")
RESOURCE_GRAPH_QUERY = (
    "resources | where type =~ 'microsoft.cognitiveservices/accounts' | where kind in~ ('OpenAI', 'AIServices') "
    "| project id, name, type, kind, location, resourceGroup, subscriptionId, sku, properties, identity, tags "
    "| order by id asc"
)
DISCOVERY_MODES = ("auto", "resource-graph", "list")
T = TypeVar("T")

SIGN_IN_HELP = (
    "No Azure credential is available. Sign in with `az login` (and `az account set --subscription ID`), "
    "or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET for a service principal, or run where a "
    "managed identity or GitHub Actions workload identity (azure/login with OIDC) is configured. "
    "The identity needs the Reader role (or Cognitive Services Usages Reader for quota) on the subscriptions to audit."
)


@dataclass(frozen=True)
class AccountRef:
    """Where an account lives, parsed from its ARM id."""

    subscription_id: str
    resource_group: str
    name: str

    @classmethod
    def parse(cls, resource_id: str) -> AccountRef:
        parts = resource_id.strip("/").split("/")
        lowered = [p.lower() for p in parts]
        try:
            sub = parts[lowered.index("subscriptions") + 1]
            rg = parts[lowered.index("resourcegroups") + 1]
            provider = lowered.index("microsoft.cognitiveservices")
            if lowered[provider + 1] != "accounts":
                raise ValueError
            name = parts[provider + 2]
        except (ValueError, IndexError):
            raise InputError(
                f"not an Azure OpenAI account resource ID: {resource_id!r} "
                "(expected /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.CognitiveServices/accounts/NAME)"
            ) from None
        return cls(sub, rg, name)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _rate_limits(items: Iterable[Any] | None) -> tuple[RateLimit, ...]:
    return tuple(
        RateLimit(
            key=str(getattr(r, "key", None) or ""),
            count=float(r.count or 0),
            renewal_period=float(r.renewal_period or 0),
        )
        for r in items or ()
        if r is not None and r.count is not None
    )


def account_from_sdk(item: Any) -> Account:
    """Normalise an SDK `Account` into the fact model."""
    ref = AccountRef.parse(item.id)
    props = item.properties
    acls = getattr(props, "network_acls", None) if props else None
    encryption = getattr(props, "encryption", None) if props else None
    identity = getattr(item, "identity", None)
    return Account(
        id=item.id,
        name=item.name,
        subscription_id=ref.subscription_id,
        resource_group=ref.resource_group,
        location=(item.location or "").replace(" ", "").lower(),
        kind=item.kind or "",
        sku_name=item.sku.name if item.sku else None,
        endpoint=props.endpoint if props else None,
        endpoints=dict(props.endpoints or {}) if props else {},
        custom_subdomain=props.custom_sub_domain_name if props else None,
        provisioning_state=_str(props.provisioning_state) if props else None,
        disable_local_auth=props.disable_local_auth if props else None,
        public_network_access=_str(props.public_network_access) if props else None,
        network_default_action=_str(acls.default_action) if acls else None,
        network_ip_rules=tuple(r.value for r in (acls.ip_rules or ()) if r.value) if acls else (),
        network_virtual_network_rules=tuple(r.id for r in (acls.virtual_network_rules or ()) if r.id) if acls else (),
        private_endpoint_connections=tuple(c.id or c.name or "" for c in (props.private_endpoint_connections or ()))
        if props
        else (),
        identity_type=_str(identity.type) if identity else None,
        encryption_key_source=_str(encryption.key_source) if encryption else None,
        restrict_outbound_network_access=props.restrict_outbound_network_access if props else None,
        tags=dict(item.tags or {}),
    )


def deployment_from_sdk(item: Any, account_id: str) -> Deployment:
    """Normalise an SDK `Deployment` into the fact model."""
    props = item.properties
    model = props.model if props else None
    return Deployment(
        id=item.id,
        name=item.name,
        account_id=account_id,
        model_format=model.format if model else None,
        model_name=model.name if model else None,
        model_version=model.version if model else None,
        sku_name=item.sku.name if item.sku else None,
        sku_capacity=item.sku.capacity if item.sku else None,
        version_upgrade_option=_str(props.version_upgrade_option) if props else None,
        rai_policy_name=props.rai_policy_name if props else None,
        provisioning_state=_str(props.provisioning_state) if props else None,
        capabilities=dict(props.capabilities or {}) if props else {},
        rate_limits=_rate_limits(props.rate_limits) if props else (),
    )


def rai_policy_from_sdk(item: Any) -> ContentFilterPolicy:
    """Normalise an SDK `RaiPolicy` (a content filter policy)."""
    props = item.properties
    return ContentFilterPolicy(
        name=item.name,
        type=_str(props.type) if props else None,
        mode=_str(props.mode) if props else None,
        base_policy_name=props.base_policy_name if props else None,
        filters=tuple(
            ContentFilter(f.name or "", _str(f.source), f.enabled, f.blocking, _str(f.severity_threshold))
            for f in (props.content_filters or ())
            if props
        )
        if props
        else (),
    )


def catalog_model_from_sdk(item: Any) -> CatalogModel | None:
    """Normalise one entry of `models.list(location)`."""
    model = item.model
    if model is None or not model.name:
        return None
    deprecation = model.deprecation
    replacement = getattr(model, "replacement_config", None)
    skus = tuple(
        CatalogSku(
            name=sku.name or "",
            usage_name=sku.usage_name,
            deprecation_date=_date(sku.deprecation_date),
            capacity_default=sku.capacity.default if sku.capacity else None,
            capacity_maximum=sku.capacity.maximum if sku.capacity else None,
            rate_limits=_rate_limits(sku.rate_limits),
        )
        for sku in model.skus or ()
    )
    return CatalogModel(
        kind=item.kind or "",
        format=model.format or "",
        name=model.name,
        version=model.version or "",
        lifecycle_status=_str(model.lifecycle_status),
        is_default_version=bool(model.is_default_version),
        capabilities=dict(model.capabilities or {}),
        inference_deprecation=_date(deprecation.inference) if deprecation else None,
        fine_tune_deprecation=_date(deprecation.fine_tune) if deprecation else None,
        skus=skus,
        replacement_name=getattr(replacement, "target_model_name", None) if replacement else None,
        replacement_version=getattr(replacement, "target_model_version", None) if replacement else None,
    )


def usage_from_sdk(item: Any) -> QuotaUsage:
    """Normalise one entry of `usages.list(location)`."""
    name = item.name
    return QuotaUsage(
        name=(name.value if name else "") or "",
        localized_name=name.localized_value if name else None,
        current_value=float(item.current_value or 0),
        limit=float(item.limit or 0),
        unit=_str(item.unit),
    )


def describe_azure_error(exc: BaseException) -> str:
    """A short, secret-free account of what Azure answered (secrets redacted before it is cut short)."""
    from auditor.redact import clean

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
        from auditor.redact import clean

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
        self._client_kwargs: dict[str, Any] = {
            "transport": self._transport,
            "base_url": cloud.management_endpoint,
            "credential_scopes": [cloud.management_scope],
            "connection_verify": connection_verify,
            "retry_policy": _capped_retry_policy(
                retry_total=retry_total, retry_backoff_factor=0.5, retry_backoff_max=10
            ),
            "connection_timeout": min(timeout, 30.0),
            "read_timeout": timeout,
        }
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, subscription_id: str) -> Any:
        from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient

        with self._lock:
            if subscription_id not in self._clients:
                self._clients[subscription_id] = CognitiveServicesManagementClient(
                    self._credential, subscription_id, **self._client_kwargs
                )
            return self._clients[subscription_id]

    def _call(self, what: Callable[[], T]) -> T:
        """Run one SDK read; a credential problem becomes a SignInError."""
        from azure.core.exceptions import ClientAuthenticationError

        try:
            return what()
        except ClientAuthenticationError as exc:
            if getattr(exc, "status_code", None) is None:
                raise SignInError(
                    SIGN_IN_HELP + f" (Azure Identity said: {' '.join(str(exc).split())[:200]})"
                ) from None
            raise

    def list_subscriptions(self) -> list[str]:
        """Subscription ids the credential can see."""
        from azure.mgmt.subscription import SubscriptionClient

        client = SubscriptionClient(self._credential, **self._client_kwargs)
        return self._call(
            lambda: sorted(
                s.subscription_id for s in drain(client.subscriptions.list(), "the subscriptions") if s.subscription_id
            )
        )

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
            response = self._call(lambda request=request: client.resources(request))
            data: Any = response.data or []
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
        """The account's deployments, with `deploymentState` (Running/Paused) read off the raw pages:
        newer api-versions send it, but the SDK's models (14.x) drop it."""
        client = self._client(account.subscription_id)
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

        items = self._call(
            lambda: drain(
                client.deployments.list(account.resource_group, account.name, raw_response_hook=remember_states),
                "the deployment list",
            )
        )
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
    discovery: str = "auto",
    pool: Executor | None = None,
    gaps: list[CollectionGap] | None = None,
) -> tuple[list[Account], str]:
    """Every Azure OpenAI account in the subscriptions, and how they were found.

    Resource Graph answers for all subscriptions in one paged query; where it is not permitted (or asked
    not to be used) each subscription is listed, concurrently. With `gaps`, a subscription whose listing
    fails becomes a gap there (the others are still listed); without, its fault is raised."""
    how = "list"
    found: list[Account] | None = None
    if discovery == "resource-graph" or (discovery == "auto" and len(subscriptions) > 1):
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
    discovery: str = "auto",
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
