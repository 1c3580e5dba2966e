"""The first store: runs, their non-passing findings and per-run counts, inventory, scheduled changes, quota and
resolutions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _run_ref() -> sa.Column[int]:
    return sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True)


def _target_ref() -> sa.Column[int]:
    return sa.Column("target_id", sa.Integer, sa.ForeignKey("targets.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
        sa.Column("scope", sa.String(500), nullable=False, index=True),
        sa.Column("generated_at", sa.String(40), nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("tool_version", sa.String(60), nullable=False),
        sa.Column("ruleset", sa.String(20), nullable=False),
        sa.Column("knowledge_checked", sa.String(20)),
        sa.Column("shard", sa.String(40)),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("accounts", sa.Integer, nullable=False),
        sa.Column("unread_accounts", sa.Integer, nullable=False),
        sa.Column("deployments", sa.Integer, nullable=False),
        sa.Column("new_failing", sa.Integer),
        sa.Column("resolved_failing", sa.Integer),
        sa.Column("quota_max_percent", sa.Float),
        sa.Column("quota_over_80", sa.Integer, nullable=False),
        sa.Column("gaps", sa.Text),
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("parent_id", sa.Integer, nullable=False),
        sa.Column("leaf", sa.String(1000), nullable=False),
        sa.UniqueConstraint("parent_id", "leaf"),
    )
    op.create_table(
        "findings",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("identity", sa.BigInteger, nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        _target_ref(),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("first_run", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "identity"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "run_counts",
        _run_ref(),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "run_models",
        _run_ref(),
        sa.Column("family", sa.String(200)),
        sa.Column("model_name", sa.String(200)),
        sa.Column("model_version", sa.String(100)),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "inventory",
        _run_ref(),
        _target_ref(),
        sa.Column("model_name", sa.String(200)),
        sa.Column("model_version", sa.String(100)),
        sa.Column("sku_name", sa.String(100)),
        sa.Column("sku_capacity", sa.Integer),
    )
    op.create_table(
        "scheduled_changes",
        _run_ref(),
        _target_ref(),
        sa.Column("date", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("model_name", sa.String(200)),
        sa.Column("model_version", sa.String(100)),
        sa.Column("replacement", sa.String(200)),
    )
    op.create_table(
        "quota",
        _run_ref(),
        sa.Column("subscription_id", sa.String(100), nullable=False),
        sa.Column("location", sa.String(100), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("current", sa.Float, nullable=False),
        sa.Column("limit", sa.Float, nullable=False),
        sa.Column("percent", sa.Float, nullable=False),
    )
    op.create_table(
        "resolutions",
        _run_ref(),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("first_seen", sa.String(40), nullable=False),
        sa.Column("resolved_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "resolutions",
        "quota",
        "scheduled_changes",
        "inventory",
        "run_models",
        "run_counts",
        "findings",
        "targets",
        "runs",
    ):
        op.drop_table(table)
