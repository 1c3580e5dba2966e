"""Benchmarks: not part of the default test run (see README, "Benchmarks")."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """Where a benchmark ran, written next to its figures."""
    return {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()}


def publish(result: dict[str, Any], out: Path) -> int:
    """Write the figures as JSON for comparison between commits, print them, exit 0 only if the floors hold."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["floors_hold"] else 1
