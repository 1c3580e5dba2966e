"""Reading the fleet and probing it at once, on one pool and within one deadline (the run's --timeout)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from auditor.knowledge.base import KnowledgeBase
from auditor.model.facts import CollectionGap, Facts
from auditor.pipeline.audit import AuditOptions, Progress, gather_facts
from auditor.pipeline.gaps import RUN_TARGET
from auditor.probes import ProbeOptions
from auditor.sources.azure import AzureEnumerator
from auditor.util.deadline import Deadline

if TYPE_CHECKING:
    from auditor.model.clouds import Cloud


def _warm_up_probes(credential: object, cloud: object) -> None:
    """Best effort: a failure here shows up, properly classified, when the probes run."""
    try:
        import openai  # noqa: F401

        credential.get_token(cloud.cognitive_scope)  # type: ignore[attr-defined]
    except Exception:
        return


def gather_and_probe(
    enumerator: AzureEnumerator,
    options: AuditOptions,
    probe: ProbeOptions,
    credential: object,
    cloud: Cloud,
    connection_verify: str | bool,
    kb: KnowledgeBase,
    today: date,
    progress: Progress | None,
) -> Facts:
    """Reads and probes on one pool of `--concurrency` workers: an account's probes start as soon as its
    deployments and region are read, behind the reads already queued, so the bound holds for both."""
    from auditor.probes.runner import ProbeRunner, ProbeSession

    runner = ProbeRunner(credential=credential, cloud=cloud, options=probe, connection_verify=connection_verify)
    deadline = Deadline(options.timeout)
    pool = ThreadPoolExecutor(max_workers=max(1, options.concurrency), thread_name_prefix="audit")
    try:
        # The openai SDK's import and the data-plane token while ARM is being read, not after; on the pool, so
        # the token request counts against --concurrency like every other call.
        pool.submit(_warm_up_probes, credential, cloud)
        session = ProbeSession(runner, kb, today, probe, pool, progress)
        facts = gather_facts(
            enumerator, options, pool=pool, progress=progress, on_account=session.offer, deadline=deadline
        )
        probes, spent = session.finish(facts, deadline)
        if deadline.expired and any("--timeout" in n or "interrupted" in n for n in spent.not_probed):
            facts = replace(facts, gaps=(*facts.gaps, CollectionGap(RUN_TARGET, deadline.reason("live probes were"))))
    finally:
        pool.shutdown(wait=not deadline.expired, cancel_futures=True)
        if not deadline.expired:
            runner.close()
    return replace(facts, probes=probes, probe_summary=spent)
