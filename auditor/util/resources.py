"""Where the packaged data lives: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # auditor/


def data_dir(name: str) -> Path:
    """`rules` or `reports`: the wheel's `auditor/_data/<name>`, else the checkout's `<name>/`."""
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the auditor's {name}/ directory is missing from this installation")


def schema_path(name: str) -> Path:
    """A JSON Schema shipped with the package."""
    return _PACKAGE / "schemas" / name
