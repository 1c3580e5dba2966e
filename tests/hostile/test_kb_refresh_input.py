"""Round 2, `audit kb refresh`: its inputs are bounded like every other (files through the bounded reader; an
https page with redirects kept on https, a size cap and an overall deadline); catalog reads go through the
redacting credential and Azure errors are one line (exit 3); a model name from the docs or the catalog
cannot add keys to models.yaml; the refreshed file is loaded as the auditor would load it before it is
proposed; docs text reaches the terminal through the printable filter. Servers run on 127.0.0.1 only."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
import yaml

from auditor.cli import main
from auditor.demo.sim import FaultRule, SimulatedTenant
from auditor.model.errors import InputError
from auditor.util import inputfile
from tests.conftest import sign_in_to

ROOT = Path(__file__).resolve().parents[2]
KB = ROOT / "rules" / "knowledge" / "models.yaml"
HEADER = "| Model | Version | Lifecycle | Retirement date | Replacement |\n| --- | --- | --- | --- | --- |\n"
PAGE = "---\nms.date: 12/01/2026\n---\n\n## Foundry Models sold by Azure\n\n### Azure OpenAI\n\n" + HEADER
SUB = "00000000-0000-4000-8000-000000000001"


@pytest.fixture()
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb" / "models.yaml"
    target.parent.mkdir()
    shutil.copy(KB, target)
    shutil.copy(KB.parent / "families.yaml", target.parent / "families.yaml")
    return target


def _files(kb_copy: Path) -> list[str]:
    """The knowledge base as the base file, and an overlay beside it (what --write writes)."""
    return ["--base", str(kb_copy), "--knowledge", str(kb_copy.parent / "overlay.yaml")]


class _Pages:
    """An https server on 127.0.0.1 whose paths misbehave: /redirect-http, /endless, /drip, /latin1, /ok."""

    def __init__(self, ca: trustme.CA) -> None:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        stop = threading.Event()
        self.stop = stop

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/redirect-http":
                    self.send_response(302)
                    self.send_header("Location", "http://127.0.0.1:9/page.md")
                    self.end_headers()
                    return
                self.send_response(200)
                self.end_headers()
                if self.path == "/endless":
                    for _ in range(20_000):  # 20,000 x 64 KB: far past the cap, bounded here too
                        if stop.is_set():
                            return
                        self.wfile.write(b"x" * 65536)
                elif self.path == "/drip":
                    for _ in range(600):  # a byte a second, ten minutes at most
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        if stop.wait(1.0):
                            return
                elif self.path == "/latin1":
                    self.wfile.write("caf\xe9".encode("latin-1"))
                else:
                    self.wfile.write(PAGE.encode())

            def log_message(self, format: str, *args: Any) -> None:
                return None

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                """The client hangs up on /endless and /drip (that is the point): stay quiet."""

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_Pages]:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    running = _Pages(ca)
    try:
        yield running
    finally:
        running.close()


def test_an_https_page_is_read(pages: _Pages) -> None:
    assert inputfile.read_url(pages.url + "/ok", what="page") == PAGE


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/redirect-http", "not https"), ("/endless", "larger than"), ("/latin1", "not UTF-8")],
)
def test_a_hostile_page_is_an_input_error(pages: _Pages, path: str, expected: str) -> None:
    started = time.monotonic()
    with pytest.raises(InputError) as raised:
        inputfile.read_url(pages.url + path, what="page")
    assert expected in str(raised.value) and time.monotonic() - started < 30


def test_a_dripping_page_ends_at_its_deadline(pages: _Pages) -> None:
    started = time.monotonic()
    with pytest.raises(InputError, match="not read within 3 s"):
        inputfile.read_url(pages.url + "/drip", what="page", deadline=3.0, read_timeout=5.0)
    assert time.monotonic() - started < 3.0 + 5.0 + 2.0


def test_a_redirect_to_http_through_the_command_is_exit_2(pages: _Pages, kb_copy: Path, capsys) -> None:
    code = main(["kb", "refresh", "--from-docs", pages.url + "/redirect-http", *_files(kb_copy)])
    err = capsys.readouterr().err
    assert code == 2 and "not https" in err and "Traceback" not in err


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory-without-schedule", "invalid-utf8"])
def test_a_hostile_docs_file_is_exit_2(tmp_path: Path, kb_copy: Path, capsys, kind: str) -> None:
    if kind == "dev-zero":
        where = "/dev/zero"
    elif kind == "fifo":
        where = str(tmp_path / "fifo.md")
        os.mkfifo(where)
    elif kind == "invalid-utf8":
        where = str(tmp_path / "page.md")
        Path(where).write_bytes(b"\xff\xfe" + PAGE.encode())
    else:
        where = str(tmp_path)
    started = time.monotonic()
    code = main(["kb", "refresh", "--from-docs", where, *_files(kb_copy)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and time.monotonic() - started < 10


def test_60000_unclosed_footnotes_parse_in_linear_time(tmp_path: Path) -> None:
    from auditor.knowledge.schedule import parse_schedule

    row = "| gpt-4o | 2024-05-13 | GA | 2026-10-01 | gpt-5.1" + "<sup>" * 60_000 + " |\n"
    started = time.monotonic()
    parse_schedule(PAGE + row, "page.md")
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "cell",
    ['gpt-evil" #', "evil: {a: 1} #", "gpt-4o-mini:", "x\u2028injected: 1", "'quoted'"],
)
def test_a_docs_cell_cannot_inject_yaml(tmp_path: Path, kb_copy: Path, capsys, cell: str) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE + f"| {cell} | 2026-01-01 | GA | 2027-01-01 | — |\n", encoding="utf-8")
    from auditor.knowledge.base import load_knowledge

    before = set(load_knowledge(kb_copy).models)
    code = main(["kb", "refresh", "--from-docs", str(page), *_files(kb_copy), "--write"])
    out = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in out.err  # 2: a U+2028 breaks the table row (named, one line)
    overlay = kb_copy.parent / "overlay.yaml"
    layered = load_knowledge(kb_copy, overlay=overlay if overlay.exists() else None)
    assert set(layered.models) == before


def test_a_catalog_name_cannot_inject_yaml(kb_copy: Path) -> None:
    from auditor.cli.kb import check_loads
    from auditor.knowledge.catalog import RegionCatalog, refresh_from_catalogs
    from auditor.model.facts import CatalogModel

    text = kb_copy.read_text(encoding="utf-8")
    evil = CatalogModel(
        kind="OpenAI",
        format="OpenAI",
        name="gpt-new\n  injected:\n    facts: {}\n  x",
        version="1",
        lifecycle_status="GenerallyAvailable",
        inference_deprecation=date(2027, 1, 1),
    )
    result = refresh_from_catalogs(text, [RegionCatalog("eastus2", (evil,))], SUB, date(2026, 12, 3), "models.yaml")
    assert "injected" not in yaml.safe_load(result.new_text)["models"]
    check_loads(result.new_text, kb_copy)


def test_terminal_escapes_from_the_docs_never_reach_the_terminal(tmp_path: Path, kb_copy: Path, capsys) -> None:
    page = tmp_path / "page.md"
    page.write_text(PAGE + "| gpt-4o | 2024-05-13 | GA | 2026-10-01 | \x1b]0;pwned\x07gpt-5.1 |\n", encoding="utf-8")
    main(["kb", "refresh", "--from-docs", str(page), *_files(kb_copy)])
    out = capsys.readouterr()
    assert "\x1b" not in out.out and "\x07" not in out.out


@pytest.mark.parametrize("status", [401, 500])
def test_a_catalog_error_is_one_line_without_the_token(
    kb_copy: Path, capsys, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    body = (
        '{"error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid: {authorization}\\n'
        'second line"}}'
    )
    fault = FaultRule(r"/models$", status, body, {}, None, echo_authorization=True)
    with SimulatedTenant(faults=[fault]) as tenant:
        sign_in_to(tenant, monkeypatch)
        args = ["kb", "refresh", "--from-catalog", "--subscription", SUB, "--location", "eastus2"]
        code = main([*args, *_files(kb_copy), "--management-endpoint", tenant.management_url])
        served = [r for r in tenant.requests() if r.path.endswith("/models")]
    out = capsys.readouterr()
    assert served, "the catalog was asked"
    assert code == 3 and "Traceback" not in out.err and "second line" not in out.err, out.err
    assert "Bearer ***" in out.err and re.search(r"Bearer (?!\*\*\*)", out.err) is None  # echoed, masked
    assert len([line for line in out.err.splitlines() if line.strip()]) == 1


def test_a_refreshed_file_the_auditor_would_refuse_is_never_proposed(kb_copy: Path) -> None:
    from auditor.cli.kb import check_loads

    broken = kb_copy.read_text(encoding="utf-8").replace("models:\n", "models:\n  'bad: {x: 1} #':\n    facts: 7\n", 1)
    with pytest.raises(InputError, match="would not load"):
        check_loads(broken, kb_copy)
