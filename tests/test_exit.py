"""The console script ends without the interpreter's teardown (auditor.cli._exit), and loses nothing by it:
exit handlers run, buffered output is flushed, running non-daemon threads are waited for, the code is kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from auditor.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _entry(prelude: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the console script's entry point in a fresh interpreter after `prelude`."""
    code = f"{prelude}\nimport sys\nsys.argv = ['audit', *{list(args)!r}]\nfrom auditor.cli import entry\nentry()\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_exit_handlers_run_and_output_is_flushed(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "atexit-ran"
    prelude = f"import atexit, pathlib\natexit.register(lambda: pathlib.Path({str(marker)!r}).write_text('ran'))"
    run = _entry(prelude, "rules")
    assert main(["rules"]) == 0
    assert run.returncode == 0 and run.stdout == capsys.readouterr().out  # every byte, though stdout is a pipe
    assert marker.read_text() == "ran"  # e.g. coverage writes its data file from an atexit handler


def test_a_running_non_daemon_thread_is_waited_for(tmp_path: Path) -> None:
    marker = tmp_path / "thread-finished"
    prelude = (
        "import pathlib, threading, time\n"
        f"threading.Thread(target=lambda: (time.sleep(0.5), pathlib.Path({str(marker)!r}).write_text('done'))).start()"
    )
    run = _entry(prelude, "rules")
    assert run.returncode == 0 and marker.read_text() == "done"


def test_the_exit_code_is_kept() -> None:
    run = _entry("", "--demo", "--fail-on", "sometimes")
    assert run.returncode == 2 and "unknown --fail-on value 'sometimes'" in run.stderr
