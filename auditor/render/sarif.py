"""SARIF 2.1.0 (`report.sarif`) for GitHub code scanning and other SARIF viewers.

Only findings that need attention become results: failures (kind `fail`), unknowns (kind `open`: the
auditor could not tell, which SARIF says must carry level `none`) and waived findings (kind `fail` with an
accepted external suppression carrying the waiver's owner, reason and expiry). Passing checks are not
results. GitHub rejects a file if any result lacks a physical location, so every result has one: findings
from a file (contract, waivers) point at that file and line, the others at their ARM resource id as a
path under the `AZURE_RESOURCE` base, with the id also given as a logical location.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from urllib.parse import quote

import orjson

from auditor.model.results import Finding, Report, RuleInfo, Severity, Status
from auditor.render.stream import text_of

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
MAX_RESULTS = 5000  # GitHub keeps at most 5,000 results per run (and rejects more than 25,000)
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_RESULT_STATUSES = (Status.FAIL, Status.UNKNOWN, Status.WAIVED)
_TOOL_URI = "https://pypi.org/project/aoai-auditor/"


def _uri(path: str, root: Path | None) -> tuple[str, str | None]:
    """A file location as SARIF wants it: relative to `root` (the working directory) with the
    SRCROOT base when the file is under it, else an absolute file URI."""
    p = Path(path)
    if not p.is_absolute():
        return quote(PurePosixPath(*p.parts).as_posix()), "SRCROOT"
    if root is not None:
        try:
            return quote(p.relative_to(root).as_posix()), "SRCROOT"
        except ValueError:
            pass
    return p.as_uri(), None


def _location(f: Finding, root: Path | None) -> dict[str, Any]:
    logical = [{"fullyQualifiedName": f.target, "name": f.target_name, "kind": "resource"}]
    if f.location:
        uri, base = _uri(f.location.file, root)
        artifact: dict[str, Any] = {"uri": uri}
        if base:
            artifact["uriBaseId"] = base
        return {
            "physicalLocation": {"artifactLocation": artifact, "region": {"startLine": max(1, f.location.line)}},
            "logicalLocations": logical,
        }
    path = quote(f.target.lstrip("/"), safe="/-._~")
    return {
        "physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "AZURE_RESOURCE"}},
        "logicalLocations": logical,
    }


def _rule(rule: RuleInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.id.replace("-", " ").split()),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": ["azure-openai", rule.category], "category": rule.category},
    }
    if rule.docs:
        entry["helpUri"] = rule.docs
        entry["help"] = {"text": f"{rule.description} See {rule.docs}"}
    return entry


def _result(f: Finding, index: dict[str, int], root: Path | None) -> dict[str, Any]:
    text = f.message if f.status is not Status.UNKNOWN else f"{f.title}: {f.message}"
    if f.status is not Status.UNKNOWN and f.remediation:
        text += f" Fix: {f.remediation}"
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "kind": "open" if f.status is Status.UNKNOWN else "fail",
        "level": "none" if f.status is Status.UNKNOWN else LEVELS[f.severity],
        "message": {"text": text},
        "locations": [_location(f, root)],
        "partialFingerprints": {"aoaiFindingKey/v2": f.key},
        "properties": {"status": f.status.value, "category": f.category, "target": f.target_name},
    }
    if f.rule_id in index:
        result["ruleIndex"] = index[f.rule_id]
    if f.drift:
        result["baselineState"] = "new" if f.drift == "new" else "unchanged"
    if f.status is Status.WAIVED:
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted", "justification": f.reason or "waived"}
        if f.waiver:
            suppression["properties"] = {
                "owner": f.waiver.owner,
                "expires": f.waiver.expires,
                "source": f.waiver.source,
            }
        result["suppressions"] = [suppression]
    return result


def write_sarif(report: Report, root: Path | None, out: BinaryIO) -> None:
    """The report as one SARIF run; `root` is the directory file URIs are made relative to."""
    rules = list(report.rules)
    known = {r.id for r in rules}
    for f in report.findings:  # a finding whose rule the report does not describe still gets a rule entry
        if f.rule_id not in known:
            known.add(f.rule_id)
            rules.append(RuleInfo(f.rule_id, f.title, f.category, f.severity, f.docs, f.remediation, f.title))
    rules.sort(key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    chosen = [f for f in report.not_passing if f.status in _RESULT_STATUSES]
    ranked = sorted(chosen, key=lambda f: (f.status is Status.WAIVED, -f.severity.rank))[:MAX_RESULTS]
    kept = {id(f) for f in ranked}
    results = [_result(f, index, root) for f in chosen if id(f) in kept]
    notifications = [{"level": "warning", "message": {"text": f"Incomplete audit: {gap}"}} for gap in report.gaps]
    if len(chosen) > len(results):
        notifications.append(
            {
                "level": "warning",
                "message": {
                    "text": f"{len(chosen) - len(results)} lower-severity results left out: code scanning keeps {MAX_RESULTS}."
                },
            }
        )
    invocation: dict[str, Any] = {
        "executionSuccessful": report.complete,
        "endTimeUtc": report.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "aoai-auditor",
                "fullName": "Azure OpenAI deployment preflight and compatibility auditor",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "informationUri": _TOOL_URI,
                "rules": [_rule(r) for r in rules],
                "properties": {"ruleset": report.ruleset, "knowledgeChecked": report.knowledge_checked},
            }
        },
        "automationDetails": {"id": "aoai-auditor/"},
        "originalUriBaseIds": {
            "AZURE_RESOURCE": {
                "uri": "https://management.azure.com/",
                "description": {"text": "Azure Resource Manager: result paths are ARM resource ids"},
            },
        },
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if root is not None:
        run["originalUriBaseIds"]["SRCROOT"] = {"uri": root.as_uri().rstrip("/") + "/"}
    out.write(
        orjson.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, option=orjson.OPT_INDENT_2) + b"\n"
    )


def render_sarif(report: Report, root: Path | None = None) -> str:
    return text_of(write_sarif, report, root)
