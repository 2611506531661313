"""crosscheck: 互查 rounds, their pairs and findings (bot/tasks/models.py)

New tables only: existing data is untouched.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "crosscheck_round",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("unit_id", BigId, sa.ForeignKey("branch.id", ondelete="CASCADE"), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_by", BigId, sa.ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", BigId, sa.ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("unit_id", "quarter"),
    )
    op.create_index("ix_crosscheck_round_unit_id", "crosscheck_round", ["unit_id"])
    op.create_table(
        "crosscheck_pair",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("round_id", BigId, sa.ForeignKey("crosscheck_round.id", ondelete="CASCADE"), nullable=False),
        sa.Column("reviewer_id", BigId, sa.ForeignKey("branch.id", ondelete="CASCADE"), nullable=False),
        sa.Column("reviewed_id", BigId, sa.ForeignKey("branch.id", ondelete="CASCADE"), nullable=False),
        sa.UniqueConstraint("round_id", "reviewer_id"),
        sa.UniqueConstraint("round_id", "reviewed_id"),
    )
    op.create_index("ix_crosscheck_pair_round_id", "crosscheck_pair", ["round_id"])
    op.create_index("ix_crosscheck_pair_reviewer_id", "crosscheck_pair", ["reviewer_id"])
    op.create_table(
        "crosscheck_finding",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("pair_id", BigId, sa.ForeignKey("crosscheck_pair.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", BigId, sa.ForeignKey("member.id", ondelete="SET NULL"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("task_item_id", BigId, sa.ForeignKey("task_item.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_crosscheck_finding_pair_id", "crosscheck_finding", ["pair_id"])


def downgrade() -> None:
    op.drop_table("crosscheck_finding")
    op.drop_table("crosscheck_pair")
    op.drop_table("crosscheck_round")
