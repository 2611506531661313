"""media (images the bot sends), and the merge of the WeCom and feature branches

Revision ID: 0006
Revises: 0002, 0005
Create Date: 2026-11-22 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = ("0002", "0005")
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for table in ("outbox", "sim_message"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("media_id", BIG_ID, nullable=True))
            batch_op.create_foreign_key(f"fk_{table}_media_id", "media", ["media_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    for table in ("sim_message", "outbox"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_media_id", type_="foreignkey")
            batch_op.drop_column("media_id")
    op.drop_table("media")
