"""Forecast models (versioned, with their fitted state) and stored backtests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class ForecastModel(Base):
    """One trained forecaster. ``state`` is a ``numpy.savez_compressed`` archive (loaded with
    ``allow_pickle=False``) of the training data the features need at forecast time and the
    fitted coefficients; ``parameters`` and ``metrics`` are JSON (see server/forecast)."""

    __tablename__ = "forecast_models"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("training_titles >= 0", name="training_titles_nonnegative"),
        Index(
            "forecast_models_current_idx",
            "is_current",
            unique=True,
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    trained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    cutoff: Mapped[date | None] = mapped_column(Date)
    """Training used chart weeks strictly before this date (None: every week)."""
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    """First and last chart week the training data covers."""
    embedder: Mapped[str] = mapped_column(Text)
    training_titles: Mapped[int] = mapped_column(Integer)
    regions: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONB)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    is_current: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Backtest(Base):
    """A time-split backtest: every method scored on the same post-cutoff titles."""

    __tablename__ = "backtests"
    __table_args__ = (Index("backtests_cutoff_idx", "cutoff"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    cutoff: Mapped[date] = mapped_column(Date)
    embedder: Mapped[str] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    """The model's parameters (as tuned on the pre-cutoff data alone)."""
    methods: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """``[{"method", "baseline", "ndcg10", "precision10", "auc"}]``, the model first."""
    train_titles: Mapped[int] = mapped_column(Integer)
    test_titles: Mapped[int] = mapped_column(Integer)
    regions: Mapped[int] = mapped_column(Integer)
    best_baseline: Mapped[str | None] = mapped_column(Text)
    lift: Mapped[float | None] = mapped_column(Double)
    """Relative NDCG@10 gain of the model over the best baseline (0.15 = +15%)."""
    seconds: Mapped[float] = mapped_column(Double)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
