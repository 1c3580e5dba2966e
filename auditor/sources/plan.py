"""Planned deployments, read from a plan file before anything is created: a simple YAML list, an ARM
template (or Bicep compiled to JSON), or a Terraform plan (`terraform show -json`). The format is detected
from the content; every planned deployment keeps the file and line it came from.

What cannot be read off the file is not guessed: an ARM expression that is not a plain parameter or
variable default (uniqueString(), resourceGroup().location, reference() ...), or a Terraform value known
only after apply, leaves the field None and says so in `PlannedDeployment.unresolved`.
"""

from __future__ import annotations

import json.decoder
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from auditor.model.errors import InputError, TargetNotFoundError
from auditor.model.facts import PlannedDeployment, SourceLocation
from auditor.sources.arm_expressions import Expression, ExpressionError
from auditor.sources.arm_expressions import Unresolvable as Unresolvable  # re-exported: callers catch it here
from auditor.util.inputschema import check
from auditor.util.yamlfile import LineDict, LineList, load_yaml, read_input

_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
"""The json module's string scanner (C where available); public in json.decoder, absent from typeshed."""

_Expression = Expression
"""The evaluator's old name here (it lives in arm_expressions.py now)."""

DEPLOYMENT_TYPE = "microsoft.cognitiveservices/accounts/deployments"
ACCOUNT_TYPE = "microsoft.cognitiveservices/accounts"
_REQUIRED = ("account", "name", "model", "sku", "capacity")


# --- JSON with line numbers ------------------------------------------------------------------------------

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WORDS = {"true": True, "false": False, "null": None}
_BLANK = re.compile("[ \t\r\n\ufeff]*")


class _JsonReader:
    """A small JSON reader whose objects and arrays are LineDict / LineList (as YAML's are), so findings can
    name the line of each resource. ARM's // and /* */ comments are skipped."""

    def __init__(self, text: str, path: Path) -> None:
        self.text = text
        self.path = path
        self.lines = [0] + [m.end() for m in re.finditer(r"\n", text)]

    def line(self, pos: int) -> int:
        return bisect_right(self.lines, pos)

    def fail(self, pos: int, problem: str) -> InputError:
        return InputError(f"{self.path}:{self.line(pos)}: invalid JSON in plan file: {problem}")

    def skip(self, pos: int) -> int:
        text = self.text
        while pos < len(text):
            pos = _BLANK.match(text, pos).end()  # type: ignore[union-attr]  # matches the empty string too
            if text.startswith("//", pos):
                end = text.find("\n", pos)
                pos = len(text) if end < 0 else end + 1
            elif text.startswith("/*", pos):
                end = text.find("*/", pos + 2)
                if end < 0:
                    raise self.fail(pos, "unterminated comment")
                pos = end + 2
            else:
                break
        return pos

    def read(self) -> Any:
        value, pos = self.value(self.skip(0))
        pos = self.skip(pos)
        if pos != len(self.text):
            raise self.fail(pos, "extra data after the document")
        return value

    def value(self, pos: int) -> tuple[Any, int]:
        if pos >= len(self.text):
            raise self.fail(pos, "unexpected end of file")
        char = self.text[pos]
        if char == "{":
            return self.object(pos)
        if char == "[":
            return self.array(pos)
        if char == '"':
            try:
                return _scanstring(self.text, pos + 1)
            except ValueError as exc:
                raise self.fail(pos, str(exc).split(":")[0]) from None
        for word, meaning in _WORDS.items():
            if self.text.startswith(word, pos):
                return meaning, pos + len(word)
        match = _NUMBER.match(self.text, pos)
        if match:
            number = match.group()
            if len(number) > 1000:
                raise self.fail(pos, f"a number of {len(number)} digits")
            return (float(number) if any(c in number for c in ".eE") else int(number)), match.end()
        raise self.fail(pos, f"unexpected character {char!r}")

    def object(self, start: int) -> tuple[LineDict, int]:
        result = LineDict()
        result.line = self.line(start)
        result.key_lines = {}
        pos = self.skip(start + 1)
        if self.text.startswith("}", pos):
            return result, pos + 1
        while True:
            if not self.text.startswith('"', pos):
                raise self.fail(pos, "expected a property name in double quotes")
            key_line = self.line(pos)
            try:
                key, pos = _scanstring(self.text, pos + 1)
            except ValueError as exc:
                raise self.fail(pos, str(exc).split(":")[0]) from None
            pos = self.skip(pos)
            if not self.text.startswith(":", pos):
                raise self.fail(pos, "expected ':'")
            value, pos = self.value(self.skip(pos + 1))
            result[key] = value
            result.key_lines[key] = key_line
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos = self.skip(pos + 1)
                continue
            if self.text.startswith("}", pos):
                return result, pos + 1
            raise self.fail(pos, "expected ',' or '}'")

    def array(self, start: int) -> tuple[LineList, int]:
        result = LineList()
        result.line = self.line(start)
        result.item_lines = []
        pos = self.skip(start + 1)
        if self.text.startswith("]", pos):
            return result, pos + 1
        while True:
            result.item_lines.append(self.line(pos))
            value, pos = self.value(pos)
            result.append(value)
            pos = self.skip(pos)
            if self.text.startswith(",", pos):
                pos = self.skip(pos + 1)
                continue
            if self.text.startswith("]", pos):
                return result, pos + 1
            raise self.fail(pos, "expected ',' or ']'")


