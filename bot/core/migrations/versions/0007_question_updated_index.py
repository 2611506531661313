"""index on question.updated_at (the lookup index's freshness check)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 23:05:00
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_updated_at"))
