"""Class 4: echoed credentials. A key the data plane echoes in `error.code`, `param` or a message, a key
cut in half by truncation, a bearer token: none reaches any of the five report files, the console, the
GitHub step summary or a log."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.demo.sim import FaultRule, SimulatedTenant
from auditor.model.enums import FailOn
from auditor.util import redact

FILES = ("report.html", "junit.xml", "report.json", "report.sarif", "summary.md")


@pytest.fixture(autouse=True)
def _fresh_registry():
    redact.forget_all()
    yield
    redact.forget_all()


def _echo(secret: str) -> FaultRule:
    """A 400 in the OpenAI engine's envelope that echoes `secret` as code, param and (past 400 characters,
    where messages are cut) inside the message."""
    body = {
        "error": {
            "message": "x" * 380 + f" key {secret} was rejected",
            "type": "invalid_request_error",
            "param": secret,
            "code": secret,
        }
    }
    return FaultRule(r"/chat/completions$", 400, body, {}, None, plane="data")


def _written(out: Path) -> str:
    return "".join((out / name).read_text(encoding="utf-8") for name in FILES)


def _parts(secret: str) -> list[str]:
    """The secret and its halves (what a cut would leave)."""
    half = len(secret) // 2
    return [secret, secret[:half], secret[half:]]


def test_an_echoed_api_key_reaches_no_output(tenant: SimulatedTenant, tmp_path: Path, monkeypatch, capsys) -> None:
    key = tenant.account_keys("contoso-ai-swc")[0]
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", key)
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    tenant.add_fault(_echo(key))
    code = main(
        [
            "--management-endpoint",
            tenant.management_url,
            "--out",
            str(tmp_path / "out"),
            "--resource",
            "contoso-ai-swc",
            "--probe",
            "--allow-endpoint",
            "127.0.0.1",
            "--ca-bundle",
            tenant.ca_path,
        ]
    )
    assert code in (1, 3)
    captured = capsys.readouterr()
    everything = _written(tmp_path / "out") + summary.read_text(encoding="utf-8") + captured.out + captured.err
    assert "was rejected" in everything or "x" * 100 in everything, "the probe answer did not reach the reports"
    for part in _parts(key):
        assert part not in everything
    assert "***" in _written(tmp_path / "out")


def test_a_bearer_token_echoed_by_azure_is_redacted(tenant: SimulatedTenant, tmp_path: Path, capsys) -> None:
    """The credential is wrapped so every token it hands out is registered; the simulated data plane then
    echoes the probe's own token back (ManagedIdentityCredential caches it, so the probe sends the same)."""
    from azure.identity import ManagedIdentityCredential

    from auditor.model.clouds import get_cloud
    from auditor.pipeline.options import AuditOptions
    from auditor.pipeline.run import run_audit
    from auditor.probes import ProbeOptions
    from auditor.render import write_reports

    cloud = get_cloud("AzureCloud", tenant.management_url)
    with ManagedIdentityCredential() as managed:
        credential = redact.RecordingCredential(managed)
        token = credential.get_token(cloud.cognitive_scope).token
        tenant.add_fault(_echo(token))
        report = run_audit(
            AuditOptions(
                resources=("contoso-ai-swc",),
                probe=ProbeOptions(allow_endpoints=("127.0.0.1",)),
            ),
            credential=credential,
            cloud=cloud,
            connection_verify=tenant.ca_path,
        )
    write_reports(report, tmp_path, ("html", "junit", "json", "sarif", "markdown"))
    from auditor.cli import _print_summary

    _print_summary(report, [], FailOn.ERROR)
    everything = _written(tmp_path) + capsys.readouterr().out
    for part in _parts(token):
        assert part not in everything
    assert "***" in everything


def test_the_stream_redacts_a_secret_split_across_writes() -> None:
    secret = "s3cr3t-token-value-0123456789"
    redact.register(secret)
    raw = io.BytesIO()
    out = redact.RedactingWriter(raw)
    text = f"before {secret} middle {secret}".encode()
    for i in range(0, len(text), 5):
        out.write(text[i : i + 5])
    out.flush()
    assert raw.getvalue() == b"before *** middle ***"


def test_truncation_happens_after_redaction() -> None:
    secret = "abcdefghijklmnopqrstuvwxyz012345"
    redact.register(secret)
    cut = redact.clean("x" * 290 + secret, limit=300)
    assert secret[:9] not in cut and len(cut) <= 300


def test_logs_are_redacted(monkeypatch) -> None:
    secret = "log-secret-0123456789abcdef"
    redact.register(secret)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    redact.guard_logging([handler])
    logger = logging.getLogger("auditor.test.redaction")
    logger.addHandler(handler)
    try:
        logger.warning("token %s\n::add-mask::x", secret)
    finally:
        logger.removeHandler(handler)
    assert secret not in stream.getvalue() and "***" in stream.getvalue()
    assert "\n::add-mask::" not in stream.getvalue()


def test_a_key_in_the_environment_never_reaches_the_console_on_error(monkeypatch, tmp_path, capsys) -> None:
    key = "env-key-0123456789abcdef0123456789"
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", key)
    contract = tmp_path / "c.yaml"
    contract.write_text(f"deployments:\n  {key}: {{api: nope}}\n", encoding="utf-8")
    assert main(["--plan", str(tmp_path / "missing.yaml"), "--contract", str(contract), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert key not in err
