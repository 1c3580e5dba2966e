"""`audit kb refresh --from-docs`: the retirement schedule, applied to the knowledge-base file as a reviewed change.

The knowledge base is hand-written YAML with comments, so the change is made on its text: each model's
`retirement:` (and `fine_tuned_retirement:`) block is rewritten from the schedule, its `versions:` list extended,
models the schedule's Azure OpenAI table adds are appended, and every fact the schedule confirms gets the new
check date. Blocks whose value does not change keep their comments, so a second run over the same page is a no-op.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from auditor.knowledge.learn_tables import FactChange, Page, describe, propose_page_facts
from auditor.knowledge.schedule import FineTunedRow, Schedule, ScheduleRow, parse_schedule, revision_date
from auditor.model.errors import InputError
from auditor.util import inputfile

SCHEDULE_PATHS = (
    "articles/foundry/openai/includes/concepts-model-retirement-schedule-content.md",
    "articles/foundry/openai/concepts/model-retirement-schedule.md",
)
"""Where the schedule lives in a checkout of MicrosoftDocs/azure-ai-docs (the include holds the tables)."""

ADDED_PUBLISHERS = ("Azure OpenAI",)
"""Tables whose models are added to the knowledge base when missing; other publishers' rows only update."""

_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class RefreshResult:
    """The proposed file and what changed, for review before `--write`."""

    old_text: str
    new_text: str
    path: str
    dates_moved: list[str] = field(default_factory=list)
    stages_changed: list[str] = field(default_factory=list)
    replacements_changed: list[str] = field(default_factory=list)
    versions_added: list[str] = field(default_factory=list)
    models_added: list[str] = field(default_factory=list)
    rechecked: int = 0
    untracked: int = 0
    warnings: list[str] = field(default_factory=list)
    revisions: tuple[str, str] | None = None
    """(the revision the knowledge base cites, the revision of the source read), for the diff's header."""
    source_update: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Sources whose cited revision the refresh moves forward (written to the overlay with the facts)."""
    facts: list[FactChange] = field(default_factory=list)
    """Facts the models page and region matrices change (written to the overlay; not a text edit)."""

    def diff(self) -> str:
        cites, read = self.revisions or ("", "")
        return "".join(
            difflib.unified_diff(
                self.old_text.splitlines(keepends=True),
                self.new_text.splitlines(keepends=True),
                fromfile=f"{self.path} ({cites})" if cites else self.path,
                tofile=f"{self.path} (refreshed from {read})" if read else f"{self.path} (refreshed)",
            )
        )

    def summary(self) -> str:
        parts = [
            f"retirement facts re-checked: {self.rechecked}",
            f"dates moved: {len(self.dates_moved)}",
            f"stages changed: {len(self.stages_changed)}",
            f"replacements changed: {len(self.replacements_changed)}",
            f"versions added: {len(self.versions_added)}",
            f"models added: {len(self.models_added)}",
            f"facts changed from the models page and region matrices: {len(self.facts)}",
            f"rows for models the knowledge base does not track: {self.untracked}",
        ]
        lines = ["summary: " + "; ".join(parts)]
        if self.revisions:
            lines.append(f"revisions: the knowledge base cites {self.revisions[0]}; read {self.revisions[1]}")
        for title, items in (
            ("date moved", self.dates_moved),
            ("stage changed", self.stages_changed),
            ("replacement changed", self.replacements_changed),
            ("version added", self.versions_added),
            ("fact changed", describe(self.facts)),
            ("model added (fill in family and facts)", self.models_added),
            ("warning", self.warnings),
        ):
            lines.extend(f"  {title}: {item}" for item in items)
        return "\n".join(lines) + "\n"

    @property
    def changed(self) -> bool:
        return self.new_text != self.old_text or bool(self.facts)


def read_docs(where: str) -> tuple[str | None, str, list[Page]]:
    """What `--from-docs` names: a checkout of MicrosoftDocs/azure-ai-docs (the retirement schedule, the models page
    and the region matrices in it), one of those files, or an https URL of one. Returns the schedule's markdown
    (None when there is none), its name, and the other pages read."""
    from auditor.knowledge.learn_tables import checkout_pages, page_kind, read_pages

    if where.startswith(("http://", "https://")):
        if not where.startswith("https://"):
            raise InputError(f"--from-docs {where}: only https URLs are read")
        text = inputfile.read_url(where, what="docs page")  # https only, redirects too; size and time bounded
        kind = page_kind(Path(where.rsplit("/", 1)[-1]), text)
        return (None, where, read_pages(Path(where), text, kind)) if kind else (text, where, [])
    path = Path(where)
    if path.is_dir():
        pages = checkout_pages(path)
        schedule = next((path / r for r in SCHEDULE_PATHS if (path / r).is_file()), None)
        if schedule is None and not pages:
            raise InputError(f"--from-docs {where}: no {SCHEDULE_PATHS[0]} under this directory")
        return (_read(schedule) if schedule else None), str(schedule or path), pages
    text = _read(path)
    kind = page_kind(path, text)
    return (None, str(path), read_pages(path, text, kind)) if kind else (text, str(path), [])


def _read(path: Path) -> str:
    return inputfile.read_text(path, what="docs page")  # the bounded reader: no FIFO, no /dev/zero


def _load(text: str, path: str) -> Any:
    from auditor.util.yamlfile import parse_yaml  # the one bounded loader (errors name file and line)

    return parse_yaml(text, source=path, what="knowledge base")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text if _PLAIN.fullmatch(text) and text not in ("null", "true", "false") else json.dumps(text)


def _flow(mapping: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in mapping.items()) + "}"


def _block(
    name: str, value: Mapping[str, Mapping[str, Any]], sources: list[str], checked: date, extra: list[str]
) -> list[str]:
    lines = [f"      {name}:\n", "        value:\n"]
    lines += [f"          {json.dumps(version)}: {_flow(entry)}\n" for version, entry in value.items()]
    lines.append(f"        sources: [{', '.join(sources)}]\n")
    lines.append(f"        checked: {checked.isoformat()}\n")
    lines += extra
    return lines


@dataclass
class _Model:
    name: str
    start: int
    end: int


def _models(lines: list[str]) -> tuple[int, list[_Model]]:
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "models:"), None)
    if start is None:
        raise InputError("the knowledge base has no top-level `models:` line")
    found: list[_Model] = []
    end = len(lines)
    for i in range(start + 1, len(lines)):
        line = lines[i]
        if line[:1] not in (" ", "\n", "#", ""):
            end = i
            break
        match = re.match(r"^  ([^\s#][^:]*):\s*(#.*)?$", line)
        if match:
            found.append(_Model(match.group(1).strip().strip('"'), i, end))
    for index, model in enumerate(found):
        model.end = found[index + 1].start if index + 1 < len(found) else end
        while model.end > model.start + 1 and (
            not lines[model.end - 1].strip() or lines[model.end - 1].startswith("  #")
        ):
            model.end -= 1
    return end, found


def _fact_span(lines: list[str], model: _Model, name: str) -> tuple[int, int, int] | None:
    """(first comment line, header line, end) of a fact block inside a model, or None."""
    for i in range(model.start, model.end):
        if re.match(rf"^      {re.escape(name)}:", lines[i]):
            end = i + 1
            while end < model.end and (lines[end].startswith("        ") or lines[end].startswith("       #")):
                end += 1
            first = i
            while first - 1 > model.start and lines[first - 1].startswith("      #"):
                first -= 1
            return first, i, end
    return None


def _rows_by_model(schedule: Schedule, warnings: list[str]) -> dict[str, dict[str, ScheduleRow]]:
    by_model: dict[str, dict[str, ScheduleRow]] = {}
    for row in schedule.rows:
        if not _PLAIN.fullmatch(row.model) or len(row.model) > 100:  # a name becomes a YAML key: plain names only
            warnings.append(f"{schedule.origin}:{row.line}: {row.model[:100]!r} is not a model name; row skipped")
            continue
        versions = by_model.setdefault(row.model, {})
        key = row.version or "*"
        if key in versions:
            first = versions[key]
            warnings.append(
                f"{schedule.origin}:{row.line}: {row.model} {key} is listed again (retires {row.retires}, "
                f"{row.stage}); line {first.line} (retires {first.retires}) is kept"
            )
            continue
        versions[key] = row
    return by_model


def _dispute(source_key: str, duplicates: list[str]) -> str:
    return f"{source_key} lists some versions twice: " + "; ".join(duplicates) + " (the first row of each is recorded)"


def _entry(row: ScheduleRow) -> dict[str, Any]:
    return {"retires": row.retires, "replacement": row.replacement, "status": row.stage}


def _duplicates(schedule: Schedule, model: str) -> list[str]:
    seen: dict[str, ScheduleRow] = {}
    notes = []
    for row in schedule.rows:
        if row.model != model:
            continue
        key = row.version or "*"
        if key in seen:
            notes.append(f"{key} retires {seen[key].retires} and {row.retires}")
        else:
            seen[key] = row
    return notes


def refresh_from_schedule(
    kb_text: str,
    schedule: Schedule,
    source_key: str,
    checked: date,
    path: str = "models.yaml",
    *,
    only_changes: bool = False,
) -> RefreshResult:
    """Apply the schedule to the knowledge-base text; nothing is written here.

    With `only_changes` (a source that is not the schedule itself, such as the live catalog) facts it agrees
    with are left as they are, and a changed fact keeps its other sources."""
    document = _load(kb_text, path)
    if not isinstance(document, Mapping) or not isinstance(document.get("models"), Mapping):
        raise InputError(f"{path}:1: a knowledge base needs a `models` mapping")
    result = RefreshResult(old_text=kb_text, new_text=kb_text, path=path)
    rows = _rows_by_model(schedule, result.warnings)
    lines = kb_text.splitlines(keepends=True)
    _, spans = _models(lines)
    known = {m.name for m in spans}
    result.untracked = sum(len(v) for name, v in rows.items() if name not in known and not _added(v))
    edit = _Edit(lines, schedule, source_key, checked, result, only_changes)
    for model in sorted(spans, key=lambda m: m.start, reverse=True):  # bottom-up: earlier lines stay valid
        edit.model(model, rows.get(model.name), document["models"].get(model.name) or {})
    added = [(name, versions) for name, versions in rows.items() if name not in known and _added(versions)]
    if added:
        tail = [line for name, versions in added for line in edit.new_model(name, versions)]
        insert_at = _models(lines)[0]  # recomputed: the edits above moved it
        while insert_at > 0 and not lines[insert_at - 1].strip():
            insert_at -= 1
        lines[insert_at:insert_at] = tail
    if not only_changes:
        _bump_checked(lines, checked)
    result.new_text = "".join(lines)
    return result


@dataclass
class _Edit:
    """One refresh's edits of the knowledge-base lines: what every model's edit shares."""

    lines: list[str]
    schedule: Schedule
    source_key: str
    checked: date
    result: RefreshResult
    only_changes: bool

    def model(self, model: _Model, versions: Mapping[str, ScheduleRow] | None, raw: Mapping[str, Any]) -> None:
        ft_rows = [r for r in self.schedule.fine_tuned if r.model == model.name]
        if not versions and not ft_rows:
            return
        facts = raw.get("facts") or {}
        if ft_rows:
            _apply_fine_tuned(
                self.lines,
                model,
                ft_rows,
                facts.get("fine_tuned_retirement"),
                self.source_key,
                self.checked,
                self.result,
            )
        if versions:
            _apply_retirement(self, model, versions, facts.get("retirement"))
            _extend_versions(self.lines, model, list(versions), raw, self.result)

    def new_model(self, name: str, versions: Mapping[str, ScheduleRow]) -> list[str]:
        publisher = "OpenAI" if next(iter(versions.values())).publisher == "Azure OpenAI" else None
        tail = [
            "\n",
            f"  {name}:\n",
            *([f"    publisher: {publisher}\n"] if publisher else []),
            f"    versions: [{', '.join(json.dumps(v) for v in versions if v != '*')}]\n",
            "    facts:\n",
        ]
        value = {v: _entry(r) for v, r in versions.items()}
        duplicates = _duplicates(self.schedule, name)
        extra = [f"        disputed: {json.dumps(_dispute(self.source_key, duplicates))}\n"] if duplicates else []
        self.result.models_added.append(f"{name} ({', '.join(versions)})")
        self.result.rechecked += 1
        return tail + _block("retirement", value, [self.source_key], self.checked, extra)


def _added(versions: Mapping[str, ScheduleRow]) -> bool:
    return any(row.publisher in ADDED_PUBLISHERS for row in versions.values())


def _merged(old: Mapping[str, Any], versions: Mapping[str, ScheduleRow]) -> tuple[dict[str, dict[str, Any]], bool]:
    """The new retirement value: the schedule's rows over the recorded versions; whether some were kept only."""
    value = {
        version: dict(entry) if version not in versions else _entry(versions[version]) for version, entry in old.items()
    }
    value.update({version: _entry(row) for version, row in versions.items() if version not in value})
    return value, any(version not in versions for version in old)


