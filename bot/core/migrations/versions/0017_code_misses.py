"""code_misses: wrong 签到码 per member and meeting, on the roll call entry (bot/meetings/domain.py)

One column added in place with a server default of 0: existing entries have no wrong codes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, never by rebuilding the table (batch mode): see 0014.
    op.add_column("roll_call_entry", sa.Column("code_misses", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("roll_call_entry", "code_misses")
