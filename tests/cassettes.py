"""Recording and replaying the enumerator's HTTP traffic with vcrpy, scrubbed of every secret.

Re-record against the simulated tenant (what CI replays):

    python -m tests.cassettes

Re-record against a real subscription (signs in with DefaultAzureCredential, e.g. after `az login`):

    python -m tests.cassettes --real --subscription SUB_ID --resource ACCOUNT_NAME

Either way the cassette keeps no Authorization header, key, token or real subscription id: requests to
sign-in endpoints are not recorded at all, headers are cut to a harmless few, and subscription ids are
replaced by fixed fake ones.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import vcr

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

CASSETTE_DIR = Path(__file__).parent / "cassettes"
ENUMERATOR_CASSETTE = CASSETTE_DIR / "enumerator.yaml"
FAKE_SUB = "00000000-0000-4000-8000-{:012d}"
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_KEEP_RESPONSE_HEADERS = {"content-type"}
_SIGN_IN_HOSTS = ("login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn")


class Scrubber:
    """Maps every subscription id seen to a fake one and strips what could identify or authorise."""

    def __init__(self, subscriptions: list[str]) -> None:
        self._map = {s.lower(): FAKE_SUB.format(i + 1) for i, s in enumerate(sorted(set(subscriptions)))}

    def text(self, value: str) -> str:
        def swap(match: re.Match[str]) -> str:
            return self._map.get(match.group(0).lower(), match.group(0))

        return _GUID.sub(swap, value)

    def request(self, request: Any) -> Any:
        parts = urlsplit(request.uri)
        if parts.hostname in _SIGN_IN_HOSTS or "oauth2" in parts.path or "/msi/" in parts.path or "token" in parts.path:
            return None
        request.uri = self.text(urlunsplit(("https", "management.azure.com", parts.path, parts.query, "")))
        request.headers = {}
        if request.body:
            request.body = self.text(request.body.decode() if isinstance(request.body, bytes) else request.body)
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        response["headers"] = {k: v for k, v in response["headers"].items() if k.lower() in _KEEP_RESPONSE_HEADERS}
        body = response["body"].get("string", b"")
        text = body.decode() if isinstance(body, bytes) else body
        text = self.text(text)
        text = re.sub(r"https://127\.0\.0\.1:\d+", "https://management.azure.com", text)
        text = re.sub(r'"internalId"\s*:\s*"[^"]*"', '"internalId":"scrubbed"', text)
        response["body"]["string"] = text.encode()
        return response


def _without_api_version(query: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in query if k != "api-version")


def query_sans_api_version(r1: Any, r2: Any) -> None:
    """Match queries but ignore api-version, which follows the installed SDK."""
    assert _without_api_version(r1.query) == _without_api_version(r2.query)


def recorder(scrubber: Scrubber | None = None, *, record_mode: str = "none") -> vcr.VCR:
    recorder = vcr.VCR(
        record_mode=record_mode,
        match_on=["method", "path", "query_sans_api_version"],
        decode_compressed_response=True,
        filter_headers=["authorization", "api-key", "x-identity-header", "metadata"],
    )
    recorder.register_matcher("query_sans_api_version", query_sans_api_version)
    if scrubber is not None:
        recorder.before_record_request = scrubber.request
        recorder.before_record_response = scrubber.response
    return recorder


def _record(args: argparse.Namespace) -> None:
    from auditor.model.clouds import get_cloud
    from auditor.pipeline.gather import gather_facts
    from auditor.pipeline.options import AuditOptions
    from auditor.sources.azure import AzureEnumerator

    ENUMERATOR_CASSETTE.unlink(missing_ok=True)
    CASSETTE_DIR.mkdir(exist_ok=True)
    if args.real:
        from azure.identity import DefaultAzureCredential

        credential: TokenCredential = DefaultAzureCredential()
        enumerator = AzureEnumerator(credential, get_cloud("AzureCloud"))
        options = AuditOptions(
            resources=tuple(args.resource),
            subscriptions=tuple(args.subscription),
            all_accounts=not args.resource,
            concurrency=1,
        )
        scrubber = Scrubber(list(args.subscription))
        with recorder(scrubber, record_mode="all").use_cassette(str(ENUMERATOR_CASSETTE)):
            gather_facts(enumerator, options)
        return
    import os

    from azure.identity import ManagedIdentityCredential

    from auditor.demo.sim import SimulatedTenant

    with SimulatedTenant() as tenant:
        os.environ["IDENTITY_ENDPOINT"] = tenant.identity_endpoint
        os.environ["IDENTITY_HEADER"] = tenant.identity_header
        credential = ManagedIdentityCredential()
        enumerator = AzureEnumerator(
            credential, get_cloud("AzureCloud", tenant.management_url), connection_verify=tenant.ca_path
        )
        subscriptions = enumerator.list_subscriptions()
        scrubber = Scrubber(subscriptions)
        with recorder(scrubber, record_mode="all").use_cassette(str(ENUMERATOR_CASSETTE)):
            gather_facts(enumerator, AuditOptions(subscriptions=tuple(subscriptions), all_accounts=True, concurrency=1))
    print(f"recorded {ENUMERATOR_CASSETTE}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Re-record the enumerator cassette.")
    parser.add_argument("--real", action="store_true", help="record against real Azure instead of the simulated tenant")
    parser.add_argument("--subscription", action="append", default=[])
    parser.add_argument("--resource", action="append", default=[])
    _record(parser.parse_args())
