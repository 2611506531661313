"""units: the organisation tree (党委 → 党总支 → 党支部) on the branch table

Every existing branch becomes a 党支部 at the root (kind "branch", no parent, ancestor_path "/"); config.toml's
[[branches]] kind/parent put units under one another when the bot starts (bot/core/members.py sync_config).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 02:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns are added in place, never by rebuilding the table (batch mode): on SQLite a rebuild drops the old
    # table, and with foreign keys on, that implicit DELETE would cascade to every member, chat and roll call.
    # The parent reference has no ON DELETE action: SQLite reflects none from a column's inline REFERENCES, and
    # a unit with units below it is not to be deleted anyway.
    op.add_column("branch", sa.Column("kind", sa.String(length=20), nullable=False, server_default="branch"))
    op.add_column("branch", sa.Column("ancestor_path", sa.String(length=400), nullable=False, server_default="/"))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE branch ADD COLUMN parent_id INTEGER REFERENCES branch (id)")
    else:
        op.add_column("branch", sa.Column("parent_id", sa.BigInteger(), nullable=True))
        op.create_foreign_key("fk_branch_parent_id_branch", "branch", "branch", ["parent_id"], ["id"])
    op.create_index("ix_branch_parent_id", "branch", ["parent_id"], unique=False)


def downgrade() -> None:
    # In place as well (SQLite 3.35+ drops columns without a rebuild).
    op.drop_index("ix_branch_parent_id", table_name="branch")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_branch_parent_id_branch", "branch", type_="foreignkey")
    op.drop_column("branch", "parent_id")
    op.drop_column("branch", "ancestor_path")
    op.drop_column("branch", "kind")
