"""tasks: 月清单 items a unit issues to the units below it (bot/tasks/models.py)

A new table only: existing data is untouched.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "task_item",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("issuer_id", BigId, sa.ForeignKey("branch.id", ondelete="CASCADE"), nullable=False),
        sa.Column("branch_id", BigId, sa.ForeignKey("branch.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("criteria", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("original_due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", BigId, sa.ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=False),
        sa.Column("extension_status", sa.String(length=10), nullable=True),
        sa.Column("extension_due", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.Text(), nullable=False),
        sa.Column("extension_requested_by", BigId, sa.ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
        sa.Column("extension_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extension_decided_by", BigId, sa.ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
        sa.Column("extension_decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.JSON(), nullable=False),
        sa.Column("overdue_reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recurring_key", sa.String(length=60), nullable=True),
        sa.Column("created_by", BigId, sa.ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("branch_id", "seq"),
        sa.UniqueConstraint("branch_id", "recurring_key"),
    )
    op.create_index("ix_task_item_issuer_id", "task_item", ["issuer_id"])
    op.create_index("ix_task_item_branch_id", "task_item", ["branch_id"])
    op.create_index("ix_task_item_status_due", "task_item", ["status", "due"])


def downgrade() -> None:
    op.drop_table("task_item")
