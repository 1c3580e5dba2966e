"""Reading the tenant files (through the one bounded YAML loader) into the mapping `TenantSpec.from_mapping` checks."""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.demo.sim.spec import TenantSpec, _listing, _mapping, _need
from auditor.model.errors import InputError
from auditor.util.yamlfile import parse_yaml

if TYPE_CHECKING:
    from importlib.abc import Traversable

_TENANT_PACKAGE = "auditor.demo"
_TENANT_DIR = "tenant"
_TENANT_FILES = ("tenant.yaml", "quota.yaml", "behaviour.yaml")


def load_tenant_spec(path: str | Path) -> TenantSpec:
    """Read a tenant: a directory laid out like auditor/demo/tenant/, or one YAML file holding every key."""
    where = Path(path)
    data = _read_tenant_dir(where) if where.is_dir() else _read_yaml(where.read_text(encoding="utf-8"), str(where))
    try:
        return TenantSpec.from_mapping(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def default_tenant_data() -> dict[str, Any]:
    """The demo tenant's files merged into one mapping (the shape `TenantSpec.from_mapping` takes), for tests
    and benchmarks that derive their own tenant from the demo's."""
    return _read_tenant_dir(importlib.resources.files(_TENANT_PACKAGE).joinpath(_TENANT_DIR))


def default_tenant_spec() -> TenantSpec:
    """The demo tenant shipped as package data (`auditor/demo/tenant/`)."""
    try:
        return TenantSpec.from_mapping(default_tenant_data())
    except ValueError as exc:
        raise ValueError(f"auditor.demo/tenant: {exc}") from None


def _read_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = parse_yaml(text, source=where, what="tenant")
    except InputError as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: a tenant file must be a YAML mapping")
    return dict(data)


def _read_tenant_dir(root: Traversable) -> dict[str, Any]:
    """Merge tenant.yaml, quota.yaml, behaviour.yaml and catalog/<location>.yaml into one mapping. A catalog file
    is one location's Models_List: `location` and `models` (entries without `offeredIn`); each entry keeps the
    file it came from in `x-where`, so a mistake is reported there."""
    merged: dict[str, Any] = {}
    for name in _TENANT_FILES:
        part = root.joinpath(name)
        if not part.is_file():
            continue
        for key, value in _read_yaml(part.read_text(encoding="utf-8"), name).items():
            if key in merged and not str(key).startswith("x-"):
                raise ValueError(f"{name}: '{key}' is already set by another tenant file")
            merged[key] = value
    catalog: list[Any] = list(_listing(merged.get("catalog"), "catalog"))
    folder = root.joinpath("catalog")
    files = (
        sorted((f for f in folder.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name)
        if folder.is_dir()
        else []
    )
    for file in files:
        where = f"catalog/{file.name}"
        region = _read_yaml(file.read_text(encoding="utf-8"), where)
        location = str(_need(region, "location", where))
        for i, entry in enumerate(_listing(region.get("models"), f"{where}: models")):
            entry = _mapping(entry, f"{where}: models[{i}]")
            if "offeredIn" in entry:
                raise ValueError(f"{where}: models[{i}]: a location's catalog file lists what it offers; no offeredIn")
            catalog.append({**entry, "offeredIn": [location], "x-where": f"{where}: models[{i}]"})
    merged["catalog"] = catalog
    return merged
