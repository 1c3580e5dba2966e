"""The Learn pages' other tables, read with markdown-it-py: the models page (context window, max output, APIs per
model version) and the region matrices (which regions offer each model version, per deployment type).

The docs' source is Markdown in MicrosoftDocs/azure-ai-docs:
- `articles/foundry/openai/includes/models-azure-direct-openai.md`: per model family a table
  `| Model ID | Description | Context Window | Max Output Tokens | Training Data (up to) |`, the id written
  `` `gpt-5.2` (2025-12-11) ``, the context window `400,000<br><br>Input: 272,000<br>Output: 128,000`, the APIs
  named in the description ("Chat Completions API", "Responses API ... only");
- `articles/foundry/openai/includes/model-matrix/<deployment type>.md`: `| **Region** | **gpt-5.2**, **2025-12-11** |
  ...` with a ✅ or - per region;
- `articles/foundry/foundry-models/includes/model-matrix/deployments-standard.md`, where the matrices moved in 2026: a
  section per deployment type (`## Global Standard`, `## Data Zone Standard`), a tab per geography, and a row per
  model version: `| **Model** | **Version** | **brazilsouth** | ... |`. Where a checkout holds both, the newer
  revision states the fact.

Each becomes facts with the page's source key and revision; a cell that does not read is one error naming the
file and line. Applying them is `propose_page_facts`: only facts that change, disagreements recorded as disputes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from auditor.knowledge.schedule import revision_date
from auditor.model.errors import InputError
from auditor.util import inputfile

MODELS_PAGE = "articles/foundry/openai/includes/models-azure-direct-openai.md"
MATRIX_DIR = "articles/foundry/openai/includes/model-matrix"
MATRIX_FACTS = {
    "standard-global.md": "regions_global_standard",
    "datazone-standard.md": "regions_datazone_standard",
    "standard-models.md": "regions_standard",
    "provisioned-global.md": "regions_global_provisioned",
}
"""Region matrix file -> the knowledge-base fact it states (the deployment types the auditor reads)."""
SOURCE_KEYS = {"models": "MS-M2", **dict.fromkeys(MATRIX_FACTS.values(), "MS-G")}
"""The `sources:` key each page is cited under (its revision is compared before anything is applied)."""
DEPLOYMENTS_MATRIX = "articles/foundry/foundry-models/includes/model-matrix/deployments-standard.md"
DEPLOYMENTS_SECTIONS = {
    "global standard": "regions_global_standard",
    "data zone standard": "regions_datazone_standard",
    "standard": "regions_standard",
}
"""The newer matrix file's sections (`## <deployment type>`) -> the fact each states."""
DEPLOYMENTS_SOURCE_KEY = "MS-DS"

_MODELS_HEADER = ("model id", "description", "context window", "max output tokens")
_ID = re.compile(r"^`(?P<model>[^`]+)`\s*\((?P<version>[^)]+)\)")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_MATRIX_COLUMN = re.compile(r"^\*\*(?P<model>[^*]+)\*\*,\s*\*\*(?P<version>[^*]+)\*\*$")
_YES, _NO = "✅", "-"


@dataclass(frozen=True)
class Table:
    """A Markdown table: its header cells and, per body row, the 1-based line and the cells as written."""

    header: tuple[str, ...]
    line: int
    rows: tuple[tuple[int, tuple[str, ...]], ...]


@dataclass(frozen=True)
class ModelRow:
    model: str
    version: str
    context_window: int | None
    max_input_tokens: int | None
    max_output_tokens: int | None
    apis: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Page:
    """One Learn page read: where from, its revision (ms.date), and what it states."""

    origin: str
    published: date | None
    kind: str
    """`models` or the fact a region matrix states (regions_global_standard ...)."""
    models: tuple[ModelRow, ...] = ()
    offered: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    """Region matrix: (model, version) -> the regions that offer it."""
    columns: Mapping[tuple[str, str], int] = field(default_factory=dict)
    source_key: str | None = None
    """The `sources:` key the page is cited under, where it is not its kind's (SOURCE_KEYS)."""

    def key(self, source_keys: Mapping[str, str] = SOURCE_KEYS) -> str:
        return self.source_key or source_keys[self.kind]


