"""outbox: an index for the order-per-target check (an earlier undelivered row to the same target)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 01:30:00
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_target_status", "outbox", ["channel", "target_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_target_status", table_name="outbox")
