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
    ),
    "AzureChinaCloud": Cloud(
        "AzureChinaCloud",
        "https://management.chinacloudapi.cn",
        "login.chinacloudapi.cn",
        "https://cognitiveservices.azure.cn/.default",
        ("openai.azure.cn", "cognitiveservices.azure.cn"),
        "https://api.loganalytics.azure.cn",
    ),
    "AzureUSGovernment": Cloud(
        "AzureUSGovernment",
        "https://management.usgovcloudapi.net",
        "login.microsoftonline.us",
        "https://cognitiveservices.azure.us/.default",
        ("openai.azure.us", "cognitiveservices.azure.us"),
        "https://api.loganalytics.us",
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
