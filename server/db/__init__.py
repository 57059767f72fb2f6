from server.db.base import Base, TimestampMixin
from server.db.engine import (
    DatabaseTarget,
    make_async_engine,
    make_async_sessionmaker,
    make_engine,
    make_sessionmaker,
    open_database,
)

__all__ = [
    "Base",
    "DatabaseTarget",
    "TimestampMixin",
    "make_async_engine",
    "make_async_sessionmaker",
    "make_engine",
    "make_sessionmaker",
    "open_database",
]
