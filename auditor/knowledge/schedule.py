"""The Microsoft Learn model retirement schedule, read from its markdown source.

The page (`articles/foundry/openai/concepts/model-retirement-schedule.md`, body in
`articles/foundry/openai/includes/concepts-model-retirement-schedule-content.md` of
MicrosoftDocs/azure-ai-docs) holds one table per publisher under `### <publisher>`:

    | Model | Version | Lifecycle | Retirement date | Replacement |
    | --- | --- | --- | --- | --- |
    | gpt-4.1 | 2025-04-14 | Legacy | 2027-04-14 | — |

and, under `#### Fine-tuned models`, a table of training and deployment retirement dates. Cells use `—` for
"none"; the fine-tuned table marks footnotes as `<sup>1</sup>` (source) or `^1^` (rendered page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from auditor.model.errors import InputError

STAGES = {
    "ga": "GenerallyAvailable",
    "generally available": "GenerallyAvailable",
    "preview": "Preview",
    "legacy": "Legacy",
    "deprecated": "Deprecated",
    "retired": "Retired",
}
"""The schedule's Lifecycle column, as the knowledge base writes it."""

NONE_MARKS = {"—", "–", "-", "", "n/a"}
_SCHEDULE_HEADER = ["model", "version", "lifecycle", "retirement date", "replacement"]
_FINE_TUNED_HEADER = ["model", "version", "training retirement date", "deployment retirement date"]
_FOOTNOTE = re.compile(r"<sup>[^<]*</sup>|\^\d+\^")  # [^<]*, not .*?: linear on 60,000 unclosed <sup>
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class ScheduleRow:
    """One row of a publisher's retirement table."""

    publisher: str
    model: str
    version: str | None
    stage: str
    retires: date | None
    replacement: str  # "none" where the schedule names no replacement
    line: int


@dataclass(frozen=True)
class FineTunedRow:
    """One row of the fine-tuned models table: training and deployment retire separately."""

    model: str
    version: str
    training_no_earlier_than: date | None
    deployment_retires: date | None
    line: int


@dataclass(frozen=True)
class Schedule:
    rows: tuple[ScheduleRow, ...]
    fine_tuned: tuple[FineTunedRow, ...]
    origin: str
    published: str | None  # the page's ms.date, as written

    @property
    def revision(self) -> date | None:
        """The page's ms.date as a date (Learn writes MM/DD/YYYY), None when the page has none."""
        return revision_date(self.published)


def revision_date(text: object) -> date | None:
    """A revision date as Learn's ms.date (MM/DD/YYYY) or a knowledge-base `published:` (a date) gives it."""
    if isinstance(text, date):
        return text
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*", text)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(1)), int(match.group(2)))
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _cells(line: str) -> list[str]:
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|"):
        body = body[:-1]
    return [cell.strip() for cell in body.split("|")]


def _is_separator(cells: list[str]) -> bool:
    return bool(cells) and all(re.fullmatch(r":?-{3,}:?", c) for c in cells)


def _date(cell: str, origin: str, line: int, what: str) -> date | None:
    text = _FOOTNOTE.sub("", cell).strip()
    if text in NONE_MARKS:
        return None
    found = _DATE.search(text)
    if not found:
        raise InputError(f"{origin}:{line}: {what} must be a date (YYYY-MM-DD) or —, not {cell!r}")
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:
        raise InputError(f"{origin}:{line}: {what} {found.group(1)!r} is not a calendar date") from None


def _published(lines: list[str]) -> str | None:
    for line in lines[:80]:
        match = re.match(r"\s*ms\.date:\s*(\S+)", line)
        if match:
            return match.group(1)
    return None


def parse_schedule(text: str, origin: str) -> Schedule:
    """Every retirement row of the page; a table whose rows do not fit its header is an error naming the line."""
    lines = text.splitlines()
    rows: list[ScheduleRow] = []
    fine: list[FineTunedRow] = []
    publisher = ""
    index = 0
    while index < len(lines):
        raw = lines[index]
        heading = re.match(r"\s*(#{2,4})\s+(.*?)\s*$", raw)
        if heading:
            if heading.group(1) != "####":
                publisher = heading.group(2)
            index += 1
            continue
        header = [c.casefold() for c in _cells(raw)] if raw.lstrip().startswith("|") else []
        if header not in (_SCHEDULE_HEADER, _FINE_TUNED_HEADER):
            if raw.lstrip().startswith("|") and header[:2] == ["model", "version"]:
                raise InputError(f"{origin}:{index + 1}: unrecognised retirement table header: {raw.strip()}")
            index += 1
            continue
        if index + 1 >= len(lines) or not _is_separator(_cells(lines[index + 1])):
            raise InputError(f"{origin}:{index + 2}: a table header must be followed by a |---| separator row")
        index += 2
        while index < len(lines) and lines[index].strip():
            line = index + 1
            if not lines[index].lstrip().startswith("|"):
                break
            cells = _cells(lines[index])
            if len(cells) != len(header):
                raise InputError(
                    f"{origin}:{line}: retirement table row has {len(cells)} cells, the header has {len(header)}: "
                    f"{lines[index].strip()}"
                )
            if header == _FINE_TUNED_HEADER:
                fine.append(
                    FineTunedRow(
                        model=cells[0],
                        version=cells[1],
                        training_no_earlier_than=_date(cells[2], origin, line, "training retirement date"),
                        deployment_retires=_date(cells[3], origin, line, "deployment retirement date"),
                        line=line,
                    )
                )
            else:
                stage = STAGES.get(cells[2].casefold())
                if stage is None:
                    raise InputError(
                        f"{origin}:{line}: lifecycle must be one of GA, Preview, Legacy, Deprecated, Retired, "
                        f"not {cells[2]!r}"
                    )
                replacement = _FOOTNOTE.sub("", cells[4]).strip()
                rows.append(
                    ScheduleRow(
                        publisher=publisher,
                        model=cells[0],
                        version=None if cells[1] in NONE_MARKS else cells[1],
                        stage=stage,
                        retires=_date(cells[3], origin, line, "retirement date"),
                        replacement="none" if replacement in NONE_MARKS else replacement,
                        line=line,
                    )
                )
            index += 1
    if not rows:
        raise InputError(
            f"{origin}:1: no retirement table (| Model | Version | Lifecycle | Retirement date | ...) found"
        )
    return Schedule(tuple(rows), tuple(fine), origin, _published(lines))
