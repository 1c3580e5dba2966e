"""Send the selected probes through the openai SDK and record what Azure answered. The only I/O of probes.

Bounds, all enforced here: every HTTP attempt counts against `max_calls`; tokens are reserved before a call
(input allowance + the output limit) and settled from the answer's usage, so `token_budget` is never
exceeded; probes of one deployment run one after another, deployments at most `concurrency` at a time;
429s and transient faults are retried by our own loop (the SDK's retries are off, so every attempt is
counted), honouring `retry-after-ms` / `retry-after` up to `max_retry_wait`; each attempt has a timeout.
Faults that survive the retries become unknown results, never a pass; nothing raises out of a probe.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from auditor.knowledge.base import KnowledgeBase
from auditor.model.clouds import Cloud
from auditor.model.enums import ProbeOutcome
from auditor.model.facts import Account, Facts, ProbeResult, ProbeSummary
from auditor.probes import ProbeOptions
from auditor.probes.classify import Answer, classify, failure
from auditor.probes.selection import (
    PROMPT,
    TOKEN_LIMIT_PARAMETERS,
    PlannedProbe,
    account_probes,
    data_plane_base,
    endpoint_refusal,
    missing_deployment_probes,
    needs_catalog,
    probe_order,
)
from auditor.util.deadline import Deadline, DeadlineExpired
from auditor.util.redact import clean, register

_INPUT_ALLOWANCE = 32
"""Tokens reserved for the one-word input and the request's framing, on top of the output limit."""
_RETRIED = (ProbeOutcome.RATE_LIMITED, ProbeOutcome.SERVER_ERROR, ProbeOutcome.TIMEOUT, ProbeOutcome.CONNECTION_ERROR)


class Budget:
    """Calls and tokens spent by a run, against its limits; thread-safe."""

    def __init__(self, max_calls: int, token_budget: int) -> None:
        self.max_calls = max_calls
        self.token_budget = token_budget
        self.calls = 0
        self.tokens = 0
        self._reserved = 0
        self._lock = threading.Lock()

    def acquire(self, reserve: int) -> str | None:
        """Take one call and reserve tokens for it; the reason it may not be sent, or None."""
        with self._lock:
            if self.calls >= self.max_calls:
                return f"the probe call limit ({self.max_calls}, --max-probe-calls) was reached"
            if self.tokens + self._reserved + reserve > self.token_budget:
                return f"the probe token budget ({self.token_budget}, --probe-token-budget) would be exceeded"
            self.calls += 1
            self._reserved += reserve
            return None

    def settle(self, reserve: int, used: int) -> None:
        """Replace a call's reservation by what its answer says it used."""
        with self._lock:
            self._reserved -= reserve
            self.tokens += used


@dataclass
class _Request:
    """The keyword arguments of one SDK call, and the output limit it carries."""

    kwargs: dict[str, Any]
    limit_parameter: str
    limit: int


def _request(probe: PlannedProbe, limit_parameter: str | None = None) -> _Request:
    """The smallest request the API accepts: one word in, 16 tokens out at most (1 for non-reasoning chat)."""
    extra: dict[str, Any] = {}
    if probe.api == "responses":
        kwargs: dict[str, Any] = {"model": probe.deployment, "input": PROMPT, "max_output_tokens": 16, "store": False}
        parameter, limit = "max_output_tokens", 16
        if probe.parameter == "reasoning_effort":
            extra["reasoning"] = {"effort": probe.value}
        elif probe.parameter:
            extra[probe.parameter] = probe.value
    else:
        kwargs = {"model": probe.deployment, "messages": [{"role": "user", "content": PROMPT}]}
        if probe.parameter in TOKEN_LIMIT_PARAMETERS:
            parameter, limit = str(probe.parameter), int(probe.value or 16)
        elif limit_parameter:
            parameter, limit = limit_parameter, 1 if limit_parameter == "max_tokens" else 16
        elif probe.reasoning is False:
            parameter, limit = "max_tokens", 1
        else:
            parameter, limit = "max_completion_tokens", 16
        extra[parameter] = limit
        if probe.parameter and probe.parameter not in TOKEN_LIMIT_PARAMETERS:
            extra[probe.parameter] = probe.value
    if extra:
        kwargs["extra_body"] = extra
    return _Request(kwargs, parameter, limit)