def _note_changes(
    name: str, old: Mapping[str, Any], versions: Mapping[str, ScheduleRow], result: RefreshResult
) -> None:
    for version, row in versions.items():
        before = old.get(version)
        if before is None:
            continue
        label = f"{name} {version}"
        if before.get("retires") != row.retires:
            result.dates_moved.append(f"{label}: {before.get('retires')} -> {row.retires}")
        if before.get("status") != row.stage:
            result.stages_changed.append(f"{label}: {before.get('status')} -> {row.stage}")
        if str(before.get("replacement")) != row.replacement:
            result.replacements_changed.append(f"{label}: {before.get('replacement')} -> {row.replacement}")


def _annotations(edit: _Edit, name: str, raw: Mapping[str, Any], kept_only: bool) -> tuple[list[str], list[str]]:
    """The block's sources and its extra lines (disputed, unverified)."""
    keep_sources = kept_only or edit.only_changes
    sources = list(dict.fromkeys([*(raw.get("sources") or []), edit.source_key] if keep_sources else [edit.source_key]))
    duplicates = _duplicates(edit.schedule, name)
    disputed = _dispute(edit.source_key, duplicates) if duplicates else raw.get("disputed")
    extra = [f"        disputed: {json.dumps(disputed)}\n"] if disputed else []
    if kept_only and raw.get("unverified"):
        extra.append("        unverified: true\n")
    return sources, extra


