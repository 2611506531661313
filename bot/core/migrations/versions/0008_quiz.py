"""at most one running 抢答/竞赛 per chat (a partial unique index)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 23:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIVE = "status = 'running' AND mode IN ('rush', 'match')"


def upgrade() -> None:
    # Chats that ran two quizzes at once (the race this index closes) keep the newer one running; the older one
    # is finished, and so are its rounds (nothing may take answers for a finished quiz).
    older = f"{LIVE} AND id NOT IN (SELECT MAX(id) FROM quiz_session WHERE {LIVE} GROUP BY chat_id)"
    op.execute(
        "UPDATE quiz_round SET status = 'closed' "
        f"WHERE status IN ('open', 'pending') AND session_id IN (SELECT id FROM quiz_session WHERE {older})"
    )
    op.execute(f"UPDATE quiz_session SET status = 'finished', finished_at = started_at WHERE {older}")
    op.create_index(
        "uq_quiz_session_live_chat",
        "quiz_session",
        ["chat_id"],
        unique=True,
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_quiz_session_live_chat", table_name="quiz_session")
