"""Live probes: minimal real calls to each deployment's data plane, classified into facts (ProbeResult).

Why: the knowledge base and the live catalog say what *should* work; a probe shows what Azure actually
answers today, with the deployment, credential and network the app will use. The probes do the I/O and
produce facts; YAML rules (rules/builtin/probe.yaml) turn the facts into findings.

Safety: tiny requests ("ping", the smallest output limit the API accepts, no streaming, never user data,
`store: false` on Responses), a hard cap on calls and on tokens, bounded concurrency and retries,
credentials only ever sent to hosts under the cloud's data-plane domains (or hosts allowed explicitly).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MAX_CALLS = 50
DEFAULT_TOKEN_BUDGET = 2000


@dataclass(frozen=True)
class AuthCheck:
    """A deliberately chosen credential tried once per account, labelled in every finding it yields.

    The demo uses these to show the auth failure classes (a wrong API key, a token for the wrong
    audience) honestly, as extra probes, without touching the main keyless pass."""

    label: str
    api_key: str | None = field(default=None, repr=False)
    token_scope: str | None = None
    accounts: tuple[str, ...] = ()
    """Account names to try; empty means every audited account."""


@dataclass(frozen=True)
class ProbeOptions:
    """Limits and credentials of one probe run (the CLI's --probe flags, as data)."""

    max_calls: int = DEFAULT_MAX_CALLS
    token_budget: int = DEFAULT_TOKEN_BUDGET
    allow_endpoints: tuple[str, ...] = ()
    api_key: str | None = field(default=None, repr=False)
    concurrency: int = 8
    timeout: float = 30.0
    max_retries: int = 2
    max_retry_wait: float = 30.0
    auth_checks: tuple[AuthCheck, ...] = ()


__all__ = ["DEFAULT_MAX_CALLS", "DEFAULT_TOKEN_BUDGET", "AuthCheck", "ProbeOptions"]