def _apply_retirement(edit: _Edit, model: _Model, versions: Mapping[str, ScheduleRow], raw: Any) -> None:
    raw = raw if isinstance(raw, Mapping) else {}
    old = {str(k): v for k, v in dict(raw.get("value") or {}).items()}
    if edit.only_changes and all(old.get(v) == _entry(r) for v, r in versions.items()):
        return
    value, kept_only = _merged(old, versions)
    _note_changes(model.name, old, versions, edit.result)
    sources, extra = _annotations(edit, model.name, raw, kept_only)
    edit.result.rechecked += 1
    lines = edit.lines
    span = _fact_span(lines, model, "retirement")
    block = _block("retirement", value, sources, edit.checked, extra)
    if span is None:
        _insert_fact(lines, model, block)
        return
    first, header, end = span
    if value == old:
        lines[header:end] = block  # same value: keep the comments above it
        return
    history = ", ".join(
        f"{v} {old[v].get('retires')} -> {value[v]['retires']}"
        for v in value
        if v in old and old[v].get("retires") != value[v]["retires"]
    )
    published = edit.schedule.published or "undated"
    comment = [f"      # Moved by {edit.source_key} ({published}): {history}.\n"] if history else []
    lines[first:end] = comment + block


def _apply_fine_tuned(
    lines: list[str],
    model: _Model,
    rows: list[FineTunedRow],
    raw: Any,
    source_key: str,
    checked: date,
    result: RefreshResult,
) -> None:
    value = {
        r.version: {"training_no_earlier_than": r.training_no_earlier_than, "deployment_retires": r.deployment_retires}
        for r in rows
    }
    old = dict((raw or {}).get("value") or {}) if isinstance(raw, Mapping) else {}
    for version, entry in value.items():
        before = old.get(version)
        if before and before.get("deployment_retires") != entry["deployment_retires"]:
            result.dates_moved.append(
                f"{model.name} {version} (fine-tuned deployments): {before.get('deployment_retires')} -> "
                f"{entry['deployment_retires']}"
            )
    result.rechecked += 1
    block = _block("fine_tuned_retirement", value, [source_key], checked, [])
    span = _fact_span(lines, model, "fine_tuned_retirement")
    if span is None:
        after = _fact_span(lines, model, "retirement")
        if after is not None:
            lines[after[2] : after[2]] = block
        else:
            _insert_fact(lines, model, block)
        return
    lines[span[1] : span[2]] = block


