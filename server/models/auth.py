"""API keys: only a SHA-256 of each key is stored; the key itself is shown once at creation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Enum, Identity, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base
from server.kit.roles import Role


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        # One live key per name; revoked keys keep their row (and name) for the record.
        Index(
            "api_keys_name_live_idx",
            "name",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="api_role", values_callable=lambda e: [m.value for m in e])
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """Hex SHA-256 of the whole key: keys are 256-bit random, so a fast hash is enough."""
    prefix: Mapped[str] = mapped_column(String(16))
    """The key's first characters, shown by `keys list` to tell keys apart."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
