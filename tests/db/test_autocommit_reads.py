"""API queries read in autocommit (one round trip per statement, no BEGIN / ROLLBACK);
mutations keep one transaction for the whole request."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from server.app import AppState
from server.config import Settings

TXID = text("SELECT txid_current()")


async def _two_txids(session: AsyncSession) -> tuple[int, int]:
    first = (await session.execute(TXID)).scalar_one()
    second = (await session.execute(TXID)).scalar_one()
    return first, second


async def test_queries_autocommit_and_mutations_keep_their_transaction(
    database_url: str, settings: Settings
) -> None:
    state = AppState(database_url, None, settings)
    await state.open()
    try:
        async with state.read_sessions()() as session:
            raw = await (await session.connection()).get_raw_connection()
            assert raw.driver_connection.autocommit  # type: ignore[union-attr]
            first, second = await _two_txids(session)
            assert first != second  # each statement was its own transaction
        async with state.sessions()() as session:
            raw = await (await session.connection()).get_raw_connection()
            assert not raw.driver_connection.autocommit  # type: ignore[union-attr]
            first, second = await _two_txids(session)
            assert first == second
            await session.rollback()
        # the pool is shared: a connection used for a query is transactional again for a write
        async with state.sessions()() as session:
            first, second = await _two_txids(session)
            assert first == second
    finally:
        await state.close()
