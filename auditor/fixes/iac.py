"""Mechanical edits of a planned deployment in its plan file: the model version, the SKU name, the capacity.

Only the one value is replaced, inside the planned deployment's own block (the YAML list entry, the ARM/Bicep
JSON resource object, the Terraform `azurerm_cognitive_deployment` resource), so everything else in the file
stays as written. A value that comes through an ARM expression (`[parameters('v')]`, `[variables('m')]`) or a
Terraform variable is not guessed: the caller is told what to set by hand. A Terraform plan (`terraform show
-json`) is generated output; the edit goes to the `.tf` file under the working directory that declares the
deployment of that name, when exactly one does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.model.errors import InputError
from auditor.util import inputfile

_SKIP_DIRS = {".git", ".terraform", "node_modules", ".venv", "venv"}


@dataclass(frozen=True)
class PlanEdit:
    """Set one field of a planned deployment: version, sku or capacity."""

    field: str
    old: str | None
    new: str

    def describe(self) -> str:
        what = {"version": "model version", "sku": "SKU name", "capacity": "capacity"}[self.field]
        return f"set the {what} to {self.new}" + (f" (was {self.old})" if self.old else "")


def _new_version(fix: Mapping[str, Any]) -> list[PlanEdit]:
    """Move to the region's default version (and to an SKU it offers, when it does not offer the planned one)."""
    version, default, sku = fix.get("model_version"), fix.get("default_version"), fix.get("sku_name")
    if not (default and version and default != version):
        return []
    return [PlanEdit("version", version, str(default)), *_sku_edit(sku, list(fix.get("default_version_skus") or ()))]


def _offered_version_or_sku(fix: Mapping[str, Any]) -> list[PlanEdit]:
    if not fix.get("version_offered"):
        return _new_version(fix)
    return _sku_edit(fix.get("sku_name"), list(fix.get("skus") or ()))


