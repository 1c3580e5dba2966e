"""Shared pieces of the hostile-input suite: a listener that records what reaches a host we never meant
to call, and a probe run against the simulated tenant."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Catcher:
    """A plain-HTTP server on 127.0.0.1 that answers 200 `{}` to everything and keeps the headers it saw."""

    def __init__(self) -> None:
        seen: list[dict[str, str]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                seen.append({k.lower(): v for k, v in self.headers.items()})
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                body = b'{"choices":[],"output":[],"usage":{"total_tokens":1}}'
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _any

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def catcher() -> Iterator[Catcher]:
    running = Catcher()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture()
def credential(tenant):
    from azure.identity import ManagedIdentityCredential

    with ManagedIdentityCredential() as managed:
        yield managed
