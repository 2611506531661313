"""units: the organisation tree (党委 → 党总支 → 党支部) on the branch table

Every existing branch becomes a 党支部 at the root (kind "branch", no parent, ancestor_path "/"); config.toml's
[[branches]] kind/parent put units under one another when the bot starts (bot/members.py sync_config).

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-01 02:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="branch"))
        batch_op.add_column(sa.Column("parent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.add_column(sa.Column("ancestor_path", sa.String(length=400), nullable=False, server_default="/"))
        batch_op.create_foreign_key("fk_branch_parent_id_branch", "branch", ["parent_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index("ix_branch_parent_id", ["parent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("branch", schema=None) as batch_op:
        batch_op.drop_index("ix_branch_parent_id")
        batch_op.drop_constraint("fk_branch_parent_id_branch", type_="foreignkey")
        batch_op.drop_column("ancestor_path")
        batch_op.drop_column("parent_id")
        batch_op.drop_column("kind")
