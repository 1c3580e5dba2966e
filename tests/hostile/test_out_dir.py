"""Class 8: `--out`. A file, a path through a file or an unwritable directory is exit 2 before any Azure
call; two runs into one directory do not collide; a planted partial-file symlink is never followed."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.demo.sim import SimulatedTenant
from auditor.render import write_reports
from tests.hostile.test_summary_md import hostile_report


def _run(tenant: SimulatedTenant, out: Path, *args: str) -> int:
    return main(["--management-endpoint", tenant.management_url, "--out", str(out), "--quiet", *args])


@pytest.mark.parametrize("where", ["a file", "inside a file", "read-only"])
def test_a_bad_out_is_exit_2_before_any_azure_call(tenant: SimulatedTenant, tmp_path: Path, capsys, where) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    # as root, permission bits do not bind: sysfs refuses new directories to everyone
    unwritable = readonly if not os.access(readonly, os.W_OK) else Path("/sys")
    out = {"a file": blocker, "inside a file": blocker / "reports", "read-only": unwritable / "audit-reports"}[where]
    try:
        assert _run(tenant, out, "--all") == 2
    finally:
        readonly.chmod(0o700)
    err = capsys.readouterr().err
    assert "--out" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not tenant.requests(plane="arm"), "the audit ran before --out was checked"


def test_two_writers_into_one_directory_do_not_collide(tmp_path: Path) -> None:
    report = hostile_report()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(5):
                write_reports(report, tmp_path, ("html", "junit", "json", "sarif", "markdown"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_a_planted_partial_symlink_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("report.json", "report.html", "junit.xml", "report.sarif", "summary.md"):
        (out / f".{name}.partial").symlink_to(victim)
    write_reports(hostile_report(), out, ("html", "junit", "json", "sarif", "markdown"))
    assert victim.read_text() == "keep me"
    assert (out / "report.json").is_file() and not (out / "report.json").is_symlink()


def test_a_final_report_that_is_a_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.md").symlink_to(victim)
    write_reports(hostile_report(), out, ("markdown",))
    assert victim.read_text() == "keep me"
    assert not (out / "summary.md").is_symlink()


def test_a_planted_fixes_patch_symlink_is_not_followed(tmp_path: Path) -> None:
    from auditor.util.safefile import write_text

    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "fixes.patch").symlink_to(victim)
    write_text(tmp_path / "fixes.patch", "--- a\n+++ b\n")
    assert victim.read_text() == "keep me"
    assert (tmp_path / "fixes.patch").read_text() == "--- a\n+++ b\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
