"""Classes 2 and 3: a faulty Azure. One subscription's account list failing, wrong-shaped JSON, hostile
Retry-After values, pages that repeat forever: each becomes an incomplete target or an unknown with the
reason, everything else is still audited and reported, the run exits 3, never a traceback, never a hang.

Error bodies are ARM's `{"error": {"code", "message"}}` envelope; the 403 AuthorizationFailed message ("The
client '...' with object id '...' does not have authorization to perform action '...' over scope '...'") and
the 404 SubscriptionNotFound one ("The subscription '...' could not be found.") follow the texts quoted in
public Azure troubleshooting pages and SDK test fixtures (found with the look-up tools, 2026-12-03)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.demo.sim import FaultRule, SimulatedTenant

SUB1 = "00000000-0000-4000-8000-000000000001"
SUB2 = "00000000-0000-4000-8000-000000000002"
SUB2_ACCOUNTS = rf"^/subscriptions/{SUB2}/providers/Microsoft\.CognitiveServices/accounts$"
SUB1_NAMES = {"contoso-aoai-eus2", "contoso-ai-swc"}


def _run(tenant: SimulatedTenant, out: Path, *args: str) -> int:
    return main(["--management-endpoint", tenant.management_url, "--out", str(out), "--quiet", *args])


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _arm_error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


SUBSCRIPTION_FAULTS = {
    "500": FaultRule(
        SUB2_ACCOUNTS, 500, _arm_error("InternalServerError", "Encountered internal server error."), {}, None
    ),
    "sustained-429": FaultRule(
        SUB2_ACCOUNTS,
        429,
        _arm_error("SubscriptionRequestsThrottled", "Number of 'read' requests exceeded."),
        {"Retry-After": "0"},
        None,
    ),
    "truncated-json": FaultRule(SUB2_ACCOUNTS, 200, '{"value": [{"id": "/subscriptions/', {}, None),
    "403": FaultRule(
        SUB2_ACCOUNTS,
        403,
        _arm_error(
            "AuthorizationFailed",
            "The client 'x' with object id 'x' does not have authorization to perform action "
            "'Microsoft.CognitiveServices/accounts/read' over scope '/subscriptions/" + SUB2 + "'.",
        ),
        {},
        None,
    ),
    "404": FaultRule(
        SUB2_ACCOUNTS,
        404,
        _arm_error("SubscriptionNotFound", f"The subscription '{SUB2}' could not be found."),
        {},
        None,
    ),
    "value-null": FaultRule(SUB2_ACCOUNTS, 200, {"value": None}, {}, None),
    "value-string": FaultRule(SUB2_ACCOUNTS, 200, {"value": "accounts"}, {}, None),
    "top-level-array": FaultRule(SUB2_ACCOUNTS, 200, "[1, 2, 3]", {}, None),
    "properties-string": FaultRule(
        SUB2_ACCOUNTS,
        200,
        {
            "value": [
                {
                    "id": f"/subscriptions/{SUB2}/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/x",
                    "name": "x",
                    "kind": "OpenAI",
                    "location": "westus",
                    "properties": "Succeeded",
                }
            ]
        },
        {},
        None,
    ),
}


@pytest.mark.parametrize("fault", sorted(SUBSCRIPTION_FAULTS))
def test_one_subscriptions_account_list_failing_leaves_the_others_audited(
    tenant: SimulatedTenant, tmp_path: Path, capsys, fault: str
) -> None:
    tenant.add_fault(SUBSCRIPTION_FAULTS[fault])
    args = ("--subscription", SUB1, "--subscription", SUB2, "--discovery", "list", "--fail-on", "never")
    code = _run(tenant, tmp_path, "--all", *args)
    err = capsys.readouterr().err
    assert "Traceback" not in err and code == 3, err
    report = _report(tmp_path)
    targets = {t["name"]: t for t in report["targets"]}
    assert set(targets) >= SUB1_NAMES
    assert all(targets[n]["status"] == "complete" for n in SUB1_NAMES)
    broken = [t for t in report["targets"] if t["status"] == "incomplete"]
    assert broken and all(SUB2 in t["id"] for t in broken), broken
    assert all(t["reasons"] for t in broken)
    for name in ("report.html", "junit.xml", "report.sarif", "summary.md"):
        assert (tmp_path / name).is_file()


@pytest.mark.parametrize("fault", ["500", "403", "404", "truncated-json"])
def test_name_lookup_survives_a_failing_subscription(tenant: SimulatedTenant, tmp_path: Path, capsys, fault) -> None:
    tenant.add_fault(SUBSCRIPTION_FAULTS[fault])
    args = ("--subscription", SUB1, "--subscription", SUB2, "--discovery", "list", "--fail-on", "never")
    assert _run(tenant, tmp_path / "a", "--resource", "contoso-ai-swc", *args) == 3
    report = _report(tmp_path / "a")
    assert {t["name"] for t in report["targets"] if t["status"] == "complete"} == {"contoso-ai-swc"}
    # a name not found while a subscription could not be searched is not "not found": it may live there
    assert _run(tenant, tmp_path / "b", "--resource", "fabrikam-aoai-wus", *args) == 3
    report = _report(tmp_path / "b")
    assert any("fabrikam-aoai-wus" in r for t in report["targets"] for r in t["reasons"]), report["targets"]
    assert "Traceback" not in capsys.readouterr().err


WRONG_SHAPES = {
    "deployments value null": (r"/accounts/fabrikam-aoai-wus/deployments$", {"value": None}),
    "deployments value string": (r"/accounts/fabrikam-aoai-wus/deployments$", {"value": "oops"}),
    "deployments top-level array": (r"/accounts/fabrikam-aoai-wus/deployments$", [{"name": "x"}]),
    "deployment properties string": (
        r"/accounts/fabrikam-aoai-wus/deployments$",
        {
            "value": [
                {
                    "id": "/x/deployments/d",
                    "name": "d",
                    "properties": "Succeeded",
                    "sku": {"name": "S", "capacity": "lots"},
                }
            ]
        },
    ),
    "usages non-numeric": (
        r"/locations/westus/usages$",
        {
            "value": [
                {"name": {"value": "OpenAI.Standard.gpt-4o"}, "currentValue": "many", "limit": "NaN", "unit": "Count"}
            ]
        },
    ),
    "catalog unparsable date": (
        r"/locations/westus/models$",
        {
            "value": [
                {
                    "kind": "OpenAI",
                    "model": {
                        "format": "OpenAI",
                        "name": "gpt-4o",
                        "version": "2024-11-20",
                        "deprecation": {"inference": "2099-13-45T00:00:00Z"},
                        "skus": [{"name": "Standard", "deprecationDate": "soon", "capacity": {"maximum": "1e999"}}],
                    },
                }
            ]
        },
    ),
}


@pytest.mark.parametrize("shape", sorted(WRONG_SHAPES))
def test_wrong_shaped_json_is_a_gap_not_a_crash(tenant: SimulatedTenant, tmp_path: Path, capsys, shape: str) -> None:
    pattern, body = WRONG_SHAPES[shape]
    tenant.add_fault(FaultRule(pattern, 200, json.dumps(body), {"Content-Type": "application/json"}, None))
    code = _run(tenant, tmp_path, "--resource", "fabrikam-aoai-wus", "--fail-on", "never")
    err = capsys.readouterr().err
    assert "Traceback" not in err and code in (0, 3), err
    assert (tmp_path / "report.json").is_file()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "1e999", "soon", "Wed, 99 Foo 2026 00:00:00 GMT"])
def test_hostile_retry_after_values_neither_crash_nor_hang(tenant: SimulatedTenant, tmp_path: Path, value) -> None:
    tenant.add_fault(FaultRule.arm_throttled(r"/deployments$", times=2))
    tenant.add_fault(
        FaultRule(r"/deployments$", 429, _arm_error("TooManyRequests", "slow down"), {"Retry-After": value}, 2)
    )
    started = time.monotonic()
    code = _run(tenant, tmp_path, "--resource", "fabrikam-aoai-wus", "--fail-on", "never")
    assert code in (0, 3) and time.monotonic() - started < 60


def test_a_one_hour_retry_after_is_not_obeyed_and_says_so(tenant: SimulatedTenant, tmp_path: Path) -> None:
    tenant.add_fault(
        FaultRule(r"/deployments$", 429, _arm_error("TooManyRequests", "slow down"), {"Retry-After": "3600"}, None)
    )
    started = time.monotonic()
    code = _run(tenant, tmp_path, "--resource", "fabrikam-aoai-wus", "--fail-on", "never")
    assert time.monotonic() - started < 30
    assert code == 3
    (target,) = _report(tmp_path)["targets"]
    assert any("3600" in r and "not waited" in r for r in target["reasons"]), target


def test_a_next_link_that_repeats_forever_is_detected(tenant: SimulatedTenant, tmp_path: Path) -> None:
    looping = f"{tenant.management_url}/subscriptions/{SUB2}/providers/Microsoft.CognitiveServices/accounts?api-version=2025-06-01&$skipToken=again"
    tenant.add_fault(FaultRule(SUB2_ACCOUNTS, 200, {"value": [], "nextLink": looping}, {}, None))
    started = time.monotonic()
    args = ("--subscription", SUB1, "--subscription", SUB2, "--discovery", "list", "--fail-on", "never")
    assert _run(tenant, tmp_path, "--all", *args) == 3
    assert time.monotonic() - started < 60
    reasons = [r for t in _report(tmp_path)["targets"] for r in t["reasons"]]
    assert any("repeat" in r for r in reasons), reasons


def test_a_resource_graph_skip_token_that_repeats_is_detected(tenant: SimulatedTenant, tmp_path: Path) -> None:
    body = {"totalRecords": 5, "count": 0, "data": [], "facets": [], "resultTruncated": "false", "$skipToken": "same"}
    tenant.add_fault(FaultRule(r"providers/Microsoft\.ResourceGraph/resources", 200, body, {}, None, plane="graph"))
    started = time.monotonic()
    args = ("--subscription", SUB1, "--subscription", SUB2, "--discovery", "resource-graph", "--fail-on", "never")
    code = _run(tenant, tmp_path, "--all", *args)
    assert time.monotonic() - started < 60
    # the loop is stopped, and discovery falls back to listing each subscription: nothing is missed
    assert code == 0
    assert SUB1_NAMES | {"fabrikam-aoai-wus"} <= {t["name"] for t in _report(tmp_path)["targets"]}
    assert len(tenant.requests(plane="graph")) < 10


def test_a_lone_surrogate_in_an_azure_message_reaches_every_format(tenant: SimulatedTenant, tmp_path: Path) -> None:
    body = '{"error": {"code": "InternalServerError", "message": "bad \\ud800 byte \\udfff here"}}'
    tenant.add_fault(FaultRule(r"/accounts/fabrikam-aoai-wus/deployments$", 500, body, {}, None))
    code = _run(tenant, tmp_path, "--resource", "fabrikam-aoai-wus", "--fail-on", "never")
    assert code == 3
    for name in ("report.html", "junit.xml", "report.json", "report.sarif", "summary.md"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "byte" in text or name == "summary.md", name


@pytest.mark.parametrize(
    "endpoint",
    ["https://evil.openai.azure.com/\r\n::error::pwned\x1b]0;x\x07", "https://evil\t.openai.azure.com/"],
    ids=["crlf-esc", "tab"],
)
def test_an_endpoint_with_control_characters_is_never_called(
    tenant: SimulatedTenant, tmp_path: Path, capsys, endpoint: str
) -> None:
    account = {
        "id": f"/subscriptions/{SUB2}/resourceGroups/rg-dev/providers/Microsoft.CognitiveServices/accounts/evil",
        "name": "evil",
        "kind": "OpenAI",
        "location": "westus",
        "sku": {"name": "S0"},
        "properties": {
            "endpoint": endpoint,
            "provisioningState": "Succeeded",
        },
    }
    tenant.add_fault(FaultRule(SUB2_ACCOUNTS, 200, {"value": [account]}, {}, None))
    args = ("--subscription", SUB2, "--discovery", "list", "--fail-on", "never", "--probe")
    code = _run(tenant, tmp_path, "--all", *args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and code in (0, 1, 3), captured.err
    assert not [r for r in tenant.requests(plane="data") if "evil" in r.path]


def test_the_run_timeout_reports_what_was_read_and_exits_3(tmp_path: Path, monkeypatch, capsys) -> None:
    """Every ARM read takes 0.4 s: a 2 s run reads part of the fleet, reports it, and says what is missing."""
    from tests.conftest import sign_in_to

    with SimulatedTenant(arm_latency=0.4) as slow:
        sign_in_to(slow, monkeypatch)
        started = time.monotonic()
        code = _run(slow, tmp_path, "--all", "--timeout", "2", "--concurrency", "1", "--fail-on", "never")
        elapsed = time.monotonic() - started
    assert code == 3 and elapsed < 10, (code, elapsed)
    report = _report(tmp_path)
    reasons = [r for t in report["targets"] for r in t["reasons"]] + report["gaps"]
    assert any("--timeout of 2 s" in r for r in reasons), reasons
    for name in ("report.html", "junit.xml", "report.sarif", "summary.md"):
        assert (tmp_path / name).is_file()


def test_a_stalled_token_endpoint_is_bounded_by_the_run_timeout(tenant: SimulatedTenant, tmp_path, monkeypatch) -> None:
    """The managed-identity endpoint accepts the connection and never answers."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"http://127.0.0.1:{listener.getsockname()[1]}/msi/token")
    try:
        started = time.monotonic()
        code = _run(tenant, tmp_path, "--all", "--timeout", "2", "--fail-on", "never")
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert code == 3 and elapsed < 10, (code, elapsed)
    assert any("--timeout" in r for t in _report(tmp_path)["targets"] for r in t["reasons"])


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf"])
def test_a_bad_timeout_is_exit_2(tmp_path: Path, capsys, value: str) -> None:
    assert main(["--all", "--timeout", value, "--out", str(tmp_path)]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_a_lone_surrogate_in_a_deployment_name_reaches_every_format(tenant: SimulatedTenant, tmp_path: Path) -> None:
    account = next(a for a in tenant.spec.accounts if a.name == "fabrikam-aoai-wus")
    body = {
        "value": [
            {
                "id": f"{account.id}/deployments/bad\ud800name",
                "name": "bad\ud800name\x1b[31m",
                "sku": {"name": "Standard", "capacity": 1},
                "properties": {
                    "model": {"format": "OpenAI", "name": "gpt-4o\udfff", "version": "2024-11-20"},
                    "provisioningState": "Succeeded",
                },
            }
        ]
    }
    tenant.add_fault(FaultRule(r"/accounts/fabrikam-aoai-wus/deployments$", 200, json.dumps(body), {}, None))
    code = _run(tenant, tmp_path, "--resource", "fabrikam-aoai-wus", "--fail-on", "never")
    assert code in (0, 3)
    for name in ("report.html", "junit.xml", "report.json", "report.sarif", "summary.md"):
        (tmp_path / name).read_text(encoding="utf-8")
    assert "bad" in (tmp_path / "report.json").read_text(encoding="utf-8")