def _insert_fact(lines: list[str], model: _Model, block: list[str]) -> None:
    for i in range(model.start, model.end):
        if re.match(r"^    facts:\s*\{\}\s*(#.*)?$", lines[i]):
            lines[i] = "    facts:\n"
            lines[i + 1 : i + 1] = block
            return
        if re.match(r"^    facts:\s*(#.*)?$", lines[i]):
            end = model.end
            lines[end:end] = block
            return
    lines[model.end : model.end] = ["    facts:\n", *block]


def _extend_versions(
    lines: list[str], model: _Model, versions: Iterable[str], raw: Mapping[str, Any], result: RefreshResult
) -> None:
    have = [str(v) for v in raw.get("versions") or []]
    new = [v for v in versions if v != "*" and v not in have]
    if not new:
        return
    for i in range(model.start, model.end):
        match = re.match(r"^    versions:\s*\[.*?\](\s*#.*)?$", lines[i].rstrip("\n"))
        if match:
            lines[i] = f"    versions: [{', '.join(json.dumps(v) for v in [*have, *new])}]{match.group(1) or ''}\n"
            result.versions_added.extend(f"{model.name} {v}" for v in new)
            return
    result.warnings.append(f"{model.name}: versions is not a one-line list; add {', '.join(new)} by hand")


