"""wecom_welcome: AI-bot enter_chat events answered with a welcome (one reply per event); wecom_media_upload:
temporary media uploaded once per content and reused while its media_id is valid

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wecom_welcome",
        sa.Column("msgid", sa.String(128), primary_key=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "wecom_media_upload",
        sa.Column("owner", sa.String(100), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("media_id", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wecom_media_upload")
    op.drop_table("wecom_welcome")