def _body(response: Any) -> Any:
    try:
        return json.loads(response.text or "null")
    except (ValueError, AttributeError):
        return getattr(response, "text", None)


@dataclass
class _Tries:
    """What one probe's attempts added up to: attempts, throttling, tokens spent, the last latency."""

    attempts: int = 0
    throttled: int = 0
    spent: int = 0
    last_wait: float | None = None
    throttle_hints: dict[str, str] = field(default_factory=dict)
    latency: float = 0.0


def _own_limit_refused(probe: PlannedProbe, request: _Request, answer: Answer) -> bool:
    """An API probe's own output-limit parameter was refused (the knowledge base named the wrong one)."""
    return (
        probe.parameter is None
        and answer.outcome in ("unsupported_parameter", "unsupported_value")
        and answer.error_param == request.limit_parameter
        and probe.api == "chat_completions"
    )


class ProbeRunner:
    """Runs planned probes against the data plane with one budget and one client per (account, credential)."""

    def __init__(
        self,
        *,
        credential: Any,
        cloud: Cloud,
        options: ProbeOptions,
        connection_verify: str | bool = True,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._credential = credential
        self._cloud = cloud
        self._options = options
        self._verify = connection_verify
        self._sleep = sleep
        self.budget = Budget(options.max_calls, options.token_budget)
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._http_client: Any = None
        self._lock = threading.Lock()

    # -- clients ----------------------------------------------------------------------------------------

    def _client(self, base_url: str, probe: PlannedProbe) -> Any:
        import openai

        scope = probe.token_scope or self._cloud.cognitive_scope
        key = (base_url, probe.auth, "" if probe.api_key else scope)
        with self._lock:
            if key not in self._clients:
                if self._http_client is None:
                    # One HTTP client (one TLS context, one connection pool) for every account: building a
                    # context per account costs tens of milliseconds each on a fleet.
                    verify: Any = self._verify
                    if isinstance(verify, str):
                        verify = ssl.create_default_context(cafile=verify)
                    # Never follow a redirect: the client would re-send the api-key header or the bearer token
                    # to the Location host (plain http included); a 3xx is classified `unexpected` instead.
                    self._http_client = openai.DefaultHttpxClient(verify=verify, follow_redirects=False)
                if probe.api_key:
                    register(probe.api_key)
                    api_key: Any = probe.api_key  # sent as the api-key header; see _headers
                else:
                    from azure.identity import get_bearer_token_provider

                    api_key = get_bearer_token_provider(self._credential, scope)
                self._clients[key] = openai.OpenAI(
                    base_url=base_url,
                    api_key=api_key,
                    max_retries=0,
                    timeout=self._options.timeout,
                    http_client=self._http_client,
                )
            return self._clients[key]

    @staticmethod
    def _headers(probe: PlannedProbe) -> dict[str, Any]:
        """Keys go in Azure's `api-key` header and no Authorization header is sent with them."""
        import openai

        return {"api-key": probe.api_key, "Authorization": openai.Omit()} if probe.api_key else {}

    def close(self) -> None:
        with self._lock:
            self._clients, http_client, self._http_client = {}, self._http_client, None
        if http_client is not None:
            http_client.close()

    # -- one attempt ------------------------------------------------------------------------------------

    def _attempt(self, client: Any, probe: PlannedProbe, request: _Request) -> tuple[Answer, float]:
        import openai

        kwargs = dict(request.kwargs)
        headers = self._headers(probe)
        if headers:
            kwargs["extra_headers"] = headers
        started = time.perf_counter()
        try:
            if probe.api == "responses":
                raw = client.responses.with_raw_response.create(**kwargs)
            else:
                raw = client.chat.completions.with_raw_response.create(**kwargs)
            response = raw.http_response
            answer = classify(response.status_code, _body(response), response.headers, auth=probe.auth)
        except openai.APIStatusError as exc:
            answer = classify(exc.status_code, _body(exc.response), exc.response.headers, auth=probe.auth)
        except openai.APITimeoutError:
            answer = failure(ProbeOutcome.TIMEOUT, f"no answer within {self._options.timeout:g} s")
        except openai.APIConnectionError as exc:
            answer = failure(ProbeOutcome.CONNECTION_ERROR, f"could not connect: {type(exc.__cause__ or exc).__name__}")
        except Exception as exc:  # a credential that yields no token, a bug: unknown, never a crash
            answer = failure(ProbeOutcome.UNEXPECTED, clean(f"{type(exc).__name__}: {exc}", limit=300))
        return answer, (time.perf_counter() - started) * 1000.0

    # -- one probe, with bounded retries ----------------------------------------------------------------

    def run_one(self, probe: PlannedProbe) -> ProbeResult:
        base = ProbeResult(
            account_id=probe.account.id,
            deployment=probe.deployment,
            api=probe.api,
            outcome=ProbeOutcome.SKIPPED,
            parameter=probe.parameter,
            value=probe.value,
            deployment_id=probe.deployment_id,
            auth=probe.auth,
            called_by_app=probe.called_by_app,
            label=probe.label,
        )
        base_url = data_plane_base(probe.account)
        if base_url is None:
            return replace(base, message="the account reports no endpoint")
        base = replace(base, endpoint_host=urlsplit(base_url).hostname)
        refusal = endpoint_refusal(base_url, self._cloud, self._options.allow_endpoints)
        if refusal:
            return replace(base, message=refusal)
        if probe.auth == "entra" and self._cloud.is_regional(urlsplit(base_url).hostname or ""):
            return replace(
                base,
                message=f"{probe.account.name} is served at its regional endpoint (no custom subdomain), which takes "
                "no Entra ID token: probe it with the account's key, or set a custom subdomain (AOAI-SEC-013)",
            )
        client = self._client(base_url, probe)
        tries = _Tries()
        answer, note = self._attempts(client, probe, tries)
        if answer is None:
            return replace(base, message=f"not sent: {note}")
        outcome, message = answer.outcome, answer.message
        if probe.api_key and message:  # an echoed credential never reaches a fact or a report
            message = message.replace(probe.api_key, "***")
        if probe.parameter is None and outcome in ("unsupported_parameter", "unsupported_value"):
            outcome = ProbeOutcome.UNEXPECTED
            message = (
                f"the minimal probe request itself was refused ({answer.error_code} on {answer.error_param}): {message}"
            )
        return replace(
            base,
            outcome=outcome,
            status_code=answer.status_code,
            error_code=answer.error_code,
            error_param=answer.error_param,
            message=(message or "") + note if (message or note) else None,
            latency_ms=round(tries.latency, 1),
            attempts=tries.attempts,
            throttled=tries.throttled,
            retry_after=tries.last_wait,
            rate_limit=tries.throttle_hints or dict(answer.rate_limit),
            tokens=tries.spent,
            remedy=answer.remedy,
            principal=answer.principal,
            filtered=answer.filtered,
        )

    def _attempts(self, client: Any, probe: PlannedProbe, tries: _Tries) -> tuple[Answer | None, str]:
        """Send the probe, retrying within bounds: the last answer (None: the budget refused the first call)
        and a note on why retrying stopped early (or, with no answer, why nothing was sent)."""
        request = _request(probe)
        fell_back = False
        answer: Answer | None = None
        while True:
            reserve = _INPUT_ALLOWANCE + request.limit
            refused = self.budget.acquire(reserve)
            if refused:
                return (None, refused) if answer is None else (answer, f" (no further retry: {refused})")
            tries.attempts += 1
            answer, tries.latency = self._attempt(client, probe, request)
            used = answer.tokens if answer.tokens is not None else (reserve if answer.outcome == "success" else 0)
            self.budget.settle(reserve, used)
            tries.spent += used
            if answer.outcome == "rate_limited":
                tries.throttled += 1
                tries.last_wait = answer.retry_after
                tries.throttle_hints = dict(answer.rate_limit)  # keep the 429's hints, not the later success's
            if not fell_back and _own_limit_refused(probe, request, answer):
                # Our own output limit was refused (the knowledge base misjudged the model): use the other one.
                fell_back = True
                request = _request(
                    probe, "max_tokens" if request.limit_parameter != "max_tokens" else "max_completion_tokens"
                )
                continue
            if answer.outcome not in _RETRIED or tries.attempts > self._options.max_retries:
                return answer, ""
            wait = (
                answer.retry_after
                if answer.outcome == "rate_limited" and answer.retry_after is not None
                else min(0.5 * 2 ** (tries.attempts - 1), 8.0)
            )
            if wait > self._options.max_retry_wait:
                return (
                    answer,
                    f" (not retried: the server asked for {wait:g} s, more than {self._options.max_retry_wait:g} s)",
                )
            self._sleep(wait)

    # -- the run ----------------------------------------------------------------------------------------

    def run_group(self, members: list[PlannedProbe]) -> list[ProbeResult]:
        """One unit of work: a deployment's probes of one API (and credential), in order. A parameter
        probe runs only after its API probe succeeded (otherwise it would test the API again)."""
        results: list[ProbeResult] = []
        api_outcome: dict[tuple[str, str], str] = {}
        for probe in members:
            if probe.parameter is not None and api_outcome.get((probe.api, probe.auth)) != "success":
                continue
            result = self.run_one(probe)
            if probe.parameter is None and probe.label is None:
                api_outcome.setdefault((probe.api, probe.auth), result.outcome)
            results.append(result)
        return results


def _units(probes: Iterable[PlannedProbe]) -> list[list[PlannedProbe]]:
    """Probes in units of work, in the order the budget is spent: app-critical first, then by account and
    deployment. The two APIs of a deployment are independent units, so the pool packs a fleet tighter."""
    groups: dict[tuple[str, ...], list[PlannedProbe]] = {}
    for probe in probes:
        groups.setdefault((*probe.group, probe.api, probe.auth), []).append(probe)
    return sorted(groups.values(), key=lambda g: (not _critical(g), g[0].group))


def _critical(unit: list[PlannedProbe]) -> bool:
    return any(p.called_by_app for p in unit)


class ProbeSession:
    """Probing while the fleet is still being read, on the same bounded pool as the reads.

    `offer` takes accounts in `probe_order` as their reads come in and starts their probes at once. The
    budget is spent in the order the units reach the pool, so app-critical units still go first: without
    a contract every unit is sent as its account is offered; with one, only the critical units are, and
    the rest wait for `finish`, after every account was offered. The probes of contract names that exist
    nowhere need the whole fleet's deployments, so `finish` sends them, ahead of the held-back rest."""

    def __init__(
        self,
        runner: ProbeRunner,
        kb: KnowledgeBase,
        today: date,
        options: ProbeOptions,
        pool: Executor,
        progress: Any = None,
    ) -> None:
        self._runner, self._kb, self._today, self._options, self._pool = runner, kb, today, options, pool
        self._progress = progress  # the run's progress bar (auditor.pipeline.audit.Progress), or None
        self._planned: list[PlannedProbe] = []
        self._held: list[list[PlannedProbe]] = []
        self._not_probed: list[str] = []
        self._futures: list[Future[list[ProbeResult]]] = []
        self._waiting: list[Account] = []

    def _send(self, units: Iterable[list[PlannedProbe]]) -> None:
        units = list(units)
        if self._progress is not None and units:
            self._progress.add(len(units), "probes")
        for unit in units:
            future = self._pool.submit(self._runner.run_group, unit)
            if self._progress is not None:
                future.add_done_callback(lambda _: self._progress.advance("probes"))
            self._futures.append(future)

    def offer(self, facts: Facts, account: Account) -> None:
        """An account whose deployments are read; `facts` need hold only those, the contract and, if it is read
        already, the account's region. Without the region, an account whose plan needs the model catalog waits
        for `finish` (and the whole fleet's facts); the others start now."""
        if facts.region_of(account) is None and needs_catalog(facts, self._kb, self._today, account):
            self._waiting.append(account)
            return
        self._plan(facts, account)

    def _plan(self, facts: Facts, account: Account) -> None:
        probes, not_probed = account_probes(facts, self._kb, self._today, self._options, account)
        self._planned.extend(probes)
        self._not_probed.extend(not_probed)
        units = _units(probes)
        if facts.contract is not None:
            self._held.extend(u for u in units if not _critical(u))
            units = [u for u in units if _critical(u)]
        self._send(units)

    def finish(self, facts: Facts, deadline: Deadline | None = None) -> tuple[tuple[ProbeResult, ...], ProbeSummary]:
        """Send what had to wait for the whole fleet, wait for everything (within the run's deadline: what
        is not finished then is listed as not probed), and total the cost."""
        deadline = deadline or Deadline(None)
        waiting, self._waiting = self._waiting, []
        for account in waiting:
            if deadline.expired:
                self._not_probed.append(f"{account.name}: {deadline.reason('its probes were')}")
            else:
                self._plan(facts, account)
        missing = missing_deployment_probes(facts, self._options.api_key)
        self._planned.extend(missing)
        if not deadline.expired:
            self._send(_units(missing))
            self._send(self._held)
        results: list[ProbeResult] = []
        unfinished = 0
        for future in self._futures:
            try:
                done: list[ProbeResult] = deadline.result(future)
                results.extend(done)
            except DeadlineExpired:
                unfinished += 1
        if unfinished:
            self._not_probed.append(f"{unfinished} probe unit(s): {deadline.reason('their answers were')}")
        results.sort(
            key=lambda r: (r.account_id.lower(), r.deployment.lower(), r.api, r.parameter or "", r.label or "")
        )
        budget = self._runner.budget
        summary = ProbeSummary(
            calls=budget.calls,
            tokens=budget.tokens,
            max_calls=self._options.max_calls,
            token_budget=self._options.token_budget,
            probes=len(results),
            skipped=sum(1 for r in results if r.outcome == "skipped"),
            not_probed=tuple(self._not_probed + _skipped_parameters(self._planned, results)),
        )
        return tuple(results), summary


def _skipped_parameters(probes: list[PlannedProbe], results: list[ProbeResult]) -> list[str]:
    sent = {(r.account_id, r.deployment, r.api, r.parameter, r.label) for r in results}
    return [
        f"{p.account.name}/{p.deployment} {p.api} {p.parameter}={p.value!r}: not probed, the API probe did not succeed"
        for p in probes
        if p.parameter is not None and (p.account.id, p.deployment, p.api, p.parameter, p.label) not in sent
    ]


def run_probes(
    facts: Facts,
    kb: KnowledgeBase,
    today: date,
    *,
    credential: Any,
    cloud: Cloud,
    options: ProbeOptions,
    connection_verify: str | bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[tuple[ProbeResult, ...], ProbeSummary]:
    """Select, send and classify the probes for facts already gathered; returns the results and their cost."""
    runner = ProbeRunner(
        credential=credential, cloud=cloud, options=options, connection_verify=connection_verify, sleep=sleep
    )
    try:
        with ThreadPoolExecutor(max_workers=max(1, options.concurrency), thread_name_prefix="probe") as pool:
            session = ProbeSession(runner, kb, today, options, pool)
            for account in sorted(facts.accounts, key=probe_order):
                session.offer(facts, account)
            return session.finish(facts)
    finally:
        runner.close()


def summary_dict(summary: ProbeSummary) -> Mapping[str, Any]:
    """The probe totals for the report (JSON and text)."""
    return {
        "calls": summary.calls,
        "max_calls": summary.max_calls,
        "tokens": summary.tokens,
        "token_budget": summary.token_budget,
        "probes": summary.probes,
        "skipped": summary.skipped,
        "not_probed": list(summary.not_probed),
    }