def load_json(path: Path) -> Any:
    """Parse a JSON file into LineDict / LineList; errors name the file and line."""
    text = read_input(path, what="plan")
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 5000))
    try:
        return _JsonReader(text, path).read()
    except RecursionError:
        raise InputError(f"{path}:1: invalid JSON in plan file: nested too deeply") from None
    finally:
        sys.setrecursionlimit(limit)


def _line(node: Any, default: int = 1) -> int:
    return getattr(node, "line", default) or default


# --- the simple YAML format ------------------------------------------------------------------------------


def _yaml_plan(document: Any, path: Path) -> list[PlannedDeployment]:
    entries = document.get("deployments") if isinstance(document, Mapping) else document
    if not isinstance(entries, list):
        raise InputError(
            f"{path}:{_line(document)}: a plan is a list of planned deployments "
            "(account, name, model, version, sku, capacity), or a mapping with a `deployments:` list"
        )
    planned = []
    for index, raw in enumerate(entries):
        line = entries.item_lines[index] if isinstance(entries, LineList) else 1
        if not isinstance(raw, Mapping):
            raise InputError(f"{path}:{line}: a planned deployment must be a mapping with {', '.join(_REQUIRED)}")
        missing = [k for k in _REQUIRED if raw.get(k) in (None, "")]
        if missing:
            raise InputError(f"{path}:{line}: planned deployment is missing {', '.join(missing)}")
        model = raw["model"]
        model_format = str(raw.get("format") or "OpenAI")
        version = raw.get("version")
        if isinstance(model, Mapping):
            model_format = str(model.get("format") or model_format)
            version = model.get("version", version)
            model = model.get("name")
        capacity = raw["capacity"]
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
            raise InputError(f"{path}:{line}: capacity must be a whole number, not {capacity!r}")
        approved = raw.get("registration_approved", False)
        if not isinstance(approved, bool):
            raise InputError(f"{path}:{line}: registration_approved must be true or false, not {approved!r}")
        planned.append(
            PlannedDeployment(
                account=str(raw["account"]),
                name=str(raw["name"]),
                model_name=str(model),
                model_version=None if version is None else str(version),
                sku_name=str(raw["sku"]),
                sku_capacity=capacity,
                model_format=model_format,
                registration_approved=approved,
                location=SourceLocation(str(path), line),
                source_format="yaml",
            )
        )
    check(
        document,
        "plan.schema.json",
        path,
        what="plan",
        unknown_key=lambda key, _, allowed: (
            f"unknown key {key!r} in a planned deployment (allowed: {', '.join(allowed)})"
        ),
    )
    return planned


# --- ARM templates (and Bicep compiled to JSON) ---------------------------------------------------------


def _arm_resources(
    template: Mapping[str, Any], parent: tuple[str, Any] | None = None
) -> Iterator[tuple[str, Any, tuple[str, Any] | None]]:
    """(full type, resource, parent) for every resource, including children nested under `resources`, and
    Bicep's symbolic-name form (`resources` as an object)."""
    resources = template.get("resources") or []
    items = resources.values() if isinstance(resources, Mapping) else resources if isinstance(resources, list) else ()
    for resource in items:
        if not isinstance(resource, Mapping):
            continue
        kind = str(resource.get("type") or "")
        full = f"{parent[0]}/{kind}" if parent and "/" not in kind else kind
        yield full, resource, parent
        if resource.get("resources"):
            yield from _arm_resources(resource, (full, resource))


