"""Writing one file into the report directory safely: through a temporary file created exclusively
(`O_EXCL`, never through a planted symlink), redacted, then moved into place (the link itself is replaced,
its target never written)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from auditor.util.redact import redact


def write_text(path: Path, text: str) -> None:
    fd, created = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        umask = os.umask(0o022)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with open(fd, "w", encoding="utf-8") as out:
            out.write(redact(text))
        os.replace(created, path)
    finally:
        Path(created).unlink(missing_ok=True)
