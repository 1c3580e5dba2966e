"""ARM for Microsoft.CognitiveServices: routing, paging (`nextLink` with an opaque `$skipToken`), the Reader's
refused writes, and the 404s ARM answers for missing subscriptions, groups and resources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from auditor.demo.sim.documents import _SYSTEM_RAI_POLICIES, ArmDocuments
from auditor.demo.sim.identity import _norm_resource
from auditor.demo.sim.monitor import DEMO_WORKSPACE, diagnostic_settings_json, logs_json, metrics_json
from auditor.demo.sim.wire import (
    _arm_error,
    _compact,
    _opaque_token,
    _read_token,
    _Reply,
)

LOGS_PREFIX = "/loganalytics/"
"""Where the simulated Log Analytics query API is served (`{endpoint}/v1/workspaces/{id}/query`)."""
_LOGS_QUERY = re.compile(r"^/loganalytics/v1/workspaces/(?P<workspace>[^/]+)/query/?$", re.IGNORECASE)
_SUB = r"/subscriptions/(?P<sub>[^/]+)"
_RG = _SUB + r"/resourcegroups/(?P<rg>[^/]+)"
_CS = r"/providers/microsoft\.cognitiveservices"
_ACCT = _RG + _CS + r"/accounts/(?P<acct>[^/]+)"
_ARM_ROUTES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern + r"/?$", re.IGNORECASE))
    for name, pattern in [
        ("subscriptions", r"^/subscriptions"),
        ("subscription", r"^" + _SUB),
        ("resource_groups", r"^" + _SUB + r"/resourcegroups"),
        ("resource_group", r"^" + _RG),
        ("accounts", r"^" + _SUB + _CS + r"/accounts"),
        ("accounts_rg", r"^" + _RG + _CS + r"/accounts"),
        ("account", r"^" + _ACCT),
        ("diagnostic_settings", r"^" + _ACCT + r"/providers/microsoft\.insights/diagnosticSettings"),
        ("metrics", r"^" + _ACCT + r"/providers/microsoft\.insights/metrics"),
        ("deployments", r"^" + _ACCT + r"/deployments"),
        ("deployment", r"^" + _ACCT + r"/deployments/(?P<dep>[^/]+)"),
        ("account_models", r"^" + _ACCT + r"/models"),
        ("rai_policies", r"^" + _ACCT + r"/raiPolicies"),
        ("rai_policy", r"^" + _ACCT + r"/raiPolicies/(?P<policy>[^/]+)"),
        ("models", r"^" + _SUB + _CS + r"/locations/(?P<loc>[^/]+)/models"),
        ("usages", r"^" + _SUB + _CS + r"/locations/(?P<loc>[^/]+)/usages"),
    ]
]


class ArmPlane(ArmDocuments):
    """ARM GETs: subscriptions, resource groups, accounts, deployments, models, usages, raiPolicies."""

    def _arm(self, method: str, path: str, query: dict[str, str], headers: Mapping[str, str]) -> _Reply:
        denied = self._arm_auth(headers, path)
        if denied is not None:
            return denied
        if "api-version" not in query:
            return self._arm_reply(
                400,
                _arm_error(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ),
                path,
            )
        if method != "GET":
            return self._arm_write(method, path)
        route, match = self._route(path)
        if route is None or match is None:
            return self._arm_reply(
                404,
                _arm_error(
                    "InvalidResourceType",
                    f"The resource type could not be found for api version "
                    f"'{query.get('api-version')}'. Path: '{path}'.",
                ),
                path,
            )
        groups = match.groupdict()
        if route == "subscriptions":
            return self._page(
                path,
                query,
                [self._subscription_json(s) for s in self.spec.subscriptions if s.deny != "SubscriptionNotFound"],
                self.page_size,
                tenant_level=True,
            )
        sub = self.spec.subscription(groups["sub"])
        if sub is None or sub.deny == "SubscriptionNotFound":
            return self._arm_reply(
                404, _arm_error("SubscriptionNotFound", f"The subscription '{groups['sub']}' could not be found."), path
            )
        if sub.deny == "AuthorizationFailed":
            return self._denied_read(path, route)
        return self._in_subscription(route, groups, sub, path, query)

    def _in_subscription(
        self, route: str, groups: Mapping[str, str], sub: Any, path: str, query: dict[str, str]
    ) -> _Reply:
        """A read under one subscription: the subscription, its groups and accounts, a region's models and usages."""
        if route == "subscription":
            return self._arm_reply(200, _compact(self._subscription_json(sub)), path)
        if route == "resource_groups":
            return self._page(path, query, [self._rg_json(sub, rg) for rg in sub.resource_groups], self.page_size)
        if route == "accounts":
            return self._page(path, query, [self._account_json(a) for a in sub.accounts], self.page_size)
        if route == "models":
            return self._page(path, query, self._models_json(groups["loc"]), self.page_size)
        if route == "usages":
            return self._page(path, query, self._usages_json(sub, groups["loc"], query.get("$filter")), self.page_size)
        rg = sub.resource_group(groups["rg"])
        if rg is None:
            # ResourceGroupNotFound text is standard ARM (UNVERIFIED: no public capture).
            return self._arm_reply(
                404, _arm_error("ResourceGroupNotFound", f"Resource group '{groups['rg']}' could not be found."), path
            )
        if route == "resource_group":
            return self._arm_reply(200, _compact(self._rg_json(sub, rg)), path)
        if route == "accounts_rg":
            return self._page(path, query, [self._account_json(a) for a in rg.accounts], self.page_size)
        account = next((a for a in rg.accounts if a.name.lower() == groups["acct"].lower()), None)
        if account is None:
            return self._arm_reply(
                404,
                _arm_error(
                    "ResourceNotFound",
                    (
                        f"The Resource 'Microsoft.CognitiveServices/accounts/{groups['acct']}' under resource group "
                        f"'{groups['rg']}' was not found. For more details please go to "
                        "https://aka.ms/ARMResourceNotFoundFix"
                    ),
                ),
                path,
            )
        return self._in_account(route, groups, account, path, query)

    def _in_account(
        self, route: str, groups: Mapping[str, str], account: Any, path: str, query: dict[str, str]
    ) -> _Reply:
        """A read under one account: the account, Monitor, deployments, its models and raiPolicies."""
        if route == "account":
            return self._arm_reply(200, _compact(self._account_json(account)), path)
        if route in ("diagnostic_settings", "metrics"):
            return self._monitor(route, account, path, query)
        if route == "deployments":
            return self._page(
                path,
                query,
                [self._deployment_json(account, d, query["api-version"]) for d in account.deployments],
                self.deployments_page_size,
            )
        if route == "account_models":
            return self._page(
                path,
                query,
                [m["model"] for m in self._models_json(account.location) if m["kind"].lower() == account.kind.lower()],
                self.page_size,
            )
        if route in ("rai_policies", "rai_policy"):
            return self._rai_policies(route, groups, account, path, query)
        deployment = account.deployment(groups["dep"])
        if deployment is None:
            return self._arm_reply(
                404, _arm_error("NotFound", f"Specified resource '{path.rstrip('/')}' cannot be found."), path
            )
        return self._arm_reply(200, _compact(self._deployment_json(account, deployment, query["api-version"])), path)

    def _rai_policies(
        self, route: str, groups: Mapping[str, str], account: Any, path: str, query: dict[str, str]
    ) -> _Reply:
        policies = [self._rai_policy_json(account, p) for p in _SYSTEM_RAI_POLICIES + account.rai_policies]
        if route == "rai_policies":
            listed = policies if account.lists_builtin_policies else policies[len(_SYSTEM_RAI_POLICIES) :]
            return self._page(path, query, listed, self.page_size)
        found = next((p for p in policies if p["name"].lower() == groups["policy"].lower()), None)
        if found is None:
            return self._arm_reply(
                404, _arm_error("NotFound", f"Specified resource '{path.rstrip('/')}' cannot be found."), path
            )
        return self._arm_reply(200, _compact(found), path)

    def _monitor(self, route: str, account: Any, path: str, query: Mapping[str, str]) -> _Reply:
        """Azure Monitor on the account: diagnostic settings (a list without paging) and metrics."""
        if route == "diagnostic_settings":
            if account.diagnostic_settings is None:
                return self._denied_read(path, route)
            return self._arm_reply(200, _compact({"value": diagnostic_settings_json(account)}), path)
        return self._arm_reply(200, _compact(metrics_json(account, query)), path)

    def _logs(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> _Reply:
        """Log Analytics' query API: a bearer token for the Log Analytics audience, a known workspace, the
        auditor's RequestResponse summary (error shape: `{"error": {"code", "message"}}`)."""

        def error(status: int, code: str, message: str) -> _Reply:
            return _Reply(status, _compact({"error": {"code": code, "message": message}}), self._data_headers(None))

        scheme, _, value = (headers.get("authorization") or "").partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        audiences = {_norm_resource(a) for a in ("https://api.loganalytics.io", self.management_url + "/loganalytics")}
        if token is None or token.resource not in audiences:
            return error(401, "InvalidTokenError", "The provided authentication is not valid for this resource")
        match = _LOGS_QUERY.match(path)
        if match is None or method != "POST":
            return error(404, "PathNotFoundError", f"The requested path does not exist: {path}")
        if match.group("workspace").lower() != DEMO_WORKSPACE:
            return error(404, "WorkspaceNotFoundError", f"Workspace {match.group('workspace')} could not be found")
        answer = logs_json(self.spec.accounts, body)
        if answer is None:
            return error(400, "BadArgumentError", "The request had some invalid properties")
        return _Reply(200, _compact(answer), self._data_headers(None))

    @staticmethod
    def _route(path: str) -> tuple[str | None, re.Match[str] | None]:
        for name, pattern in _ARM_ROUTES:
            match = pattern.match(path)
            if match:
                return name, match
        return None, None

    def _denied_read(self, path: str, route: str) -> _Reply:
        """ARM's 403 for a read the caller has no role for (the text of ARM's AuthorizationFailed, read action)."""
        resource_type = {
            "accounts": "accounts",
            "accounts_rg": "accounts",
            "account": "accounts",
            "deployments": "accounts/deployments",
            "deployment": "accounts/deployments",
            "rai_policies": "accounts/raiPolicies",
            "rai_policy": "accounts/raiPolicies",
            "models": "locations/models",
            "usages": "locations/usages",
            "account_models": "accounts/models",
        }.get(route)
        if route == "diagnostic_settings":
            resource_type = None
        action = (
            f"Microsoft.CognitiveServices/{resource_type}/read"
            if resource_type
            else "Microsoft.Insights/diagnosticSettings/read"
            if route == "diagnostic_settings"
            else "Microsoft.Resources/subscriptions/read"
        )
        scope = path.rstrip("/")
        message = (
            f"The client '{self.spec.caller.client_id}' with object id '{self.spec.caller.principal_id}' does not "
            f"have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If "
            "access was recently granted, please refresh your credentials."
        )
        return self._arm_reply(403, _arm_error("AuthorizationFailed", message), path)

    def _arm_write(self, method: str, path: str) -> _Reply:
        """The caller is a Reader: every write and listKeys is refused with ARM's AuthorizationFailed."""
        trimmed = path.rstrip("/")
        namespace, _, rest = trimmed.partition("/providers/")
        if rest:
            parts = rest.split("/")
            ns, segments = parts[0], parts[1:]
            types = segments[0::2]
            scope = trimmed
            if len(segments) % 2 == 1:  # .../accounts/{name}/listKeys -> an action on the account
                action = f"{ns}/{'/'.join(types)}/action"
                scope = trimmed.rsplit("/", 1)[0]
            else:
                verb = "delete" if method == "DELETE" else "action" if method == "POST" else "write"
                action = f"{ns}/{'/'.join(types)}/{verb}"
        else:
            verb = "delete" if method == "DELETE" else "write"
            action = f"Microsoft.Resources/subscriptions/resourceGroups/{verb}"
            scope = namespace or trimmed
        message = (
            f"The client '{self.spec.caller.client_id}' with object id '{self.spec.caller.principal_id}' does not "
            f"have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If "
            "access was recently granted, please refresh your credentials."
        )
        return self._arm_reply(403, _arm_error("AuthorizationFailed", message), path)

    def _page(
        self, path: str, query: Mapping[str, str], items: list[Any], size: int, tenant_level: bool = False
    ) -> _Reply:
        """`{"value": [...], "nextLink": ...}`; nextLink is an absolute URL carrying an opaque `$skipToken`."""
        offset = _read_token(query.get("$skipToken"))
        if offset < 0:
            return self._arm_reply(400, _arm_error("InvalidSkipToken", "The provided skip token is invalid."), path)
        page: dict[str, Any] = {"value": items[offset : offset + size]}
        if offset + size < len(items):
            params = {k: v for k, v in query.items() if k != "$skipToken"}
            params["$skipToken"] = _opaque_token(offset + size)
            page["nextLink"] = f"{self.management_url}{path}?{urlencode(params)}"
        if tenant_level:
            page["count"] = {"type": "Total", "value": len(items)}
        return self._arm_reply(200, _compact(page), path)