def _arm_created_accounts(template: Mapping[str, Any], evaluator: Expression, path: Path) -> set[str]:
    """The (lower-cased) names of the accounts the template itself creates."""
    created: set[str] = set()
    for full, resource, _ in _arm_resources(template):
        if full.lower() == ACCOUNT_TYPE and resource.get("existing") is not True:
            try:
                created.add(str(evaluator.value(resource.get("name"))).lower())
            except Unresolvable:
                pass
            except ExpressionError as exc:
                raise InputError(f"{path}:{_line(resource)}: name: {exc}") from None
    return created


class _ArmFields:
    """One deployment resource's fields, evaluated: what cannot be known from the template is collected in
    `unresolved` (the field is None); an expression that is wrong is an InputError naming the resource's line."""

    def __init__(self, evaluator: Expression, resource: Mapping[str, Any], path: Path) -> None:
        self.evaluator, self.resource, self.path = evaluator, resource, path
        self.unresolved: list[str] = []

    def get(self, field: str, raw: Any) -> Any:
        try:
            return self.evaluator.value(raw)
        except Unresolvable as exc:
            self.unresolved.append(f"{field}: {exc}")
            return None
        except ExpressionError as exc:
            raise InputError(f"{self.path}:{_line(self.resource)}: {field}: {exc}") from None

    def block(self, field: str, raw: Any) -> Mapping[str, Any]:
        value = self.get(field, raw) if isinstance(raw, str) else raw
        return value if isinstance(value, Mapping) else {}

    def account_and_name(self, parent: tuple[str, Any] | None) -> tuple[Any, Any]:
        """The account and the deployment's name: a child resource's own name under its parent account, or
        ACCOUNT/DEPLOYMENT at the top level."""
        resource, unresolved = self.resource, self.unresolved
        name = self.get("name", resource.get("name"))
        account = None
        if parent is not None and name is not None and "/" not in str(name):
            account = self.get("account", parent[1].get("name"))
        elif name is not None:
            parts = str(name).split("/")
            if len(parts) == 2:
                account, name = parts
            else:
                unresolved.append(f"name: {name!r} is not ACCOUNT/DEPLOYMENT")
                name = None
        elif "parent" in resource:
            unresolved.append("account: the parent account is given by a symbolic reference")
        if name is None and not any(u.startswith("account") for u in unresolved) and account is None:
            unresolved.append("account: follows from the unresolved name")
        return account, name

    def capacity(self, properties: Mapping[str, Any], sku: Mapping[str, Any]) -> Any:
        """sku.capacity, else the older properties.scaleSettings.capacity; absent: Azure's default, unknown here."""
        capacity = self.get("sku.capacity", sku.get("capacity")) if "capacity" in sku else None
        if capacity is None and isinstance(properties.get("scaleSettings"), Mapping):
            capacity = self.get("sku.capacity", properties["scaleSettings"].get("capacity"))
        if capacity is None and not any(u.startswith("sku.capacity") for u in self.unresolved):
            self.unresolved.append("sku.capacity: not given in the template (Azure applies its default)")
        return capacity


def _arm_deployment(
    evaluator: Expression,
    resource: Mapping[str, Any],
    parent: tuple[str, Any] | None,
    path: Path,
    created_accounts: set[str],
) -> PlannedDeployment:
    fields = _ArmFields(evaluator, resource, path)
    account, name = fields.account_and_name(parent)
    properties = fields.block("properties", resource.get("properties"))
    model = fields.block("model.name", properties.get("model"))
    sku = fields.block("sku.name", resource.get("sku"))
    capacity = fields.capacity(properties, sku)
    version = fields.get("model.version", model.get("version")) if "version" in model else None
    if account is not None and str(account).lower() in created_accounts:
        fields.unresolved.append(
            f"account: {account} is created by this template; its region and quota can only be "
            "checked once it exists (deploy it first, or name an existing account)"
        )
    return PlannedDeployment(
        account=None if account is None else str(account),
        name=None if name is None else str(name),
        model_name=_str(fields.get("model.name", model.get("name"))),
        model_version=_str(version),
        sku_name=_str(fields.get("sku.name", sku.get("name"))),
        sku_capacity=_int(capacity, fields.unresolved),
        model_format=_str(fields.get("model.format", model.get("format"))) or "OpenAI",
        location=SourceLocation(str(path), _line(resource)),
        unresolved=tuple(fields.unresolved),
        source_format="arm",
    )


def _arm_plan(template: Mapping[str, Any], path: Path) -> list[PlannedDeployment]:
    evaluator = Expression(template)
    created_accounts = _arm_created_accounts(template, evaluator, path)
    return [
        _arm_deployment(evaluator, resource, parent, path, created_accounts)
        for full, resource, parent in _arm_resources(template)
        if full.lower() == DEPLOYMENT_TYPE
    ]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any, unresolved: list[str]) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        unresolved.append(f"sku.capacity: {str(value)[:40]!r} is not a number")
        return None


