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


SHIPPED_KINDS = ("policies", "examples")
"""Where shipped example files live under the packaged rules: `rules/policies/`, `rules/examples/`."""


def shipped_example(kind: str, name: str) -> Path | None:
    """A shipped example file by its bare name (`azure-baseline` -> rules/policies/azure-baseline.yaml), so the
    documented commands work after `pipx install`; None when nothing is shipped by that name."""
    folder = data_dir("rules") / kind
    for suffix in (".yaml", ".yml", ".json"):
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def shipped_names(kind: str) -> list[str]:
    """The bare names of the shipped examples of one kind."""
    folder = data_dir("rules") / kind
    return sorted(p.stem for p in folder.glob("*.y*ml")) if folder.is_dir() else []