def _raw_cells(line: str) -> list[str]:
    """The cells of a table line as written (pipes inside backticks or escaped do not split)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    cells, current, code = [], "", False
    for i, char in enumerate(body):
        if char == "`":
            code = not code
        if char == "|" and not code and (i == 0 or body[i - 1] != "\\"):
            cells.append(current.strip())
            current = ""
            continue
        current += char
    cells.append(current.strip())
    return cells


def tables(text: str, origin: str) -> list[Table]:
    """Every table of the page (markdown-it-py's GFM tables); a body row whose cell count differs from its header's
    is an error naming the file and line (markdown-it would silently pad or cut it)."""
    from markdown_it import MarkdownIt

    lines = text.splitlines()
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    found: list[Table] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type != "table_open" or token.map is None:
            index += 1
            continue
        start, end = token.map
        header = tuple(_raw_cells(lines[start]))
        rows = []
        for number in range(start + 2, end):
            cells = tuple(_raw_cells(lines[number]))
            if len(cells) != len(header):
                raise InputError(
                    f"{origin}:{number + 1}: table row has {len(cells)} cells, the header has {len(header)}: "
                    f"{lines[number].strip()[:120]}"
                )
            rows.append((number + 1, cells))
        found.append(Table(header, start + 1, tuple(rows)))
        index += 1
    return found


def _number(cell: str, origin: str, line: int, what: str) -> int | None:
    text = re.split(r"<br\s*/?>", cell, maxsplit=1)[0].strip()
    if text in ("", "-", "—", "N/A"):
        return None
    match = _NUMBER.fullmatch(text.replace(" ", ""))
    if not match:
        raise InputError(f"{origin}:{line}: {what} must be a number such as 128,000, not {text!r}")
    return int(match.group(0).replace(",", ""))


def _labelled(cell: str, label: str) -> int | None:
    match = re.search(rf"{label}:\s*({_NUMBER.pattern})", cell)
    return int(match.group(1).replace(",", "")) if match else None


def _apis(description: str) -> tuple[str, ...]:
    text = description.casefold()
    apis = []
    if "chat completions api" in text:
        apis.append("chat_completions")
    if "responses api" in text:
        apis.append("responses")
    return tuple(apis)


def parse_models_page(text: str, origin: str) -> Page:
    """The models page's per-version rows (context window, max input and output, APIs)."""
    rows: list[ModelRow] = []
    for table in tables(text, origin):
        header = tuple(c.casefold() for c in table.header)
        if header[: len(_MODELS_HEADER)] != _MODELS_HEADER:
            continue
        for line, cells in table.rows:
            match = _ID.match(cells[0])
            if not match:
                raise InputError(f"{origin}:{line}: the model id must read `name` (version), not {cells[0][:60]!r}")
            rows.append(
                ModelRow(
                    model=match.group("model").strip(),
                    version=match.group("version").strip(),
                    context_window=_number(cells[2], origin, line, "context window"),
                    max_input_tokens=_labelled(cells[2], "Input"),
                    max_output_tokens=_number(cells[3], origin, line, "max output tokens"),
                    apis=_apis(cells[1]),
                    line=line,
                )
            )
    if not rows:
        raise InputError(f"{origin}:1: no model table (| Model ID | Description | Context Window | ...) found")
    return Page(origin, revision_date(_ms_date(text)), "models", models=tuple(rows))


def parse_region_matrix(text: str, origin: str, fact: str) -> Page:
    """A region matrix: per (model, version) column, the regions whose cell is ✅."""
    offered: dict[tuple[str, str], list[str]] = {}
    columns: dict[tuple[str, str], int] = {}
    for table in tables(text, origin):
        if not table.header or table.header[0].strip("* ").casefold() != "region":
            continue
        keys = []
        for cell in table.header[1:]:
            match = _MATRIX_COLUMN.match(cell)
            if not match:
                raise InputError(f"{origin}:{table.line}: a column must read **model**, **version**, not {cell!r}")
            key = (match.group("model").strip(), match.group("version").strip())
            keys.append(key)
            offered.setdefault(key, [])
            columns[key] = table.line
        for line, cells in table.rows:
            region = cells[0].strip()
            for key, cell in zip(keys, cells[1:], strict=True):
                if cell not in (_YES, _NO):
                    raise InputError(f"{origin}:{line}: {region} / {key[0]} {key[1]}: a cell is ✅ or -, not {cell!r}")
                if cell == _YES:
                    offered[key].append(region)
    if not offered:
        raise InputError(f"{origin}:1: no region matrix (| **Region** | **model**, **version** | ...) found")
    return Page(
        origin,
        _matrix_revision(text, offered),
        fact,
        offered={k: tuple(sorted(v)) for k, v in offered.items()},
        columns=columns,
    )


def parse_deployments_matrix(text: str, origin: str) -> list[Page]:
    """The newer matrix file: per section (deployment type), per model-version row, the regions whose cell is ✅ (a
    geography's tab is one table; a version offered in several tabs gathers their regions)."""
    headings = [
        (n + 1, m.group(1).strip().casefold())
        for n, line in enumerate(text.splitlines())
        if (m := re.match(r"^##\s+([^#].*?)\s*$", line))
    ]
    offered: dict[str, dict[tuple[str, str], set[str]]] = {}
    for table in tables(text, origin):
        header = [c.strip("* ").casefold() for c in table.header]
        if header[:2] != ["model", "version"]:
            continue
        section = next((name for line, name in reversed(headings) if line < table.line), None)
        fact = DEPLOYMENTS_SECTIONS.get(section or "")
        if fact is None:
            continue
        regions = [c.strip("* ") for c in table.header[2:]]
        for line, cells in table.rows:
            key = (cells[0].strip(), cells[1].strip())
            found = offered.setdefault(fact, {}).setdefault(key, set())
            for region, cell in zip(regions, cells[2:], strict=True):
                if cell not in (_YES, _NO):
                    raise InputError(f"{origin}:{line}: {key[0]} {key[1]} / {region}: a cell is ✅ or -, not {cell!r}")
                if cell == _YES:
                    found.add(region)
    if not offered:
        raise InputError(f"{origin}:1: no region table (| **Model** | **Version** | **region** | ...) found")
    return [
        Page(
            origin,
            _matrix_revision(text, by_version),
            fact,
            offered={k: tuple(sorted(v)) for k, v in by_version.items()},
            source_key=DEPLOYMENTS_SOURCE_KEY,
        )
        for fact, by_version in offered.items()
    ]


def _matrix_revision(text: str, offered: Mapping[tuple[str, str], object]) -> date | None:
    """A region matrix's revision: its ms.date or its newest dated model version, whichever is later. The matrix
    includes keep the front matter of their first revision (ms.date 01/07/2025 on a table listing 2026 models), so
    the newest column is the better lower bound, and an older matrix is refused against a newer one cited."""
    dates = [revision_date(_ms_date(text)), *(revision_date(version) for _, version in offered)]
    return max((d for d in dates if d is not None), default=None)


def _ms_date(text: str) -> str | None:
    match = re.search(r"(?m)^\s*ms\.date:\s*(\S+)", "\n".join(text.splitlines()[:80]))
    return match.group(1) if match else None


def page_kind(path: Path, text: str) -> str | None:
    """What a docs file holds: `models`, a region matrix's fact, `deployments` (the newer matrix file), or None."""
    if path.name in MATRIX_FACTS and "**Region**" in text:
        return MATRIX_FACTS[path.name]
    if path.name == Path(DEPLOYMENTS_MATRIX).name and "| **Model** | **Version** |" in text:
        return "deployments"
    if re.search(r"(?im)^\|\s*Model ID\s*\|\s*Description\s*\|\s*Context Window", text):
        return "models"
    return None


def read_pages(path: Path, text: str, kind: str) -> list[Page]:
    if kind == "models":
        return [parse_models_page(text, str(path))]
    if kind == "deployments":
        return parse_deployments_matrix(text, str(path))
    return [parse_region_matrix(text, str(path), kind)]


def checkout_pages(root: Path) -> list[Page]:
    """The models page and the region matrices the auditor reads, from a checkout of MicrosoftDocs/azure-ai-docs;
    where two files state the same fact (the old matrix include and the newer matrix file), the newer revision."""
    pages: list[Page] = []
    candidates = [(root / MODELS_PAGE, "models"), (root / DEPLOYMENTS_MATRIX, "deployments")]
    candidates += [(root / MATRIX_DIR / n, f) for n, f in MATRIX_FACTS.items()]
    for path, kind in candidates:
        if path.is_file():
            pages += read_pages(path, inputfile.read_text(path, what="docs page"), kind)  # bounded
    newest: dict[str, Page] = {}
    for page in pages:
        kept = newest.get(page.kind)
        if kept is None or (page.published or date.min) > (kept.published or date.min):
            newest[page.kind] = page
    return [p for p in pages if newest[p.kind] is p]


@dataclass
class FactChange:
    """A fact the pages state differently from the knowledge base."""

    model: str
    key: str
    old: Any
    new: dict[str, Any]


def _merge_by_version(values: Mapping[str, int | None], existing: Any) -> Any:
    """Per-version numbers as the knowledge base writes them: {default: N} (by_version where versions differ),
    keeping the existing value's by_sku limits (per deployment type), which the models page does not state."""
    known = {v: n for v, n in values.items() if n is not None}
    if not known:
        return None
    default = Counter(known.values()).most_common(1)[0][0]
    value: dict[str, Any] = {"default": default}
    others = {v: n for v, n in sorted(known.items()) if n != default}
    if others:
        value["by_version"] = others
    if isinstance(existing, Mapping) and existing.get("by_sku"):
        value["by_sku"] = dict(existing["by_sku"])
    return value


def _as_plain_or_versions(values: Mapping[str, int | None], existing: Any) -> Any:
    """max_output_tokens: a number when every version agrees (as the knowledge base writes it), else per version."""
    merged = _merge_by_version(values, existing)
    if merged is None:
        return None
    if isinstance(existing, Mapping) or set(merged) != {"default"}:
        return merged
    return merged["default"]


def _region_values(page: Page, model: str) -> dict[str, Any]:
    """A region matrix's regions for a model: every region that offers any of its versions."""
    if not any(name == model for name, _ in page.offered):
        return {}
    return {page.kind: sorted({r for (name, _), found in page.offered.items() if name == model for r in found})}


def _model_values(page: Page, model: str, facts: Mapping[str, Any]) -> dict[str, Any]:
    """What one page states about one model, as knowledge-base values."""
    if page.kind != "models":
        return _region_values(page, model)
    rows = [r for r in page.models if r.model == model]
    current = {key: (facts.get(key) or {}).get("value") for key in ("context_window", "max_output_tokens", "apis")}
    values: dict[str, Any] = {
        "context_window": _merge_by_version({r.version: r.context_window for r in rows}, current["context_window"]),
        "max_output_tokens": _as_plain_or_versions(
            {r.version: r.max_output_tokens for r in rows}, current["max_output_tokens"]
        ),
    }
    inputs = {r.max_input_tokens for r in rows if r.max_input_tokens is not None}
    if len(inputs) == 1 and "max_input_tokens" in facts:
        values["max_input_tokens"] = inputs.pop()
    stated = {api for r in rows for api in r.apis}
    if stated:
        kept = [a for a in (current["apis"] or []) if a not in ("chat_completions", "responses")]
        values["apis"] = [a for a in ("chat_completions", "responses") if a in stated] + kept
    return {k: v for k, v in values.items() if v is not None}


def _duplicates(page: Page, model: str) -> list[str]:
    """Rows of the same version that disagree (the page states two values: recorded, not resolved)."""
    seen: dict[str, ModelRow] = {}
    notes = []
    for row in page.models:
        if row.model != model:
            continue
        first = seen.setdefault(row.version, row)
        if first is not row and (first.context_window, first.max_output_tokens) != (
            row.context_window,
            row.max_output_tokens,
        ):
            notes.append(f"{model} {row.version} is listed at lines {first.line} and {row.line} with different limits")
    return notes


def _other_pages(old: Mapping[str, Any], key: str, page: Page, sources: Mapping[str, Any]) -> list[str]:
    """The sources of the old value that are other pages (not an earlier revision of this one, not this key)."""
    name = Path(page.origin).name
    return [
        s for s in old.get("sources") or [] if s != key and name not in str((sources.get(s) or {}).get("ref") or "")
    ]


def propose_page_facts(
    document: Mapping[str, Any], pages: Sequence[Page], checked: date, source_keys: Mapping[str, str] = SOURCE_KEYS
) -> tuple[list[FactChange], list[str]]:
    """The facts the pages change (only known models), each citing its page's source key and the check date; where
    the old value came from another page, the change records that as a dispute (not silently resolved)."""
    models = document.get("models") or {}
    sources = document.get("sources") or {}
    changes: list[FactChange] = []
    notes: list[str] = []
    for page in pages:
        key = page.key(source_keys)
        named = {r.model for r in page.models} | {name for name, _ in page.offered}
        for model in sorted(named):
            if model not in models:
                notes.append(f"{page.origin}: {model} is not in the knowledge base (not added from this page)")
                continue
            facts = (models[model] or {}).get("facts") or {}
            duplicates = _duplicates(page, model)
            for fact, value in _model_values(page, model, facts).items():
                old = facts.get(fact) or {}
                if old.get("value") == value and not duplicates:
                    continue
                new: dict[str, Any] = {"value": value, "sources": [key], "checked": checked}
                others = _other_pages(old, key, page, sources)
                if "value" in old and old.get("value") != value and others:
                    new["disputed"] = (
                        f"{', '.join(others)} stated {old.get('value')!r}; {key} ({page.origin}) states this"
                    )
                if duplicates:
                    new["disputed"] = "; ".join(duplicates)
                changes.append(FactChange(model, fact, old.get("value"), new))
    return changes, notes


def describe(changes: Iterable[FactChange]) -> list[str]:
    return [f"{c.model} {c.key}: {c.old!r} -> {c.new['value']!r}" for c in changes]