# --- Terraform plans (terraform show -json) --------------------------------------------------------------


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _tf_modules(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for resource in _listed(module.get("resources")):
        if isinstance(resource, Mapping):
            yield resource
    for child in _listed(module.get("child_modules")):
        if isinstance(child, Mapping):
            yield from _tf_modules(child)


def _block(values: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """A nested block (`model`, `sku`, `scale`): a one-element list in plan JSON."""
    block = values.get(name)
    if isinstance(block, list):
        block = block[0] if block else {}
    return block if isinstance(block, Mapping) else {}


def _config_references(plan: Mapping[str, Any], address: str) -> list[str]:
    """What `cognitive_account_id` refers to in the configuration (e.g. azurerm_cognitive_account.main.id)."""

    def walk(module: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for resource in module.get("resources") or ():
            yield prefix + str(resource.get("address")), resource
        for name, call in (module.get("module_calls") or {}).items():
            yield from walk((call or {}).get("module") or {}, f"{prefix}module.{name}.")

    configuration = (plan.get("configuration") or {}).get("root_module") or {}
    plain = re.sub(r"\[[^\]]*\]", "", address)
    for found, resource in walk(configuration, ""):
        if found == plain:
            expression = (resource.get("expressions") or {}).get("cognitive_account_id") or {}
            return [str(r) for r in expression.get("references") or ()]
    return []


_TfChosen = tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any], str]
"""(the plan's node, its planned values, which of them are known only after apply, the action)."""


def _tf_chosen(plan: Mapping[str, Any], planned_values: Mapping[str, Mapping[str, Any]]) -> list[_TfChosen]:
    """The deployments the plan creates or changes: from resource_changes (no-ops, reads and deletes left out),
    else, in a plan without them, every deployment in planned_values."""
    changes = [c for c in plan.get("resource_changes") or () if isinstance(c, Mapping)]
    if not changes:
        return [
            (resource, resource.get("values") or {}, {}, "create")
            for resource in planned_values.values()
            if resource.get("type") == "azurerm_cognitive_deployment"
        ]
    chosen: list[_TfChosen] = []
    for change in changes:
        if change.get("type") != "azurerm_cognitive_deployment" or change.get("mode", "managed") != "managed":
            continue
        body = change.get("change") or {}
        actions = [str(a) for a in body.get("actions") or ()]
        if actions in (["no-op"], ["read"], ["delete"]) or not isinstance(body.get("after"), Mapping):
            continue
        action = "replace" if "delete" in actions and "create" in actions else actions[0] if actions else "create"
        chosen.append((change, body["after"], body.get("after_unknown") or {}, action))
    return chosen


def _tf_after_apply(values: Mapping[str, Any], unknown: Any, model: Mapping[str, Any], address: str) -> list[str]:
    """The fields Terraform knows only after apply (`after_unknown`), as unresolved notes."""
    unknown_model = _block(unknown, "model") if isinstance(unknown, Mapping) else {}
    notes = []
    for field, key, unknown_block in (
        ("model.name", "name", unknown_model),
        ("model.version", "version", unknown_model),
        ("name", "name", unknown),
    ):
        if isinstance(unknown_block, Mapping) and unknown_block.get(key) is True:
            notes.append(f"{field}: known only after apply ({address})")
    return notes


def _tf_account(
    plan: Mapping[str, Any],
    values: Mapping[str, Any],
    accounts: Mapping[str, Mapping[str, Any]],
    address: str,
    unresolved: list[str],
) -> str | None:
    """The deployment's account: its ARM id when the plan knows it, else the name of the account the plan
    itself creates (noted: not checkable before it exists), else unknown until apply."""
    account_id = values.get("cognitive_account_id")
    if isinstance(account_id, str) and "/accounts/" in account_id.lower():
        return account_id
    references = _config_references(plan, address)
    target = next((r for r in references if r.startswith("azurerm_cognitive_account.") and r.count(".") == 1), None)
    created = accounts.get(target or "")
    if created is not None and (created.get("values") or {}).get("name"):
        account = str(created["values"]["name"])
        unresolved.append(
            f"account: {account} is created by this plan ({target}); its region and quota can "
            "only be checked once it exists"
        )
        return account
    unresolved.append(f"account: cognitive_account_id is known only after apply ({address})")
    return None


def _terraform_plan(plan: Mapping[str, Any], path: Path) -> list[PlannedDeployment]:
    planned_values = {
        str(r.get("address")): r for r in _tf_modules((plan.get("planned_values") or {}).get("root_module") or {})
    }
    accounts = {address: r for address, r in planned_values.items() if r.get("type") == "azurerm_cognitive_account"}
    planned = []
    for node, values, unknown, action in _tf_chosen(plan, planned_values):
        address = str(node.get("address"))
        model = _block(values, "model")
        sku = _block(values, "sku") or _block(values, "scale")
        unresolved = _tf_after_apply(values, unknown, model, address)
        account = _tf_account(plan, values, accounts, address, unresolved)
        capacity = sku.get("capacity", 1) if sku else None
        if capacity is None:
            unresolved.append(f"sku.capacity: not in the plan ({address})")
        planned.append(
            PlannedDeployment(
                account=account,
                name=_str(values.get("name")),
                model_name=_str(model.get("name")),
                model_version=_str(model.get("version")) or None,
                sku_name=_str(sku.get("name") or sku.get("type")),
                sku_capacity=None if capacity is None else int(capacity),
                model_format=_str(model.get("format")) or "OpenAI",
                location=SourceLocation(str(path), _line(node)),
                unresolved=tuple(unresolved),
                action=action,
                source_format="terraform",
            )
        )
    return planned


# --- entry points ----------------------------------------------------------------------------------------


def detect_format(document: Any) -> str:
    """ "arm", "terraform" or "yaml" from the document's shape."""
    if isinstance(document, Mapping):
        schema = str(document.get("$schema") or "").lower()
        if "deploymenttemplate" in schema or ("resources" in document and "contentVersion" in document):
            return "arm"
        if "format_version" in document and ("planned_values" in document or "resource_changes" in document):
            return "terraform"
    return "yaml"


def _structured_plan(kind: str, document: Any, path: Path) -> list[PlannedDeployment]:
    """An ARM template or Terraform plan; a part of the wrong type (a number where a list of resources
    belongs) is bad input, reported as such, never a crash."""
    try:
        return _arm_plan(document, path) if kind == "arm" else _terraform_plan(document, path)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, OverflowError) as exc:
        name = "ARM template" if kind == "arm" else "Terraform plan"
        raise InputError(
            f"{path}:{_line(document)}: not a well-formed {name}: a part has an unexpected type "
            f"({type(exc).__name__}: {str(exc)[:120]})"
        ) from None


