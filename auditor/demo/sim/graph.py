"""Azure Resource Graph (`POST /providers/Microsoft.ResourceGraph/resources`): the accounts query, with
`$skipToken` paging and both result formats.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from auditor.demo.sim.documents import ArmDocuments
from auditor.demo.sim.spec import (
    AccountSpec,
)
from auditor.demo.sim.wire import (
    _arm_error,
    _compact,
    _opaque_token,
    _read_token,
    _Reply,
)

_GRAPH_PATH = re.compile(r"^/providers/microsoft\.resourcegraph/resources/?$", re.IGNORECASE)


_COLUMNS = [
    "id",
    "name",
    "type",
    "tenantId",
    "kind",
    "location",
    "resourceGroup",
    "subscriptionId",
    "managedBy",
    "sku",
    "plan",
    "properties",
    "tags",
    "identity",
    "zones",
    "extendedLocation",
]
_OBJECT_COLUMNS = {"sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation"}


def _shaped(page: list[dict[str, Any]], result_format: str) -> Any:
    """A page of rows as Resource Graph returns them: objects, or a table of columns and rows."""
    if result_format.lower() != "table":
        return page
    return {
        "columns": [{"name": c, "type": "object" if c in _OBJECT_COLUMNS else "string"} for c in _COLUMNS],
        "rows": [[row.get(c) for c in _COLUMNS] for row in page],
    }


class GraphPlane(ArmDocuments):
    """Answers the one Resource Graph question the auditor asks."""

    # -- Resource Graph -------------------------------------------------------------------------------

    def _graph(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes) -> _Reply:
        denied = self._arm_auth(headers, path)
        if denied is not None:
            return denied
        if method != "POST":
            return self._arm_reply(
                405,
                _arm_error("MethodNotAllowed", f"The requested resource does not support http method '{method}'."),
                path,
            )
        if "api-version" not in query:
            return self._arm_reply(
                400,
                _arm_error(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ),
                path,
            )
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            return self._arm_reply(400, _arm_error("InvalidRequestContent", "The request content was invalid."), path)
        text = str(request.get("query") or "")
        if not text.strip():
            return self._arm_reply(400, _arm_error("BadRequest", "Please provide a query."), path)
        options = request.get("options") or {}
        rows = self._graph_rows(text, [s.lower() for s in (request.get("subscriptions") or [])])
        offset = _read_token(options.get("$skipToken"))
        if offset < 0:
            return self._arm_reply(400, _arm_error("InvalidSkipToken", "The provided skip token is invalid."), path)
        offset += int(options.get("$skip") or 0)
        size = int(options.get("$top") or self.page_size)
        page = rows[offset : offset + size]
        result: dict[str, Any] = {"totalRecords": len(rows), "count": len(page)}
        result["data"] = _shaped(page, str(options.get("resultFormat", "objectArray")))
        result["facets"] = []
        result["resultTruncated"] = "false"
        if offset + size < len(rows):
            result["$skipToken"] = _opaque_token(offset + size)
        return self._arm_reply(
            200, _compact(result), path, {"x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05"}
        )

    def _graph_rows(self, text: str, subscriptions: list[str]) -> list[dict[str, Any]]:
        """Not KQL: the one question the auditor asks (the Cognitive Services accounts), filtered by the requested
        subscriptions. Any other query gets an empty result."""
        if not re.search(r"microsoft\.cognitiveservices/accounts", text, re.IGNORECASE):
            return []
        readable = {s.subscription_id.lower() for s in self.spec.subscriptions if s.deny is None}
        return [
            self._graph_row(account)
            for account in self.spec.accounts
            if (not subscriptions or account.subscription_id.lower() in subscriptions)
            # Resource Graph silently leaves out subscriptions the caller cannot read
            and account.subscription_id.lower() in readable
        ]

    def _graph_row(self, account: AccountSpec) -> dict[str, Any]:
        doc = self._account_json(account)
        return {
            "id": doc["id"],
            "name": doc["name"],
            "type": "microsoft.cognitiveservices/accounts",  # Resource Graph lower-cases the type
            "tenantId": self.spec.tenant_id,
            "kind": doc["kind"],
            "location": doc["location"],
            "resourceGroup": account.resource_group.lower(),
            "subscriptionId": account.subscription_id,
            "managedBy": "",
            "sku": doc["sku"],
            "plan": None,
            "properties": doc["properties"],
            "tags": doc["tags"],
            "identity": doc.get("identity"),
            "zones": None,
            "extendedLocation": None,
        }
