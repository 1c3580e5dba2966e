"""Owners (from the configured owner tags) on findings and inventory; observed traffic per deployment and
operation (Azure Monitor's AzureOpenAIRequests, when read).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("owner", sa.String(200)))
    with op.batch_alter_table("inventory") as batch:
        batch.add_column(sa.Column("owner", sa.String(200)))
    op.create_table(
        "observed",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("target_id", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
        sa.Column("operation", sa.String(200), nullable=False),
        sa.Column("calls", sa.Float, nullable=False),
        sa.Column("client_errors", sa.Float),
        sa.Column("server_errors", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("observed")
    with op.batch_alter_table("inventory") as batch:
        batch.drop_column("owner")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("owner")
