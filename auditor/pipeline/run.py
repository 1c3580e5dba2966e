"""`run_audit`: the whole job as one library call, and the one the `audit` command makes.

It owns every input of a run, so the library and the CLI cannot disagree: the rules (built-in, extra
directories, a pinned rule set), the organisation's `--policy` (its rules, and the Azure Monitor reads its
statements need: without them a missing log setting would read as "none" and pass), the waivers and the baseline.
Every input file is read before the first Azure call, so a bad one fails fast (exit 2). Then the I/O half
(gather.py), the pure half (audit.py), and `finish` (waivers, drift, the shard's label).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.pipeline.audit import audit, finish, select_rules
from auditor.pipeline.options import AuditOptions, Progress

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

    from auditor.engine.rules import Rule
    from auditor.gating.drift import Baseline
    from auditor.gating.waivers import Waiver
    from auditor.knowledge.base import KnowledgeBase
    from auditor.model.results import Report


@dataclass(frozen=True)
class RunInputs:
    """A run's files, read and checked: the rules to evaluate, the rules the upgrade impact judges with, the
    waivers and baseline, and the options as the policy needs them (Azure Monitor on when it must be)."""

    options: AuditOptions
    rules: tuple[Rule, ...]
    impact_rules: tuple[Rule, ...]
    waivers: tuple[Waiver, ...] = ()
    baseline: Baseline | None = None


def load_inputs(
    options: AuditOptions, *, rules: Sequence[Rule] | None = None, rule_dirs: Sequence[Path] = ()
) -> RunInputs:
    """Read every input file the options name (rules, policy, waivers, baseline); a bad one is an InputError
    naming file and line. The policy's statements are rules like any other (`--select policy` and `--ignore
    POLICY-...` apply to them; waivers may name them)."""
    from auditor.engine.rules import load_rules

    loaded = list(rules if rules is not None else load_rules(rule_dirs, docs_url=options.docs_url))
    select_rules(loaded, ruleset=options.ruleset)  # a bad --ruleset is exit 2 before the other files are read
    if options.policy is not None:
        from auditor.engine.policy import load_policy

        policy = load_policy(options.policy)
        loaded += policy.rules()
        if policy.needs_monitor:
            options = replace(options, monitor=True)
    impact_rules = select_rules(loaded, ruleset=options.ruleset)
    selected = select_rules(impact_rules, options.select, options.ignore)
    waivers: tuple[Waiver, ...] = ()
    if options.waivers is not None:
        from auditor.gating.waivers import load_waivers

        waivers = load_waivers(options.waivers, {r.id: r.category for r in loaded})
    baseline = None
    if options.baseline is not None:
        from auditor.gating.drift import load_baseline

        baseline = load_baseline(options.baseline)
    return RunInputs(options, tuple(selected), tuple(impact_rules), waivers, baseline)


def run_audit(
    options: AuditOptions,
    *,
    credential: TokenCredential,
    cloud: object | None = None,
    connection_verify: str | bool = True,
    rules: Sequence[Rule] | None = None,
    kb: KnowledgeBase | None = None,
    rule_dirs: Sequence[Path] = (),
    today: date | None = None,
    progress: Progress | None = None,
    inputs: RunInputs | None = None,
) -> Report:
    """Read the inputs, gather facts from Azure, audit them and finish the report: the whole job.

    `inputs`: the files already read by `load_inputs(options, ...)` (the CLI reads them first, so a bad file fails
    before signing in, and it reuses the rules for fixes.patch); then `rules` and `rule_dirs` are not read again."""
    from auditor.knowledge.base import load_knowledge
    from auditor.model.clouds import CLOUDS, Cloud
    from auditor.pipeline.gather import gather

    inputs = inputs or load_inputs(options, rules=rules, rule_dirs=rule_dirs)
    options = inputs.options
    chosen_cloud = cloud if isinstance(cloud, Cloud) else CLOUDS["AzureCloud"]
    kb = kb or load_knowledge(overlay=options.knowledge)
    facts = gather(
        options,
        credential=credential,
        cloud=chosen_cloud,
        connection_verify=connection_verify,
        kb=kb,
        today=today or date.today(),
        progress=progress,
    )
    report = audit(facts, inputs.rules, kb, today=today, what_ifs=options.what_if, impact_rules=inputs.impact_rules)
    if options.shard is not None:  # an empty bucket is a complete shard of zero accounts (merge judges the whole)
        from auditor.gating.merge import EMPTY_SCOPE

        report = replace(report, gaps=tuple(g for g in report.gaps if not g.startswith(EMPTY_SCOPE)))
    return finish(report, waivers=inputs.waivers, baseline=inputs.baseline, today=today, shard=options.shard)
