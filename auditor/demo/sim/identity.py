"""The App Service managed-identity token endpoint (what azure-identity's ManagedIdentityCredential calls
when IDENTITY_ENDPOINT/IDENTITY_HEADER are set) and the opaque tokens it issues.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from auditor.demo.sim.spec import (
    CallerSpec,
)
from auditor.demo.sim.wire import (
    _compact,
    _Reply,
)

#: The data-plane token audience (resource) Azure OpenAI accepts.
COGNITIVE_SERVICES_RESOURCE = "https://cognitiveservices.azure.com"
_TOKEN_LIFETIME_SECONDS = 24 * 3600


@dataclass(frozen=True)
class _Token:
    resource: str
    expires_on: float


def _norm_resource(resource: str) -> str:
    resource = resource.strip()
    if resource.endswith("/.default"):
        resource = resource[: -len("/.default")]
    return resource.rstrip("/").lower()


class _TokenStore:
    """Opaque bearer tokens issued by the simulated identity endpoint, with their audience and expiry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}

    def issue(self, resource: str, lifetime: float = _TOKEN_LIFETIME_SECONDS) -> tuple[str, int]:
        # 64 hex characters: opaque and never JWT-looking ("eyJ..."), so nothing can be decoded from it.
        token = secrets.token_hex(32)
        expires_on = int(time.time() + lifetime)
        with self._lock:
            self._tokens[token] = _Token(_norm_resource(resource), expires_on)
        return token, expires_on

    def get(self, token: str) -> _Token | None:
        with self._lock:
            return self._tokens.get(token)

    def expire_all(self) -> None:
        with self._lock:
            self._tokens = {t: _Token(v.resource, time.time() - 60) for t, v in self._tokens.items()}

    def values(self) -> list[str]:
        with self._lock:
            return list(self._tokens)


def token_reply(
    tokens: _TokenStore,
    caller: CallerSpec,
    identity_header: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
) -> _Reply:
    """The App Service protocol: GET /msi/token?api-version=2019-08-01&resource=... with X-IDENTITY-HEADER."""
    json_headers = {"Content-Type": "application/json; charset=utf-8"}

    def refuse(status: int, message: str) -> _Reply:
        # App Service answers errors as {"statusCode", "message"}; msal turns that into "invalid_scope".
        return _Reply(status, _compact({"statusCode": status, "message": message}), json_headers)

    if method != "GET" or path.rstrip("/").lower() != "/msi/token":
        return refuse(404, "Not found")
    if headers.get("x-identity-header") != identity_header:
        return refuse(401, "The X-IDENTITY-HEADER header is missing or invalid.")
    if query.get("api-version") != "2019-08-01":
        return refuse(400, "Unsupported api-version. Expected 2019-08-01.")
    resource = query.get("resource")
    if not resource:
        return refuse(400, "The 'resource' query parameter is required.")
    for param, expected in (("client_id", caller.client_id), ("object_id", caller.principal_id)):
        if query.get(param) and query[param].lower() != expected.lower():
            return refuse(400, "No managed identity found for the specified ClientId/ResourceId/PrincipalId.")
    if query.get("mi_res_id"):
        return refuse(400, "No managed identity found for the specified ClientId/ResourceId/PrincipalId.")
    token, expires_on = tokens.issue(resource)
    body = {
        "access_token": token,
        "expires_on": str(expires_on),
        "resource": resource,
        "token_type": "Bearer",
        "client_id": caller.client_id,
    }
    return _Reply(200, _compact(body), json_headers)
