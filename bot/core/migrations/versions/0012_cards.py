"""outbox: the card (buttons or choices) a message carries, for channels that show template cards

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: existing rows (and every row without buttons) carry no card. In place, never a batch rebuild: on
    # SQLite a rebuild drops the table, and its DROP cascades to rows that reference the outbox (wecom_sent_part).
    op.add_column("outbox", sa.Column("card", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "card")  # SQLite ≥ 3.35 drops a column in place
