"""Fuzz-style tests of every input-file reader: a few hundred malformed documents each, generated from a
valid seed by a seeded mutator (so a failure reproduces), must each either load or be refused with an
InputError naming the file and line (exit 2), never another exception, within a time and memory bound.
A sample of the refused ones goes through the real command line, which must exit 2 with one line."""

from __future__ import annotations

import json
import random
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.cli import main
from auditor.model.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = 200
PER_DOCUMENT_SECONDS = 2.0
PER_DOCUMENT_BYTES = 64 * 1024 * 1024
CLI_SAMPLE = 1
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

WAIVERS = """\
waivers:
  - rule: AOAI-LIFE-004
    target: "contoso-ai-swc/*"
    reason: migration booked for sprint 48
    owner: platform-team@contoso.com
    expires: 2026-12-31
  - category: security
    target: "*"
    reason: accepted
    owner: sec@contoso.com
    expires: 2027-01-31
"""

HOSTILE_TOKENS = (
    "\x00", "\x1b[31m", "2099-13-45", "1e999", "9" * 5000, "&a ", "*a", "*nope", "!!python/object:os.system ",
    "{", "[", "]", "}", ":", "- ", "\t", "'", '"', "~", "null", "<<: *a\n", "%YAML 1.1\n", "---\n", "...\n",
    "? ", "!!binary ", "&a [*a, *a]", "\\ud800", "\u2028", "#", "|\n", ">-\n", "@", "`", ",",
)  # fmt: skip
HOSTILE_VALUES: tuple[Any, ...] = (
    None, "", [], {}, 0, -1, 10**30, 1e308, True, "2099-13-45", "x" * 10_000, "[concat(", "[int('x')]",
    "[format('{9}')]", "\x1b]0;t\x07", [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]], {"a": {"b": {"c": None}}},
    "9" * 5000, "\u202e", -1e308,
)  # fmt: skip


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_nodes(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_nodes(item, (*path, index)))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    if isinstance(value, list):
        return [(_replace(v, rest, new) if i == head else v) for i, v in enumerate(value)]
    return value  # an earlier replacement already cut this path short


def _plain(text: str, kind: str) -> Any:
    """The seed as plain data (ARM templates may carry // comments, which the plan reader skips)."""
    if kind == "yaml":
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    from auditor.sources.plan import _JsonReader

    return json.loads(json.dumps(_JsonReader(text, Path("seed")).read()))


def _mutants(seed_text: str, kind: str, seed: int) -> list[bytes]:
    """`DOCUMENTS` documents: half mutated as text (cuts, deletions, hostile tokens, shuffled lines, bad
    bytes), half as structure (a node replaced by a hostile value, then written back as YAML or JSON)."""
    rng = random.Random(seed)
    document = _plain(seed_text, kind)
    paths = _nodes(document)
    out: list[bytes] = []
    while len(out) < DOCUMENTS:
        text = seed_text
        if len(out) % 2 == 0:
            for _ in range(rng.randint(1, 3)):
                choice = rng.randrange(6)
                at = rng.randrange(len(text) + 1)
                if choice == 0:
                    text = text[:at]
                elif choice == 1:
                    text = text[:at] + text[at + rng.randint(1, 40) :]
                elif choice == 2:
                    text = text[:at] + rng.choice(HOSTILE_TOKENS) + text[at:]
                elif choice == 3:
                    lines = text.splitlines(keepends=True)
                    if len(lines) > 1:
                        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                        lines[i], lines[j] = lines[j], lines[i]
                    text = "".join(lines)
                elif choice == 4:
                    lines = text.splitlines(keepends=True)
                    i = rng.randrange(len(lines))
                    text = "".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
                else:
                    raw = text.encode("utf-8", "surrogateescape")
                    out_bytes = raw[:at] + bytes([rng.choice([0xFF, 0xC3, 0x80, 0xED])]) + raw[at:]
                    text = out_bytes.decode("utf-8", "surrogateescape")
            out.append(text.encode("utf-8", "surrogateescape"))
        else:
            mutated = document
            for _ in range(rng.randint(1, 3)):
                mutated = _replace(mutated, rng.choice(paths), rng.choice(HOSTILE_VALUES))
            if kind == "json":
                out.append(json.dumps(mutated, indent=2, ensure_ascii=False).encode("utf-8", "surrogatepass"))
            else:
                dumped = yaml.dump(mutated, Dumper=_DUMPER, allow_unicode=True, sort_keys=False)
                out.append(dumped.encode("utf-8", "surrogatepass"))
    return out