def _fit_capacity(fix: Mapping[str, Any]) -> list[PlanEdit]:
    capacity, excess = fix.get("sku_capacity"), fix.get("quota_excess")
    if fix.get("quota_sharing") == 1 and isinstance(capacity, int) and isinstance(excess, (int, float)):
        fitted = capacity - int(-(-excess // 1))
        if 0 < fitted < capacity:
            return [PlanEdit("capacity", str(capacity), str(fitted))]
    return []


IAC_EDITS: dict[str, Callable[[Mapping[str, Any]], list[PlanEdit]]] = {
    "offered_version_or_sku": _offered_version_or_sku,
    "default_version": _new_version,
    "fit_capacity": _fit_capacity,
}
"""The plan-file edit kinds a rule may declare (`fix: {iac: KIND}` in its YAML, rules.schema.json)."""


def edits_for(kind: str | None, fix: Mapping[str, Any]) -> list[PlanEdit]:
    """The edits of the declared kind, from what the rule judged (empty: no edit declared, or not a
    mechanical case)."""
    return IAC_EDITS[kind](fix) if kind is not None else []


def _sku_edit(sku: Any, offered: list[str]) -> list[PlanEdit]:
    """The SKU to move to when the planned one is not offered: GlobalStandard when offered, else the only one."""
    if not offered or sku in offered:
        return []
    chosen = "GlobalStandard" if "GlobalStandard" in offered else offered[0] if len(offered) == 1 else None
    return [PlanEdit("sku", str(sku) if sku else None, chosen)] if chosen else []


class PlanByHand(Exception):
    """The value is not written literally in the block (an expression, a variable): say what to set."""


def _json_span(text: str, line: int) -> tuple[int, int]:
    """The object starting on `line` (1-based): from its `{` to just after its `}`; strings and comments skipped."""
    offset = 0
    for _ in range(line - 1):
        offset = text.index("\n", offset) + 1
    start = text.index("{", offset)
    depth, pos = 0, start
    while pos < len(text):
        char = text[pos]
        if char == '"':
            pos += 1
            while pos < len(text) and text[pos] != '"':
                pos += 2 if text[pos] == "\\" else 1
        elif text.startswith("//", pos) or char == "#":
            pos = text.find("\n", pos)
            if pos < 0:
                break
        elif text.startswith("/*", pos):
            pos = text.find("*/", pos + 2)
            if pos < 0:  # unterminated: never restart the scan from the top of the file
                break
            pos += 1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return start, pos + 1
        pos += 1
    raise ValueError("unbalanced braces")


_JSON = {
    "version": re.compile(r'("version"\s*:\s*")([^"]*)(")'),
    "sku": re.compile(r'("sku"\s*:\s*\{[^{}]*?"name"\s*:\s*")([^"]*)(")'),
    "capacity": re.compile(r'("sku"\s*:\s*\{[^{}]*?"capacity"\s*:\s*)("[^"]*"|\d+)()'),
}
_YAML = {
    "version": re.compile(r"(\bversion\s*:\s*[\"']?)([^\"',}\s#]+)()"),
    "sku": re.compile(r"(\bsku\s*:\s*[\"']?)([A-Za-z]+)()"),
    "capacity": re.compile(r"(\bcapacity\s*:\s*)(\d+)()"),
}
_HCL = {
    "version": re.compile(r"(\bmodel\s*\{[^{}]*?\bversion\s*=\s*)(\"[^\"]*\"|[\w.]+)()"),
    "sku": re.compile(r"(\bsku\s*\{[^{}]*?\bname\s*=\s*)(\"[^\"]*\"|[\w.]+)()"),
    "capacity": re.compile(r"(\bsku\s*\{[^{}]*?\bcapacity\s*=\s*)(\"[^\"]*\"|[\w.]+)()"),
}


def _replace(block: str, patterns: Mapping[str, re.Pattern[str]], edit: PlanEdit, quoted: bool) -> str:
    match = patterns[edit.field].search(block)
    if match is None:
        raise PlanByHand(f"the {edit.field} is not written in the deployment's block: {edit.describe()} by hand")
    value = match.group(2)
    literal = value.strip('"')
    if value.startswith('"['):
        raise PlanByHand(f"the {edit.field} is the ARM expression {literal}: {edit.describe()} by hand")
    if quoted and not value.startswith('"') and not value.isdigit():
        raise PlanByHand(f"the {edit.field} comes from {value}: {edit.describe()} by hand")
    if edit.old is not None and literal != edit.old:
        raise PlanByHand(f"the {edit.field} is {literal}, not {edit.old}: check the plan, then {edit.describe()}")
    new = f'"{edit.new}"' if value.startswith('"') else edit.new
    return block[: match.start(2)] + new + block[match.end(2) :]


def _yaml_span(lines: list[str], line: int) -> tuple[int, int]:
    first = lines[line - 1]
    indent = len(first) - len(first.lstrip(" "))
    end = line
    while end < len(lines):
        text = lines[end]
        stripped = text.lstrip(" ")
        depth = len(text) - len(stripped)
        if stripped.strip() and (depth < indent or (depth == indent and stripped.startswith("- "))):
            break
        end += 1
    return line - 1, end


def edit_plan_file(text: str, plan_format: str, line: int, edits: Sequence[PlanEdit]) -> tuple[str, list[str]]:
    """The plan file with the edits made inside the block that starts at `line`; what must be done by hand."""
    by_hand: list[str] = []
    if plan_format == "yaml":
        lines = text.splitlines(keepends=True)
        start, end = _yaml_span(lines, line)
        block = "".join(lines[start:end])
        for edit in edits:
            try:
                block = _replace(block, _YAML, edit, quoted=False)
            except PlanByHand as exc:
                by_hand.append(str(exc))
        return "".join(lines[:start]) + block + "".join(lines[end:]), by_hand
    patterns = _HCL if plan_format == "terraform-hcl" else _JSON
    start, end = _json_span(text, line)
    block = text[start:end]
    for edit in edits:
        try:
            block = _replace(block, patterns, edit, quoted=plan_format == "terraform-hcl")
        except PlanByHand as exc:
            by_hand.append(str(exc))
    return text[:start] + block + text[end:], by_hand


_TF_RESOURCE = re.compile(r'resource\s+"azurerm_cognitive_deployment"\s+"[^"]+"\s*\{')


MAX_TF_FILES = 2_000
MAX_WALKED_DIRS = 20_000
"""Bounds of the walk for `.tf` files under the working directory: a repository has far fewer; run from a
home directory, the search stops here instead of walking everything."""


def _tf_files(root: Path) -> Iterator[Path]:
    """`.tf` files under root: symlinked files and directories not followed, tool directories skipped, bounded."""
    found = 0
    for walked, (here, dirs, files) in enumerate(os.walk(root, followlinks=False), start=1):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not os.path.islink(os.path.join(here, d)))
        for name in sorted(files):
            path = Path(here) / name
            if name.endswith(".tf") and not path.is_symlink():
                found += 1
                yield path
        if walked >= MAX_WALKED_DIRS or found >= MAX_TF_FILES:
            return


def find_terraform_block(root: Path, name: str) -> tuple[Path, int] | None:
    """The `.tf` file and line of the one azurerm_cognitive_deployment whose `name` is `name` (None: not exactly one).
    Each file is read through the bounded reader, inside `root`."""
    found: list[tuple[Path, int]] = []
    for path in _tf_files(root):
        try:
            text = inputfile.read_text(path, what="Terraform", root=root)
        except InputError:
            continue
        for match in _TF_RESOURCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            try:
                start, end = _json_span(text, line)
            except (ValueError, IndexError):
                continue
            if re.search(rf'^\s*name\s*=\s*"{re.escape(name)}"\s*(?:(?:#|//).*)?$', text[start:end], re.MULTILINE):
                found.append((path, line))
    return found[0] if len(found) == 1 else None
