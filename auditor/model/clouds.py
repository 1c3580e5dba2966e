"""Azure clouds by the az CLI's names: management endpoint, sign-in authority, data-plane scope and hosts."""

from __future__ import annotations

from dataclasses import dataclass, replace

from auditor.model.errors import InputError


@dataclass(frozen=True)
class Cloud:
    """Endpoints of one Azure cloud."""

    name: str
    management_endpoint: str
    authority_host: str
    cognitive_scope: str
    data_plane_domains: tuple[str, ...]
    logs_endpoint: str = "https://api.loganalytics.io"
    """Log Analytics' query API (azure-monitor-query LogsQueryClient's `endpoint`)."""
    regional_domain: str = ""
    """Where an account without a custom subdomain is served: `https://{region}.{regional_domain}/` (recorded
    real accounts in Azure/azure-cli's cognitiveservices recordings use https://westus2.api.cognitive.microsoft.com/).
    Such an endpoint takes API keys only: Entra ID tokens need a custom subdomain."""

    def is_regional(self, host: str) -> bool:
        """A regional endpoint host: one DNS label (the region) under the cloud's regional domain."""
        label, _, rest = host.lower().partition(".")
        return bool(self.regional_domain) and rest == self.regional_domain and label.isalnum()

    @property
    def management_scope(self) -> str:
        """ARM's token scope, derived from the endpoint as the az CLI does."""
        return self.management_endpoint.rstrip("/") + "/.default"


CLOUDS: dict[str, Cloud] = {
    "AzureCloud": Cloud(
        "AzureCloud",
        "https://management.azure.com",
        "login.microsoftonline.com",
        "https://cognitiveservices.azure.com/.default",
        ("openai.azure.com", "cognitiveservices.azure.com", "services.ai.azure.com"),
        regional_domain="api.cognitive.microsoft.com",
    ),
    "AzureChinaCloud": Cloud(
        "AzureChinaCloud",
        "https://management.chinacloudapi.cn",
        "login.chinacloudapi.cn",
        "https://cognitiveservices.azure.cn/.default",
        ("openai.azure.cn", "cognitiveservices.azure.cn"),
        "https://api.loganalytics.azure.cn",
        regional_domain="api.cognitive.azure.cn",
    ),
    "AzureUSGovernment": Cloud(
        "AzureUSGovernment",
        "https://management.usgovcloudapi.net",
        "login.microsoftonline.us",
        "https://cognitiveservices.azure.us/.default",
        ("openai.azure.us", "cognitiveservices.azure.us"),
        "https://api.loganalytics.us",
        regional_domain="api.cognitive.microsoft.us",
    ),
}


def get_cloud(name: str, management_endpoint: str | None = None) -> Cloud:
    """The named cloud, with its management endpoint overridden when one is given."""
    try:
        cloud = CLOUDS[name]
    except KeyError:
        raise InputError(f"unknown cloud {name!r}: choose one of {', '.join(CLOUDS)}") from None
    if management_endpoint:
        if not management_endpoint.startswith("https://"):
            raise InputError(f"--management-endpoint must be an https:// URL, not {management_endpoint!r}")
        cloud = replace(cloud, management_endpoint=management_endpoint.rstrip("/"))
    return cloud


def regional_endpoint(endpoint: str | None) -> bool:
    """Whether an account's endpoint is a regional one of any cloud (no custom subdomain)."""
    from urllib.parse import urlsplit

    host = (urlsplit(endpoint).hostname or "") if endpoint else ""
    return any(cloud.is_regional(host) for cloud in CLOUDS.values())
