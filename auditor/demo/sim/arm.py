"""ARM for Microsoft.CognitiveServices: routing, paging (`nextLink` with an opaque `$skipToken`), the Reader's
refused writes, and the 404s ARM answers for missing subscriptions, groups and resources.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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
        denied = self._arm_auth(headers, path) or self._arm_preflight(method, path, query)
        if denied is not None:
            return denied
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
            listed = [self._subscription_json(s) for s in self.spec.subscriptions if s.deny != "SubscriptionNotFound"]
            return self._page(path, query, listed, self.page_size, tenant_level=True)
        sub = self.spec.subscription(groups["sub"])
        if sub is None or sub.deny == "SubscriptionNotFound":
            return self._arm_reply(
                404, _arm_error("SubscriptionNotFound", f"The subscription '{groups['sub']}' could not be found."), path
            )
        if sub.deny == "AuthorizationFailed":
            return self._denied_read(path, route)
        if route in _SUBSCRIPTION_ROUTES:
            return _SUBSCRIPTION_ROUTES[route](self, sub, groups, path, query)
        rg = sub.resource_group(groups["rg"])
        if rg is None:
            # ResourceGroupNotFound text is standard ARM (UNVERIFIED in the reference, §1.9).
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
        return _ACCOUNT_ROUTES[route](self, account, groups, path, query)

    def _arm_preflight(self, method: str, path: str, query: Mapping[str, str]) -> _Reply | None:
        """ARM's answers before routing: a missing api-version (400), and any write (the caller is a Reader)."""
        if "api-version" not in query:
            return self._missing_api_version(path)
        if method != "GET":
            return self._arm_write(method, path)
        return None

    # -- route handlers (tables at the end of the module) ---------------------------------------------

    def _get_subscription(self, sub: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]) -> _Reply:
        return self._arm_reply(200, _compact(self._subscription_json(sub)), path)

    def _list_resource_groups(self, sub: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]) -> _Reply:
        return self._page(path, query, [self._rg_json(sub, rg) for rg in sub.resource_groups], self.page_size)

    def _list_accounts(self, sub: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]) -> _Reply:
        return self._page(path, query, [self._account_json(a) for a in sub.accounts], self.page_size)

    def _list_models(self, sub: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]) -> _Reply:
        return self._page(path, query, self._models_json(groups["loc"]), self.page_size)

    def _list_usages(self, sub: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]) -> _Reply:
        return self._page(path, query, self._usages_json(sub, groups["loc"], query.get("$filter")), self.page_size)

    def _get_account(self, account: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]) -> _Reply:
        return self._arm_reply(200, _compact(self._account_json(account)), path)

    def _get_diagnostic_settings(
        self, account: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]
    ) -> _Reply:
        return self._monitor("diagnostic_settings", account, path, query)

    def _get_metrics(self, account: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]) -> _Reply:
        return self._monitor("metrics", account, path, query)

    def _list_deployments(self, account: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]) -> _Reply:
        listed = [self._deployment_json(account, d, query["api-version"]) for d in account.deployments]
        return self._page(path, query, listed, self.deployments_page_size)

    def _get_deployment(self, account: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]) -> _Reply:
        deployment = account.deployment(groups["dep"])
        if deployment is None:
            return self._arm_reply(
                404, _arm_error("NotFound", f"Specified resource '{path.rstrip('/')}' cannot be found."), path
            )
        return self._arm_reply(200, _compact(self._deployment_json(account, deployment, query["api-version"])), path)

    def _list_account_models(
        self, account: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]
    ) -> _Reply:
        models = self._models_json(account.location)
        listed = [m["model"] for m in models if m["kind"].lower() == account.kind.lower()]
        return self._page(path, query, listed, self.page_size)

    def _rai_policies(self, account: Any, groups: Mapping[str, str], path: str, query: Mapping[str, str]) -> _Reply:
        policies = [self._rai_policy_json(account, p) for p in _SYSTEM_RAI_POLICIES + account.rai_policies]
        if "policy" not in groups or groups["policy"] is None:
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
        """ARM's 403 for a read the caller has no role for (the text of §1.9's AuthorizationFailed, read action)."""
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
        """The caller is a Reader: every write and listKeys is refused with ARM's AuthorizationFailed (§1.9)."""
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


_Handler = Callable[[ArmPlane, Any, Mapping[str, str], str, Mapping[str, str]], _Reply]
_SUBSCRIPTION_ROUTES: dict[str, _Handler] = {
    "subscription": ArmPlane._get_subscription,
    "resource_groups": ArmPlane._list_resource_groups,
    "accounts": ArmPlane._list_accounts,
    "models": ArmPlane._list_models,
    "usages": ArmPlane._list_usages,
}
"""Routes answered once the subscription is known (handler(plane, subscription, groups, path, query))."""
_ACCOUNT_ROUTES: dict[str, _Handler] = {
    "account": ArmPlane._get_account,
    "diagnostic_settings": ArmPlane._get_diagnostic_settings,
    "metrics": ArmPlane._get_metrics,
    "deployments": ArmPlane._list_deployments,
    "deployment": ArmPlane._get_deployment,
    "account_models": ArmPlane._list_account_models,
    "rai_policies": ArmPlane._rai_policies,
    "rai_policy": ArmPlane._rai_policies,
}
"""Routes answered once the account is known (handler(plane, account, groups, path, query))."""
