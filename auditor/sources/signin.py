"""What to tell a person whose sign-in to Azure failed: a few lines, not Azure Identity's 1,900-character report.

DefaultAzureCredential tries a chain of credentials and raises one ClientAuthenticationError whose message lists
each attempt ("Attempted credentials:\\n\\tEnvironmentCredential: ... unavailable ..."). A credential that is
*unavailable* was not set up here; one that was set up and still failed (a service principal whose token request
could not reach Entra ID, a wrong secret) is the real story, and a network failure is not "no credential".
Azure Identity's wording is read from azure-identity's source (azure/identity/_credentials/default.py and
_internal/decorators.py, Azure/azure-sdk-for-python); anything else is reported in its first sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ATTEMPT = re.compile(r"^\s*(?P<name>[A-Za-z]+Credential):\s*(?P<text>.*)$")
_NETWORK = re.compile(
    r"(Failed to establish a new connection|Name or service not known|Temporary failure in name resolution|"
    r"Connection (?:refused|reset|aborted)|timed out|ServiceRequestError|getaddrinfo failed|No route to host|"
    r"ProxyError|SSLError|CERTIFICATE_VERIFY_FAILED|Max retries exceeded)",
    re.IGNORECASE,
)
_UNAVAILABLE = (
    "unavailable",
    "could not be found",
    "not installed",
    "not found on path",
    "cli not found",
    "requires the",
    "not configured",
    "run 'az login'",
    "connect-azaccount",
    "no accounts were found",
    "not logged in",
)
"""How azure-identity's credentials say they are not set up here (CredentialUnavailableError messages)."""
_FRIENDLY = {
    "EnvironmentCredential": "environment variables (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET)",
    "WorkloadIdentityCredential": "workload identity (AZURE_FEDERATED_TOKEN_FILE)",
    "ManagedIdentityCredential": "managed identity",
    "SharedTokenCacheCredential": "shared token cache",
    "VisualStudioCodeCredential": "VS Code",
    "AzureCliCredential": "Azure CLI (az login)",
    "AzurePowerShellCredential": "Azure PowerShell",
    "AzureDeveloperCliCredential": "Azure Developer CLI (azd)",
    "BrokerCredential": "broker",
}
FIX = (
    "fix: run `az login` (then `az account set --subscription ID`), or set AZURE_CLIENT_ID, AZURE_TENANT_ID and "
    "AZURE_CLIENT_SECRET; or try it without Azure: `audit --demo`, or `audit --offline --plan FILE`"
)
VERBOSE = "more: --verbose prints Azure Identity's own report"
MAX_LINE = 300


@dataclass(frozen=True)
class Attempt:
    credential: str
    text: str

    @property
    def unavailable(self) -> bool:
        """Not set up here (CredentialUnavailableError's wordings), as opposed to set up and failing."""
        lowered = self.text.lower()
        return any(marker in lowered for marker in _UNAVAILABLE)

    @property
    def network(self) -> bool:
        return bool(_NETWORK.search(self.text))


def attempts(message: str) -> list[Attempt]:
    """Each credential DefaultAzureCredential tried, with what it said (its lines joined)."""
    found: list[Attempt] = []
    for line in message.splitlines():
        match = _ATTEMPT.match(line)
        if match:
            found.append(Attempt(match["name"], match["text"].strip()))
        elif found and line.startswith(("\t\t", "    ")):
            found[-1] = Attempt(found[-1].credential, f"{found[-1].text} {line.strip()}")
    return found


def _cut(text: str, room: int) -> str:
    text = " ".join(text.split())
    if len(text) <= room:
        return text
    cut = text[: room - 1]
    return cut[: cut.rfind(" ")] if " " in cut[room // 2 :] else cut


def sign_in_message(message: str) -> str:
    """At most four lines: what failed, what was tried, the one likely fix, and --verbose for the detail."""
    tried = attempts(message)
    # The chain stops at the first credential that is set up and fails (azure/identity/_credentials/chained.py):
    # only the last attempt can be a real failure; the ones before it were not set up here.
    failed = [a for a in tried[-1:] if not a.unavailable]
    network = [a for a in failed if a.network]
    if not tried and _NETWORK.search(message):  # a single credential (not the chain) that could not connect
        network = [Attempt("", message)]
    if network:
        who = _FRIENDLY.get(network[0].credential, network[0].credential) or "the credential"
        reason = _NETWORK.search(network[0].text)
        head = (
            f"could not reach Microsoft Entra ID to sign in with {who}: a network failure "
            f"({reason.group(0) if reason else 'no connection'}), not a missing credential"
        )
        fix = "fix: check the network, proxy (HTTPS_PROXY) and CA bundle (--ca-bundle); or try `audit --demo` without Azure"
    elif failed:
        who = _FRIENDLY.get(failed[0].credential, failed[0].credential)
        head = f"signing in with {who} failed: {_cut(failed[0].text, 160)}"
        fix = FIX
    else:
        head = "no Azure credential is set up here" if tried else f"could not sign in to Azure: {_cut(message, 160)}"
        fix = FIX
    lines = [head]
    if tried:
        lines.append("tried: " + ", ".join(_FRIENDLY.get(a.credential, a.credential) for a in tried))
    lines += [fix, VERBOSE]
    return "\n".join(_cut(line, MAX_LINE - len("audit: error: ")) for line in lines)
