"""The state every plane shares (spec, tokens, keys, counters, records, faults) and the ARM headers and token
check that ARM and Resource Graph both answer with.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from auditor.demo.sim.faults import FaultRule, ServedRequest
from auditor.demo.sim.identity import (
    _norm_resource,
    _TokenStore,
)
from auditor.demo.sim.spec import (
    AccountSpec,
    TenantSpec,
)
from auditor.demo.sim.wire import (
    _arm_error,
    _compact,
    _region_name,
    _Reply,
)

#: Audiences real ARM accepts besides the simulator's own URL (listed in ARM's wrong-audience message).
_ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)


class BackendCore:
    """Turns (method, path, query, headers, body) into a reply, records it, injects faults and latency."""

    def __init__(
        self,
        spec: TenantSpec,
        *,
        arm_latency: float,
        data_latency: float,
        faults: Iterable[FaultRule],
        page_size: int,
        deployments_page_size: int,
    ) -> None:
        self.spec = spec
        self.arm_latency = arm_latency
        self.data_latency = data_latency
        self.page_size = max(1, page_size)
        self.deployments_page_size = max(1, deployments_page_size)
        self.management_url = ""
        self.identity_header = secrets.token_hex(16)
        self.tokens = _TokenStore()
        self.keys: dict[str, tuple[str, str]] = {
            a.name.lower(): (secrets.token_hex(16), secrets.token_hex(16)) for a in spec.accounts
        }
        self._key_owner = {k: name for name, pair in self.keys.items() for k in pair}
        self._lock = threading.Lock()
        self._records: list[ServedRequest] = []
        self._in_flight: dict[str, int] = {}
        self._in_flight_total = 0
        self.peak_in_flight: dict[str, int] = {}
        """The most requests served at once, per plane and over "all": how a test sees a client's concurrency."""
        self._faults: list[list[Any]] = [[rule, rule.times] for rule in faults]
        self._calls: dict[tuple[str, str], int] = {}
        self._window: dict[tuple[str, str], deque[tuple[float, int]]] = {}
        self._reads: dict[str, int] = {}

    # -- bookkeeping ------------------------------------------------------------------------------------

    @property
    def records(self) -> tuple[ServedRequest, ...]:
        with self._lock:
            return tuple(self._records)

    def clear_records(self) -> None:
        with self._lock:
            self._records.clear()
            self.peak_in_flight.clear()

    def add_fault(self, rule: FaultRule) -> None:
        with self._lock:
            self._faults.append([rule, rule.times])

    def reset_counters(self) -> None:
        with self._lock:
            self._calls.clear()
            self._window.clear()

    def _take_fault(self, method: str, path: str, plane: str) -> FaultRule | None:
        with self._lock:
            for entry in self._faults:
                rule: FaultRule = entry[0]
                remaining: int | None = entry[1]
                if remaining is not None and remaining <= 0:
                    continue
                if rule.plane and rule.plane != plane:
                    continue
                if rule.method and rule.method.upper() != method:
                    continue
                if not re.search(rule.path_pattern, path):
                    continue
                if remaining is not None:
                    entry[1] = remaining - 1
                return rule
        return None

    def _fault_reply(self, rule: FaultRule, plane: str, path: str, request: Mapping[str, str]) -> _Reply:
        if isinstance(rule.body, str):
            text = rule.body
            if rule.echo_authorization:
                text = text.replace("{authorization}", request.get("authorization", ""))
            body = text.encode("utf-8")
        elif rule.body is None:
            body = b""
        else:
            body = _compact(rule.body)
        headers = self._arm_headers(path) if plane in ("arm", "graph") else self._data_headers(None, None)
        headers.update(rule.headers)
        return _Reply(rule.status, body, headers, stall=rule.stall, drip=rule.drip)

    # -- ARM ------------------------------------------------------------------------------------------

    def _arm_headers(self, path: str) -> dict[str, str]:
        request_id = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Cache-Control": "no-cache",
            "Pragma": "no-cache",
            "Expires": "-1",
            "x-ms-request-id": request_id,
            "x-ms-correlation-request-id": request_id,
            "x-ms-routing-request-id": f"EASTUS2:{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}:{request_id}",
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
            "X-Content-Type-Options": "nosniff",
        }
        match = re.match(r"^/subscriptions/([^/]+)/.+", path, re.IGNORECASE)
        with self._lock:
            scope = match.group(1).lower() if match else "tenant"
            remaining = max(0, self._reads.get(scope, 12000) - 1)
            self._reads[scope] = remaining
        if match:
            headers["x-ms-ratelimit-remaining-subscription-reads"] = str(remaining)
        else:
            headers["x-ms-ratelimit-remaining-tenant-reads"] = str(remaining)
        return headers

    def _arm_reply(self, status: int, body: bytes, path: str, extra: Mapping[str, str] | None = None) -> _Reply:
        headers = self._arm_headers(path)
        if extra:
            headers.update(extra)
        return _Reply(status, body, headers)

    def _arm_auth(self, headers: Mapping[str, str], path: str) -> _Reply | None:
        """ARM's 401s for a missing, malformed, unknown, expired or wrong-audience bearer token."""
        authorization = headers.get("authorization")

        def unauthorized(code: str, message: str) -> _Reply:
            challenge = (
                f'Bearer authorization_uri="https://login.microsoftonline.com/{self.spec.tenant_id}", '
                f'error="invalid_token", error_description="{message}"'
            )
            return self._arm_reply(401, _arm_error(code, message), path, {"WWW-Authenticate": challenge})

        if not authorization:
            return unauthorized("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return unauthorized(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            )
        token = self.tokens.get(value.strip())
        if token is None:
            return unauthorized("InvalidAuthenticationToken", "The access token is invalid.")
        now = time.time()
        if token.expires_on <= now:
            fmt = "%m/%d/%Y %I:%M:%S %p"
            expiry = datetime.fromtimestamp(token.expires_on, timezone.utc).strftime(fmt)
            current = datetime.fromtimestamp(now, timezone.utc).strftime(fmt)
            return unauthorized(
                "ExpiredAuthenticationToken",
                f"The access token expiry UTC time '{expiry}' is earlier than current UTC time '{current}'.",
            )
        allowed = {_norm_resource(a) for a in (*_ARM_AUDIENCES, self.management_url)}
        if token.resource not in allowed:
            audiences = ",".join(f"'{a}'" for a in _ARM_AUDIENCES)
            return unauthorized(
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource "
                f"'{token.resource}'. It should exactly match with one of the allowed audiences "
                f"{audiences}.",
            )
        return None

    # -- Azure OpenAI data plane ----------------------------------------------------------------------

    def _data_headers(self, account: AccountSpec | None, request_id: str | None = None) -> dict[str, str]:
        request_id = request_id or str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "apim-request-id": request_id,
            "x-request-id": request_id,
            "x-ms-client-request-id": request_id,
            "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
            "X-Content-Type-Options": "nosniff",
        }
        if account is not None:
            headers["x-ms-region"] = _region_name(account.location)
        return headers