def _reader(name: str) -> Callable[[Path], object]:
    if name == "contract":
        from auditor.sources.contract import load_contract_document

        return lambda path: load_contract_document(path, {})
    if name.startswith("plan"):
        from auditor.sources.plan import load_plan

        return load_plan
    if name == "waivers":
        from auditor.engine.rules import load_rules
        from auditor.gating.waivers import load_waivers

        known = {r.id: str(r.category) for r in load_rules()}
        return lambda path: load_waivers(path, known)
    if name == "baseline":
        from auditor.gating.drift import load_baseline

        return load_baseline
    from auditor.engine.rules import load_rule_file

    return load_rule_file


def _seed(name: str) -> tuple[str, str, str]:
    """(text, kind, suffix) of a valid document for the reader."""
    if name == "contract":
        return (ROOT / "auditor" / "demo" / "contract.yaml").read_text(), "yaml", ".yaml"
    if name == "plan-yaml":
        return (ROOT / "tests" / "fixtures" / "plans" / "deployments.yaml").read_text(), "yaml", ".yaml"
    if name == "plan-arm":
        return (ROOT / "tests" / "fixtures" / "plans" / "arm-template.json").read_text(), "json", ".json"
    if name == "plan-terraform":
        return (ROOT / "tests" / "fixtures" / "plans" / "terraform-plan.json").read_text(), "json", ".json"
    if name == "waivers":
        return WAIVERS, "yaml", ".yaml"
    if name == "baseline":
        from auditor.render.json_report import render_json
        from tests.hostile.test_summary_md import hostile_report

        return render_json(hostile_report()), "json", ".json"
    return (ROOT / "rules" / "builtin" / "quota.yaml").read_text(), "yaml", ".yaml"


CLI_FLAGS = {
    "contract": lambda p: ["--contract", str(p), "--plan", str(p)],
    "plan-yaml": lambda p: ["--plan", str(p)],
    "plan-arm": lambda p: ["--plan", str(p)],
    "plan-terraform": lambda p: ["--plan", str(p)],
    "waivers": lambda p: ["--waivers", str(p), "--all"],
    "baseline": lambda p: ["--baseline", str(p), "--all"],
    "rules": lambda p: ["--rules", str(p.parent), "--all"],
}


@pytest.mark.parametrize("reader", sorted(CLI_FLAGS))
def test_generated_malformed_documents(reader: str, tmp_path: Path, capsys) -> None:
    load = _reader(reader)
    text, kind, suffix = _seed(reader)
    load_path = tmp_path / f"seed{suffix}"
    load_path.write_text(text, encoding="utf-8")
    load(load_path)  # the seed itself is valid
    refused: list[Path] = []
    slowest, heaviest = 0.0, 0
    tracemalloc.start()
    try:
        for index, data in enumerate(_mutants(text, kind, seed=sum(map(ord, reader)))):
            path = tmp_path / f"doc{index:03d}" / f"input{suffix}"
            path.parent.mkdir()
            path.write_bytes(data)
            tracemalloc.reset_peak()
            started = time.perf_counter()
            try:
                load(path)
            except InputError as exc:
                message = str(exc)
                assert message.startswith(f"{path}:"), f"document {index}: {message}"
                line = message[len(f"{path}:") :].split(":", 1)[0]
                assert line.isdigit(), f"document {index}: no line in {message!r}"
                refused.append(path)
            except Exception as exc:  # pragma: no cover - this is the failure being hunted
                pytest.fail(f"document {index} ({path}) crashed the {reader} reader: {type(exc).__name__}: {exc}")
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            slowest, heaviest = max(slowest, elapsed), max(heaviest, peak)
            assert elapsed < PER_DOCUMENT_SECONDS, f"document {index} took {elapsed:.2f} s"
            assert peak < PER_DOCUMENT_BYTES, f"document {index} peaked at {peak / 1e6:.0f} MB"
    finally:
        tracemalloc.stop()
    assert len(refused) > DOCUMENTS // 4, "the mutator hardly produced malformed documents"
    for path in refused[:CLI_SAMPLE]:
        code = main([*CLI_FLAGS[reader](path), "--out", str(tmp_path / "out"), "--quiet"])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and f"{path}:" in err, err
    print(f"{reader}: {DOCUMENTS} documents, {len(refused)} refused, slowest {slowest * 1000:.0f} ms, "
          f"peak {heaviest / 1e6:.1f} MB")  # fmt: skip