def load_plan(path: Path | str) -> tuple[PlannedDeployment, ...]:
    """Read a plan file of any supported format; problems are InputErrors naming the file and line."""
    path = Path(path)
    head = read_input(path, what="plan").lstrip("\ufeff \t\r\n")[:1]
    if head in ("{", "["):
        document = load_json(path)
        kind = detect_format(document)
        if kind in ("arm", "terraform"):
            planned = _structured_plan(kind, document, path)
        elif isinstance(document, list):
            planned = _yaml_plan(document, path)
        else:
            raise InputError(
                f"{path}:1: a JSON plan must be an ARM template (with $schema and resources) or a "
                "Terraform plan (terraform show -json: format_version, planned_values / resource_changes)"
            )
    else:
        planned = _yaml_plan(load_yaml(path, what="plan"), path)
    if not planned:
        raise InputError(
            f"{path}:1: the plan has no Azure OpenAI deployments "
            "(Microsoft.CognitiveServices/accounts/deployments or azurerm_cognitive_deployment)"
        )
    return tuple(planned)


def plan_account_refs(planned: Sequence[PlannedDeployment]) -> list[str]:
    """The existing accounts a plan targets (names or ARM ids), to be audited like --resource."""
    refs: list[str] = []
    for plan in planned:
        if plan.account and not any(u.startswith("account") for u in plan.unresolved) and plan.account not in refs:
            refs.append(plan.account)
    return refs


def find_plan_accounts(lookup: Callable[[Sequence[str]], Sequence[Any]], refs: Sequence[str]) -> list[str]:
    """The ARM ids of the plan's accounts that exist. `lookup` resolves names/ids like --resource and raises
    TargetNotFoundError for a missing one; missing accounts are left out (the plan's findings say so)."""
    if not refs:
        return []
    try:
        return [a.id for a in lookup(refs)]
    except TargetNotFoundError:
        found: list[str] = []
        for ref in refs:
            try:
                found.extend(a.id for a in lookup([ref]))
            except TargetNotFoundError:
                continue
        return found
