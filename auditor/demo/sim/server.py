"""The HTTPS server (ARM, Resource Graph, data plane) and the HTTP token endpoint on 127.0.0.1: TLS from a
`trustme` CA, one thread per connection, dispatch to the planes, and `SimulatedTenant`, the public entry point.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import trustme

from auditor.demo.sim.arm import LOGS_PREFIX, ArmPlane
from auditor.demo.sim.dataplane import DataPlane
from auditor.demo.sim.faults import FaultRule, ServedRequest
from auditor.demo.sim.graph import _GRAPH_PATH, GraphPlane
from auditor.demo.sim.identity import (
    _TOKEN_LIFETIME_SECONDS,
    token_reply,
)
from auditor.demo.sim.load import default_tenant_spec
from auditor.demo.sim.spec import (
    TenantSpec,
)
from auditor.demo.sim.wire import (
    _arm_error,
    _Reply,
)

_LOG = logging.getLogger(__name__)


class _Backend(ArmPlane, GraphPlane, DataPlane):
    """Turns (method, path, query, headers, body) into a reply: picks the plane, injects faults and latency, records."""

    def dispatch(
        self, listener: str, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes
    ) -> _Reply:
        """Entry point of both servers; `listener` is "https" (ARM, graph, data) or "token"."""
        if listener == "token":
            plane = "token"
        elif _GRAPH_PATH.match(path):
            plane = "graph"
        elif path.startswith("/aoai/"):
            plane = "data"
        elif path.startswith(LOGS_PREFIX):
            plane = "logs"
        else:
            plane = "arm"
        with self._lock:
            self._in_flight[plane] = self._in_flight.get(plane, 0) + 1
            self._in_flight_total += 1
            self.peak_in_flight[plane] = max(self.peak_in_flight.get(plane, 0), self._in_flight[plane])
            self.peak_in_flight["all"] = max(self.peak_in_flight.get("all", 0), self._in_flight_total)
        try:
            return self._dispatch_counted(plane, method, path, query, headers, body)
        finally:
            with self._lock:
                self._in_flight[plane] -= 1
                self._in_flight_total -= 1

    def _dispatch_counted(
        self, plane: str, method: str, path: str, query: dict[str, str], headers: Mapping[str, str], body: bytes
    ) -> _Reply:
        latency = self.data_latency if plane == "data" else self.arm_latency if plane in ("arm", "graph") else 0.0
        if latency > 0:
            time.sleep(latency)
        try:
            rule = self._take_fault(method, path, plane)
            if rule is not None:
                reply = self._fault_reply(rule, plane, path, headers)
            elif plane == "token":
                reply = token_reply(self.tokens, self.spec.caller, self.identity_header, method, path, query, headers)
            elif plane == "graph":
                reply = self._graph(method, path, query, headers, body)
            elif plane == "data":
                reply = self._data(method, path, query, headers, body)
            elif plane == "logs":
                reply = self._logs(method, path, headers, body)
            else:
                reply = self._arm(method, path, query, headers)
        except Exception:  # a simulator bug must surface as a 500, not a hung client
            _LOG.exception("simulator failed on %s %s", method, path)
            reply = _Reply(
                500,
                _arm_error("InternalServerError", "The simulator failed on this request."),
                {"Content-Type": "application/json; charset=utf-8"},
            )
        with self._lock:
            self._records.append(ServedRequest(method, path, dict(query), reply.status, plane, time.time()))
        return reply


# ---------------------------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Thin HTTP/1.1 adapter: read the request, ask the backend, write the reply."""

    protocol_version = "HTTP/1.1"
    server_version = "SimulatedAzure/1.0"
    sys_version = ""
    timeout = 30
    server: _Server

    def setup(self) -> None:
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold every keep-alive answer back ~40 ms, which Azure's front doors do not.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if isinstance(self.request, ssl.SSLSocket):
            # The handshake runs here, in the connection's own thread, not in the accept loop.
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the backend records every request instead."""

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        reply = self.server.backend.dispatch(self.server.listener, self.command, path, query, headers, body)
        if reply.stall and self.server.stopping.wait(reply.stall):
            return
        self.send_response(reply.status, reply.reason)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD" and reply.drip:
            for index in range(len(reply.body)):  # one byte at a time, until the body ends or the server stops
                self.wfile.write(reply.body[index : index + 1])
                self.wfile.flush()
                if self.server.stopping.wait(reply.drip):
                    return
        elif self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve


class _Server(ThreadingHTTPServer):
    """A threading HTTP(S) server whose stop() closes keep-alive connections and joins every thread."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, backend: _Backend, listener: str, context: ssl.SSLContext | None) -> None:
        self.backend = backend
        self.listener = listener
        self._context = context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self._context is not None:
            sock = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        with self._open_lock:
            self._open.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Dropped connections and failed handshakes are normal for a test server; stay quiet."""
        _LOG.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_connections(self) -> None:
        self.stopping.set()
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # bypass TLS: just wake the reader


# ---------------------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------------------


class SimulatedTenant:
    """An Azure tenant on 127.0.0.1: ARM + Resource Graph + Azure OpenAI over HTTPS, token endpoint over HTTP.

    Use as a context manager, or call start()/stop(). Point the SDKs at it with `management_url`
    (`base_url=` and `credential_scopes=[management_url + "/.default"]`), trust `ca_path`, and export
    `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` (see `identity_env()`) so azure-identity's managed identity
    credential gets its tokens here.
    """

    def __init__(
        self,
        spec: TenantSpec | None = None,
        *,
        arm_latency: float = 0.0,
        data_latency: float = 0.0,
        faults: Iterable[FaultRule] = (),
        page_size: int = 10,
        deployments_page_size: int = 4,
    ) -> None:
        self.spec = spec if spec is not None else default_tenant_spec()
        self._backend = _Backend(
            self.spec,
            arm_latency=arm_latency,
            data_latency=data_latency,
            faults=faults,
            page_size=page_size,
            deployments_page_size=deployments_page_size,
        )
        self._servers: list[tuple[_Server, threading.Thread]] = []
        self._tempdir: str | None = None
        self._ca_path: str | None = None
        self._identity_endpoint: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------------

    latest: ClassVar[SimulatedTenant | None] = None
    """The tenant started last in this process, so a test of `audit --demo` can read what it served."""

    def start(self) -> SimulatedTenant:
        """Generate a CA and a 127.0.0.1 certificate, bind two random free ports and serve."""
        if self._servers:
            return self
        SimulatedTenant.latest = self
        authority = trustme.CA()
        certificate = authority.issue_cert("127.0.0.1", "localhost")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        certificate.configure_cert(context)
        self._tempdir = tempfile.mkdtemp(prefix="simulated-azure-")
        self._ca_path = str(Path(self._tempdir) / "ca.pem")
        authority.cert_pem.write_to_path(self._ca_path)
        https = _Server(self._backend, "https", context)
        self._backend.management_url = f"https://127.0.0.1:{https.server_address[1]}"
        token = _Server(self._backend, "token", None)
        self._identity_endpoint = f"http://127.0.0.1:{token.server_address[1]}/msi/token"
        for server, name in ((https, "simulated-azure-https"), (token, "simulated-azure-identity")):
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
            )
            thread.start()
            self._servers.append((server, thread))
        return self

    def stop(self) -> None:
        """Stop serving, close open connections, join every thread and delete the CA file."""
        servers, self._servers = self._servers, []
        for server, _ in servers:
            server.shutdown()
        for server, thread in servers:
            server.close_connections()
            server.server_close()  # joins the per-connection threads (block_on_close)
            thread.join()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> SimulatedTenant:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # -- where things are -----------------------------------------------------------------------------

    def _running(self, value: str | None, what: str) -> str:
        if value is None or not self._servers:
            raise RuntimeError(f"{what} is only known while the simulated tenant runs; call start() first")
        return value

    @property
    def management_url(self) -> str:
        """ARM base URL, e.g. https://127.0.0.1:PORT (no trailing slash); also the Resource Graph host."""
        return self._running(self._backend.management_url or None, "management_url")

    @property
    def logs_endpoint(self) -> str:
        """The Log Analytics query endpoint (LogsQueryClient's `endpoint=`; the real one is https://api.loganalytics.io)."""
        return self.management_url + LOGS_PREFIX.rstrip("/")

    @property
    def management_scope(self) -> str:
        """The token scope to pass as `credential_scopes=[...]`."""
        return self.management_url + "/.default"

    @property
    def ca_path(self) -> str:
        """PEM file of the CA that signed the server certificate (pass as connection_verify / cafile)."""
        return self._running(self._ca_path, "ca_path")

    @property
    def identity_endpoint(self) -> str:
        """Value for IDENTITY_ENDPOINT (App Service managed identity protocol, plain HTTP on loopback)."""
        return self._running(self._identity_endpoint, "identity_endpoint")

    @property
    def identity_header(self) -> str:
        """Value for IDENTITY_HEADER (the secret the token endpoint checks in X-IDENTITY-HEADER)."""
        return self._backend.identity_header

    def identity_env(self) -> dict[str, str]:
        """The two environment variables azure-identity needs to get tokens from this tenant."""
        return {"IDENTITY_ENDPOINT": self.identity_endpoint, "IDENTITY_HEADER": self.identity_header}

    def data_endpoint(self, account_name: str) -> str:
        """An account's `properties.endpoint` (ends with "/"), e.g. https://127.0.0.1:PORT/aoai/<name>/."""
        account = self.spec.find_account(account_name)
        if account is None:
            raise KeyError(account_name)
        return self._running(self._backend.management_url or None, "data_endpoint") + f"/aoai/{account.name}/"

    def account_keys(self, account_name: str) -> tuple[str, str]:
        """key1/key2 of an account (what listKeys would return; the server itself refuses listKeys)."""
        return self._backend.keys[account_name.lower()]

    def issue_token(self, resource: str, *, lifetime: float = _TOKEN_LIFETIME_SECONDS) -> str:
        """A bearer token for `resource` (or scope), as if fetched elsewhere; for negative tests."""
        return self._backend.tokens.issue(resource, lifetime)[0]

    def expire_tokens(self) -> None:
        """Make every issued token expired (ARM then answers ExpiredAuthenticationToken)."""
        self._backend.tokens.expire_all()

    # -- faults and observations ---------------------------------------------------------------------

    def add_fault(self, rule: FaultRule) -> None:
        """Inject a fault rule at run time (applies to the next matching requests)."""
        self._backend.add_fault(rule)

    def reset_counters(self) -> None:
        """Forget per-deployment call counts, so scripted 429s/5xx fire again."""
        self._backend.reset_counters()

    @property
    def records(self) -> tuple[ServedRequest, ...]:
        """Every request answered so far, in order (no header values, hence no secrets)."""
        return self._backend.records

    def clear_records(self) -> None:
        """Forget the recorded requests (and the peak concurrency seen)."""
        self._backend.clear_records()

    @property
    def peak_in_flight(self) -> dict[str, int]:
        """The most requests in flight at once, per plane ("arm", "graph", "data", "token") and "all"."""
        return dict(self._backend.peak_in_flight)

    def requests(
        self, *, plane: str | None = None, path_pattern: str | None = None, method: str | None = None
    ) -> list[ServedRequest]:
        """Recorded requests filtered by plane, path regex (re.search) and method."""
        return [
            r
            for r in self.records
            if (plane is None or r.plane == plane)
            and (method is None or r.method == method.upper())
            and (path_pattern is None or re.search(path_pattern, r.path))
        ]

    def served_writes(self) -> list[ServedRequest]:
        """Requests that would change the tenant or read secrets: PUT/PATCH/DELETE anywhere, and any POST on
        ARM (listKeys, regenerateKey ...). Resource Graph queries and data-plane calls are not writes."""
        return [
            r
            for r in self.records
            if r.method in ("PUT", "PATCH", "DELETE") or (r.method == "POST" and r.plane == "arm")
        ]

    def list_keys_called(self) -> bool:
        """Whether anything asked ARM for an account's keys."""
        return any(r.plane == "arm" and r.path.rstrip("/").lower().endswith("/listkeys") for r in self.records)

    def handed_out_secrets(self) -> Iterator[str]:
        """Every token and key this tenant handed out (for tests proving none of them leaked anywhere)."""
        yield self.identity_header
        yield from self._backend.tokens.values()
        for pair in self._backend.keys.values():
            yield from pair
