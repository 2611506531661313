"""Migration 0002 creates exactly the tables bot/core/channels/wecom/models.py declares."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.core import db
from bot.core.config import DatabaseConfig
from bot.core.models import Base

WECOM_TABLES = {"wecom_access_token", "wecom_response_url", "wecom_sent_part"}


async def test_migration_matches_the_models(db_url):
    engine = db.create_engine(DatabaseConfig(url=db_url))

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    try:
        async with engine.connect() as conn:
            changes = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) >= WECOM_TABLES
    ours = [c for c in changes if any(t in repr(c) for t in WECOM_TABLES)]
    assert ours == []
