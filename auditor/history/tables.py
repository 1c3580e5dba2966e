"""The store's tables at the newest schema revision, for reading and writing. The migrations (migrations/versions)
create them; a test holds the two together."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

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
    Column("ref", String(1000), nullable=False, unique=True),
)

findings = Table(
    "findings",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("identity", String(32), nullable=False),
    Column("rule_id", String(100), nullable=False),
    Column("target_id", Integer, ForeignKey("targets.id"), nullable=False),
    Column("category", String(40), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("first_seen", String(40), nullable=False),
    Column("owner", String(200)),
)

inventory = Table(
    "inventory",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("target_id", Integer, ForeignKey("targets.id"), nullable=False),
    Column("model_name", String(200)),
    Column("model_version", String(100)),
    Column("sku_name", String(100)),
    Column("sku_capacity", Integer),
    Column("owner", String(200)),
)

scheduled = Table(
    "scheduled_changes",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("target_id", Integer, ForeignKey("targets.id"), nullable=False),
    Column("date", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("model_name", String(200)),
    Column("model_version", String(100)),
    Column("replacement", String(200)),
)

quota = Table(
    "quota",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
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
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("rule_id", String(100), nullable=False),
    Column("first_seen", String(40), nullable=False),
    Column("resolved_at", String(40), nullable=False),
)

observed = Table(
    "observed",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("target_id", Integer, ForeignKey("targets.id"), nullable=False),
    Column("operation", String(200), nullable=False),
    Column("calls", Float, nullable=False),
    Column("client_errors", Float),
    Column("server_errors", Float),
)
