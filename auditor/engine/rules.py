"""Rules as data: loading and validating rule files, failing fast with file and line."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.engine.conditions import Compiled, compile_condition
from auditor.engine.fields import RULE_FIELDS, condition_paths, declared, suggestion, template_paths
from auditor.model.enums import Category
from auditor.model.errors import InputError
from auditor.model.results import Severity
from auditor.util import inputfile
from auditor.util.resources import data_dir, schema_path
from auditor.util.yamlfile import LineDict, line_of, load_yaml

if TYPE_CHECKING:
    import jsonschema


IDENTITY_FACTS: Mapping[str, tuple[str, ...]] = {
    # kinds with several subjects on one target: what tells their findings apart
    "contract_call": ("call.api",),
    "contract_parameter": ("call.api", "param.name"),
    "probe": ("probe.api", "probe.parameter", "probe.setting", "probe.label"),
    "upgrade": ("upgrade.model_name", "upgrade.model_version", "call.api"),
}
"""The default identity facts per subject kind; kinds with one subject per target need none."""


@dataclass(frozen=True)
class Rule:
    """One check: when it applies, what counts as a violation, and what to tell people."""

    id: str
    title: str
    category: Category
    severity: Severity
    applies_to: str
    fails_when: Mapping[str, Any]
    message: str
    remediation: str
    docs: str
    since: str
    where: Mapping[str, Any] | None = None
    pass_message: str | None = None
    rationale: str | None = None
    references: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    examples: tuple[Mapping[str, str], ...] = ()
    """How to fix, as code: each {title, language, code} (the rule's documentation page shows them)."""
    page: str | None = None
    """The rule's page on the documentation site, for the version that runs (built-in rules: docs/rules/<ID>.md);
    None for other rule packs."""
    remediation_by: Mapping[str, Any] | None = None
    """Advice that depends on a fact: {field: PATH, cases: {VALUE: TEMPLATE}}; `remediation` otherwise."""
    fix: Mapping[str, str] = field(default_factory=dict)
    """The mechanical edit auditor/fixes makes for a failing finding: {code: KIND} and/or {iac: KIND}."""
    parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Per parameter: its `default`, `description` and the `value` bound into the conditions and messages."""
    identity: tuple[str, ...] | None = None
    """The facts that tell this rule's findings on one target apart (`identity:` in YAML); None: the subject
    kind's default (IDENTITY_FACTS). A finding's key is rule, target and these facts' values, never the message."""

    @property
    def identity_facts(self) -> tuple[str, ...]:
        return IDENTITY_FACTS.get(self.applies_to, ()) if self.identity is None else self.identity

    @property
    def help_url(self) -> str:
        """Where a finding points for help: the rule's page, else its `docs` link."""
        return self.page or self.docs

    @cached_property
    def compiled(self) -> tuple[Compiled | None, Compiled]:
        """The `where` and `fails_when` conditions compiled once for fast evaluation."""
        return (compile_condition(self.where) if self.where else None, compile_condition(self.fails_when))


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    import jsonschema

    schema = json.loads(schema_path("rules.schema.json").read_text(encoding="utf-8"))
    from auditor.util.saferegex import format_checker

    return jsonschema.Draft202012Validator(schema, format_checker=format_checker())


def _describe(error: jsonschema.ValidationError) -> str:
    """One readable line for the most specific schema complaint."""
    import jsonschema

    best = jsonschema.exceptions.best_match([error])
    where = "/".join(str(p) for p in best.absolute_path) or "top level"
    if best.validator == "oneOf" and isinstance(best.instance, dict):
        keys = ", ".join(sorted(map(str, best.instance)))
        return f"{where}: not a valid condition (keys: {keys}); use allOf, anyOf, not, or field with one operator"
    return f"{where}: {best.message}"


def load_rule_file(
    path: Path,
    *,
    builtin: bool = False,
    docs_url: str | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Rule]:
    """Parse and validate one rule file; any problem is an InputError naming file and line.

    The package's own rule files (`builtin`) skip the schema and the YAML size bounds: the test suite holds
    every one of them to both (test_engine.py: test_builtin_rule_files_pass_the_checks_they_skip), and on every
    run the checks cost ~0.15 s of CPU (importing jsonschema, validating, walking the nodes) before the first call.
    A built-in rule's page is on the documentation site of this version, under `docs_url` when given
    (auditor/util/doclinks.py)."""
    from auditor.util.doclinks import rule_page

    document = load_yaml(path, what="rule", trusted=builtin)
    if not builtin:
        import jsonschema

        errors = sorted(_validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
        if errors:
            error = jsonschema.exceptions.best_match(errors)
            line = line_of(document, error.absolute_path)
            raise InputError(f"{path}:{line}: invalid rule: {_describe(error)}")
    rules = []
    lines = inputfile.read_text(path, what="rules").splitlines()  # bounded, as the first read was
    for original in document["rules"]:
        raw, parameters = bind_parameters(path, original, overrides)
        _check_fields(path, lines, raw)
        rules.append(
            Rule(
                id=raw["id"],
                title=raw["title"],
                category=Category(raw["category"]),
                severity=Severity(raw["severity"]),
                applies_to=raw["applies_to"],
                fails_when=raw["fails_when"],
                message=raw["message"],
                remediation=raw["remediation"],
                docs=raw["docs"],
                since=raw["since"],
                where=raw.get("where"),
                pass_message=raw.get("pass_message"),
                rationale=raw.get("rationale"),
                references=tuple(raw.get("references", ())),
                labels=dict(raw.get("labels", {})),
                source=f"{path}:{getattr(raw, 'line', 1)}",
                examples=tuple(dict(e) for e in raw.get("examples", ())),
                page=rule_page(raw["id"], docs_url) if builtin else None,
                remediation_by=raw.get("remediation_by"),
                fix=dict(raw.get("fix", {})),
                parameters=parameters,
                identity=tuple(raw["identity"]) if "identity" in raw else None,
            )
        )
    return rules


_PARAMETER_TEXT = re.compile(r"\{parameters\.([a-z][a-z0-9_]*)\}")


def _reads_parameters(raw: Mapping[str, Any]) -> bool:
    """Whether a rule's conditions or texts name a parameter at all (most rules do not: they skip the binding)."""
    conditions = repr((raw.get("where"), raw.get("fails_when")))
    texts = " ".join(str(raw.get(k) or "") for k in ("message", "pass_message", "remediation", "title"))
    return "'parameter'" in conditions or "{parameters." in texts


def bind_parameters(
    path: Path, raw: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[Mapping[str, Any], dict[str, dict[str, Any]]]:
    """The rule with its parameters put in: `{parameter: NAME}` operands become the value, `{parameters.NAME}` in
    its texts the value's text. The value is the default unless `overrides[rule id][NAME]` gives another; an
    unknown name, in the rule or in the overrides, is an InputError naming the file and line."""
    declared = raw.get("parameters") or {}
    if not declared and not (overrides or {}).get(raw["id"]) and not _reads_parameters(raw):
        return raw, {}
    line = getattr(raw, "line", 1)
    given = dict((overrides or {}).get(raw["id"]) or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise InputError(f"--rule-param {raw['id']}.{unknown[0]}: the rule has no parameter {unknown[0]!r}")
    values = {name: given.get(name, spec["default"]) for name, spec in declared.items()}

    def operand(node: Any) -> Any:
        if isinstance(node, Mapping) and set(node) == {"parameter"}:
            if node["parameter"] not in values:
                raise InputError(f"{path}:{line}: {raw['id']}: no parameter {node['parameter']!r} is declared")
            return values[node["parameter"]]
        if isinstance(node, Mapping):
            return {k: operand(v) for k, v in node.items()}
        if isinstance(node, list):
            return [operand(v) for v in node]
        return node

    def text(value: Any) -> Any:
        if not isinstance(value, str):
            return value

        def one(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise InputError(f"{path}:{line}: {raw['id']}: no parameter {match.group(1)!r} is declared")
            return str(values[match.group(1)])

        return _PARAMETER_TEXT.sub(one, value)

    bound: dict[str, Any] = dict(raw)
    for key in ("where", "fails_when"):
        if bound.get(key) is not None:
            bound[key] = operand(bound[key])
    for key in ("message", "pass_message", "remediation", "title"):
        bound[key] = text(bound.get(key))
    if isinstance(raw, LineDict):
        copy = LineDict(bound)
        copy.line, copy.key_lines = raw.line, getattr(raw, "key_lines", {})
        bound = copy
    parameters = {
        name: {"default": spec["default"], "description": spec["description"], "value": values[name]}
        for name, spec in declared.items()
    }
    return bound, parameters


def _check_fields(path: Path, lines: list[str], raw: Mapping[str, Any]) -> None:
    """Every field path a rule reads (conditions and message placeholders) must be declared for the kind of
    subject it applies to (engine/fields.py): a typo fails here, naming file, line and path."""
    kind = str(raw["applies_to"])
    start = getattr(raw, "line", 1)
    if kind not in RULE_FIELDS:
        raise InputError(
            f"{path}:{start}: {raw['id']}: no subject kind {kind!r} (known: {', '.join(sorted(RULE_FIELDS))})"
        )
    paths = [*condition_paths(raw.get("where")), *condition_paths(raw["fails_when"])]
    for key in ("message", "pass_message", "remediation"):
        paths.extend(template_paths(raw.get(key)))
    if raw.get("remediation_by"):
        paths.append(str(raw["remediation_by"]["field"]))
        for template in raw["remediation_by"]["cases"].values():
            paths.extend(template_paths(template))
    for field_path in paths:
        if declared(kind, field_path):
            continue
        line = next((n for n, text in enumerate(lines[start - 1 :], start) if field_path in text), start)
        close = suggestion(kind, field_path)
        hint = f"; did you mean {close}?" if close else ""
        raise InputError(
            f"{path}:{line}: {raw['id']}: unknown field {field_path} for {kind} subjects{hint} "
            "(the fields each subject kind has are declared in auditor/engine/fields.py)"
        )


def load_rules(
    directories: Iterable[Path] = (),
    *,
    builtin: bool = True,
    docs_url: str | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Rule]:
    """The built-in rules plus every `*.yaml` under the given directories; ids must be unique. Built-in rules
    link their page under `docs_url` (default: the documentation base the package declares); `overrides` sets
    rule parameters (rule id -> name -> value; --rule-param)."""
    builtin_root = data_dir("rules") / "builtin"
    roots = ([builtin_root] if builtin else []) + [Path(d) for d in directories]
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for root in roots:
        if not root.is_dir():
            raise InputError(f"{root}: rules directory not found")
        for path in sorted(root.rglob("*.yaml")) + sorted(root.rglob("*.yml")):
            for rule in load_rule_file(path, builtin=root == builtin_root, docs_url=docs_url, overrides=overrides):
                if rule.id in seen:
                    raise InputError(f"{rule.source}: duplicate rule id {rule.id} (first at {seen[rule.id]})")
                seen[rule.id] = rule.source
                rules.append(rule)
    return sorted(rules, key=lambda r: r.id)


@lru_cache(maxsize=1)
def gating_rules() -> dict[str, Rule]:
    """The rules the gate applies after the audit (rules/gating/: the waiver rules), by id. They judge the
    gate's own inputs, not Azure, so `load_rules` leaves them out; their pages and `audit rules explain` do not."""
    root = data_dir("rules") / "gating"
    return {r.id: r for path in sorted(root.glob("*.yaml")) for r in load_rule_file(path, builtin=True)}


def gating_rule(rule_id: str) -> Rule:
    return gating_rules()[rule_id]


def every_rule(directories: Iterable[Path] = ()) -> list[Rule]:
    """Every rule a report can name: the audit's rules (built-in and the given packs) and the gate's."""
    return sorted([*load_rules(directories), *gating_rules().values()], key=lambda r: r.id)
