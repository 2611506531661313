"""wecom: access-token cache, AI-bot response URLs, parts of split messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 22:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "wecom_access_token",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "wecom_response_url",
        sa.Column("id", _ID, nullable=False),
        sa.Column("platform_msg_id", sa.String(length=128), nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("target_id", sa.String(length=128), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform_msg_id"),
    )
    with op.batch_alter_table("wecom_response_url", schema=None) as batch_op:
        batch_op.create_index("ix_wecom_response_url_target", ["target_kind", "target_id", "received_at"], unique=False)
    op.create_table(
        "wecom_sent_part",
        sa.Column("id", _ID, nullable=False),
        sa.Column("outbox_id", _ID, nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outbox_id", "part"),
    )


def downgrade() -> None:
    op.drop_table("wecom_sent_part")
    with op.batch_alter_table("wecom_response_url", schema=None) as batch_op:
        batch_op.drop_index("ix_wecom_response_url_target")
    op.drop_table("wecom_response_url")
    op.drop_table("wecom_access_token")
