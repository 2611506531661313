"""roll calls, study materials, points ledger

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 21:57:55.028144
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "points_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("branch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("member_id", "source"),
    )
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_points_entry_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_points_entry_member_id"), ["member_id"], unique=False)

    op.create_table(
        "roll_call",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("branch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audience_label", sa.String(length=100), nullable=False),
        sa.Column("party_group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("nudges_sent", sa.Integer(), nullable=False),
        sa.Column("next_nudge_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["member.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["party_group_id"], ["party_group.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("branch_id", "kind", "period_key"),
        sa.UniqueConstraint("branch_id", "kind", "seq"),
    )
    with op.batch_alter_table("roll_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roll_call_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index("ix_roll_call_due", ["status", "next_nudge_at"], unique=False)

    op.create_table(
        "study_material",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("branch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("week_key", sa.String(length=10), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("study_material", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_material_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_study_material_week_key"), ["week_key"], unique=False)

    op.create_table(
        "roll_call_chat",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("roll_call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chat_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["chat_id"], ["chat.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["roll_call_id"], ["roll_call.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("roll_call_id", "chat_id"),
    )
    with op.batch_alter_table("roll_call_chat", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roll_call_chat_roll_call_id"), ["roll_call_id"], unique=False)

    op.create_table(
        "roll_call_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("roll_call_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("tag", sa.String(length=20), nullable=True),
        sa.Column("nudges_received", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["roll_call_id"], ["roll_call.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("roll_call_id", "member_id"),
    )
    with op.batch_alter_table("roll_call_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roll_call_entry_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_roll_call_entry_roll_call_id"), ["roll_call_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("roll_call_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roll_call_entry_roll_call_id"))
        batch_op.drop_index(batch_op.f("ix_roll_call_entry_member_id"))

    op.drop_table("roll_call_entry")
    with op.batch_alter_table("roll_call_chat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roll_call_chat_roll_call_id"))

    op.drop_table("roll_call_chat")
    with op.batch_alter_table("study_material", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_material_week_key"))
        batch_op.drop_index(batch_op.f("ix_study_material_branch_id"))

    op.drop_table("study_material")
    with op.batch_alter_table("roll_call", schema=None) as batch_op:
        batch_op.drop_index("ix_roll_call_due")
        batch_op.drop_index(batch_op.f("ix_roll_call_branch_id"))

    op.drop_table("roll_call")
    with op.batch_alter_table("points_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_entry_member_id"))
        batch_op.drop_index(batch_op.f("ix_points_entry_branch_id"))

    op.drop_table("points_entry")
