"""`audit contract scan` on a generated app of ~100,000 lines (400 modules in the shapes real apps use:
settings classes, per-host branches, wrappers, keyword dicts, frameworks). Target: under 3 s on a 2-core
machine, memory bounded by the largest file (two passes: only per-module summaries are kept).

    python -m tests.benchmarks.bench_scan [--modules 400] [--keep DIR]

Prints seconds (the fastest of --repeat runs), lines, calls and peak memory (ru_maxrss) and writes tests/benchmarks/results/scan-latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

_MODULE = '''\
"""Generated module {i}."""

import os

from openai import AzureOpenAI, OpenAI

from .settings_{s} import settings

API_HOST = os.getenv("API_HOST", "azure")
if API_HOST == "azure":
    client = AzureOpenAI(api_version="2024-10-21", azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"])
    MODEL_{i} = os.environ["AZURE_OPENAI_CHAT_DEPLOYMENT_{i}"]
else:
    client = OpenAI()
    MODEL_{i} = os.environ["OPENAI_MODEL"]


def complete_{i}(model, **kwargs):
    return client.chat.completions.create(model=model, messages=[], **kwargs)


class Service{i}:
    def __init__(self):
        self.deployment = os.getenv("SERVICE_{i}_DEPLOYMENT", "svc-{i}")

    def run(self, text):
        params = {{"model": MODEL_{i}, "temperature": 0.2}}
        params["stream"] = True
        client.chat.completions.create(**params, messages=[{{"role": "user", "content": text}}])
        client.responses.create(model=self.deployment, input=text, reasoning={{"effort": "low"}})
        client.embeddings.create(model=settings.embedding, input=text)
        return complete_{i}("wrapped-{i}", temperature=0.7)
'''
_FILLER = """

def helper_{i}_{j}(values):
    total = 0
    for value in values:
        if value % 2:
            total += value * {j}
        else:
            total -= value
    return {{"total": total, "count": len(values), "name": "helper-{i}-{j}"}}
"""
_SETTINGS = """\
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AZURE_OPENAI_")
    embedding: str = "embed-{s}"


settings = Settings()
"""


def generate(root: Path, modules: int) -> int:
    package = root / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    lines = 0
    for s in range(max(1, modules // 20)):
        text = _SETTINGS.format(s=s)
        (package / f"settings_{s}.py").write_text(text)
        lines += text.count("\n")
    for i in range(modules):
        text = _MODULE.format(i=i, s=i % max(1, modules // 20)) + "".join(_FILLER.format(i=i, j=j) for j in range(20))
        (package / f"module_{i}.py").write_text(text)
        lines += text.count("\n")
    return lines


def main(argv: list[str] | None = None) -> int:
    from auditor.sources.scan import scan

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=int, default=400)
    parser.add_argument("--out", type=Path, default=RESULTS / "scan-latest.json")
    parser.add_argument("--repeat", type=int, default=3, help="scans of the same tree; the fastest is reported")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as directory:
        lines = generate(Path(directory), args.modules)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        runs = []
        for _ in range(max(1, args.repeat)):
            start = time.perf_counter()
            cpu = time.process_time()
            result = scan(Path(directory) / "app")
            runs.append((time.perf_counter() - start, time.process_time() - cpu))
        seconds, cpu = min(runs)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    resolved = sum(1 for c in result.calls if c.deployment)
    figures = {
        "lines": lines,
        "modules": args.modules,
        "seconds": round(seconds, 2),
        "all_runs_seconds": [round(wall, 2) for wall, _ in runs],
        "cpu_seconds": round(cpu, 2),  # less sensitive than wall time to other work on a shared machine
        "load_average": round(os.getloadavg()[0], 2),
        "lines_per_second": round(lines / seconds),
        "calls": len(result.calls),
        "resolved": resolved,
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_growth_mb": round((peak - before) / 1024, 1),
    }
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
