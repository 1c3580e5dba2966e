"""The store's tables at the newest schema revision, for reading and writing. The migrations (migrations/versions)
create them; tests/test_history.py holds the two together.

Sized for fleets: a 10,000-deployment run has ~54,000 findings that are not passes. Only those are stored (passes
are counted in run_counts), each as a 16-hex identity, a rule, a target number and two short words; the findings
table is clustered by (run, identity) (SQLite: WITHOUT ROWID), and the trends read per-run aggregates (run_counts,
run_models), never every finding of 90 runs."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _run_ref() -> Column[int]:
    return Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True)


def _target_ref() -> Column[int]:
    return Column("target_id", Integer, ForeignKey("targets.id"), nullable=False)


runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uid", String(36), nullable=False, unique=True),
    Column("scope", String(500), nullable=False, index=True),
    Column("generated_at", String(40), nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("tool_version", String(60), nullable=False),
    Column("ruleset", String(20), nullable=False),
    Column("knowledge_checked", String(20)),
    Column("shard", String(40)),
    Column("complete", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("accounts", Integer, nullable=False),
    Column("unread_accounts", Integer, nullable=False),
    Column("deployments", Integer, nullable=False),
    Column("new_failing", Integer),
    Column("resolved_failing", Integer),
    Column("quota_max_percent", Float),
    Column("quota_over_80", Integer, nullable=False),
    Column("gaps", Text),
)

targets = Table(
    "targets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("parent_id", Integer, nullable=False),
    Column("leaf", String(1000), nullable=False),
    UniqueConstraint("parent_id", "leaf"),
)
"""ARM ids, lower case, stored once across all runs: an account as (0, its id), a deployment as (its account's
row, `deployments/NAME`), so a fleet's 10,000 deployment ids do not each repeat their account's path."""

findings = Table(
    "findings",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("identity", BigInteger, nullable=False),
    Column("rule_id", String(100), nullable=False),
    Column("target_id", Integer, ForeignKey("targets.id"), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("status", String(8), nullable=False),
    Column("first_run", Integer, nullable=False),
    Column("owner", String(200)),
    PrimaryKeyConstraint("run_id", "identity"),
    sqlite_with_rowid=False,
)

run_counts = Table(
    "run_counts",
    metadata,
    _run_ref(),
    Column("status", String(8), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("category", String(40), nullable=False),
    Column("count", Integer, nullable=False),
)

run_models = Table(
    "run_models",
    metadata,
    _run_ref(),
    Column("family", String(200)),
    Column("model_name", String(200)),
    Column("model_version", String(100)),
    Column("count", Integer, nullable=False),
)

inventory = Table(
    "inventory",
    metadata,
    _run_ref(),
    _target_ref(),
    Column("model_name", String(200)),
    Column("model_version", String(100)),
    Column("sku_name", String(100)),
    Column("sku_capacity", Integer),
    Column("owner", String(200)),
)

scheduled = Table(
    "scheduled_changes",
    metadata,
    _run_ref(),
    _target_ref(),
    Column("date", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("model_name", String(200)),
    Column("model_version", String(100)),
    Column("replacement", String(200)),
)

quota = Table(
    "quota",
    metadata,
    _run_ref(),
    Column("subscription_id", String(100), nullable=False),
    Column("location", String(100), nullable=False),
    Column("name", String(300), nullable=False),
    Column("current", Float, nullable=False),
    Column("limit", Float, nullable=False),
    Column("percent", Float, nullable=False),
)

resolutions = Table(
    "resolutions",
    metadata,
    _run_ref(),
    Column("rule_id", String(100), nullable=False),
    Column("first_seen", String(40), nullable=False),
    Column("resolved_at", String(40), nullable=False),
)

observed = Table(
    "observed",
    metadata,
    _run_ref(),
    _target_ref(),
    Column("operation", String(200), nullable=False),
    Column("calls", Float, nullable=False),
    Column("client_errors", Float),
    Column("server_errors", Float),
)