def _bump_checked(lines: list[str], checked: date) -> None:
    for i, line in enumerate(lines):
        if re.match(r"^checked:\s", line):
            lines[i] = f"checked: {checked.isoformat()}\n"
            return


def _check_revision(
    origin: str, page: date | None, key: str, sources: Mapping[str, Any], allow_older: bool
) -> date | None:
    """The revision the knowledge base cites for `key`; a page older than it (or undated, against a dated citation)
    is refused unless `allow_older`, so a stale copy can never roll the facts back silently."""
    cited = revision_date((sources.get(key) or {}).get("published"))
    if allow_older or cited is None:
        return cited
    if page is None:
        raise InputError(
            f"{origin}: the page has no ms.date, so its revision cannot be compared with {key} (revision {cited}) "
            "that the knowledge base cites; pass --allow-older to apply it anyway"
        )
    if page < cited:
        raise InputError(
            f"{origin}: this page is revision {page}, older than {key} (revision {cited}) that the knowledge base "
            "cites; applying it would move facts backwards. Use a newer copy, or pass --allow-older"
        )
    return cited


def _advance(
    result: RefreshResult, key: str, origin: str, page: date | None, cited: date | None, sources: Mapping[str, Any]
) -> None:
    """A newer page moves the cited revision forward (in the overlay), so the next refresh compares with it."""
    if page is not None and (cited is None or page > cited):
        result.source_update[key] = {
            **dict(sources.get(key) or {"title": f"Microsoft Learn ({Path(origin).name})"}),
            "ref": origin if origin.startswith("https://") else Path(origin).name,
            "published": page,
        }
        result.warnings.append(f"source {key}: revision {cited or 'undated'} -> {page}")


def refresh_from_docs(
    kb_path: Path,
    where: str,
    source_key: str,
    checked: date,
    *,
    sources: Mapping[str, Any] | None = None,
    allow_older: bool = False,
) -> RefreshResult:
    """Read the Learn pages at `where` and propose the knowledge-base change (the caller decides to write it): the
    retirement schedule as a text change, the models page's and region matrices' facts as fact changes. Each page's
    revision (ms.date) is compared with the one the knowledge base cites (in `sources`, the layered knowledge
    base's, else the file's) before anything is applied."""
    text, origin, pages = read_docs(where)
    kb_text = _read(kb_path)
    document = _load(kb_text, str(kb_path))
    cited_sources = sources if sources is not None else ((document or {}).get("sources") or {})
    result = RefreshResult(old_text=kb_text, new_text=kb_text, path=str(kb_path))
    if text is not None:
        schedule = parse_schedule(text, origin)
        if source_key not in cited_sources:
            raise InputError(
                f"{kb_path}: add the source {source_key!r} (title, ref to {origin}, published) under `sources:` "
                "first, or pass --source-key with an existing one"
            )
        cited = _check_revision(origin, schedule.revision, source_key, cited_sources, allow_older)
        result = refresh_from_schedule(kb_text, schedule, source_key, checked, str(kb_path))
        result.revisions = (
            f"{source_key} revision {cited or 'undated'}",
            f"{origin} revision {schedule.revision or 'undated'}",
        )
        _advance(result, source_key, origin, schedule.revision, cited, cited_sources)
    for page in pages:
        key = page.key()
        cited = _check_revision(page.origin, page.published, key, cited_sources, allow_older)
        _advance(result, key, page.origin, page.published, cited, cited_sources)
    if pages:
        result.facts, notes = propose_page_facts(document, pages, checked)
        result.warnings.extend(notes)
    return result
